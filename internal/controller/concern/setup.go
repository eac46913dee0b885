package concern

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// SetupWithManager registers the concern's controller: it reconciles Tenants,
// and is brought back by changes to the objects it owns (drift) and to
// namespaces carrying the tenant label (a namespace created or released).
// extra adds concern-specific watches.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, owns []client.Object, extra func(*builder.Builder) *builder.Builder) error {
	b := ctrl.NewControllerManagedBy(mgr).
		Named("tenant-"+string(r.Concern.Name())).
		// Status writes (every concern writes its condition) need no
		// re-render; a spec change or a deletion bumps the generation. A
		// finalizer removed from a deleting Tenant may be the one this
		// concern waits for.
		For(&tenancyv1alpha1.Tenant{}, builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, FinalizerRemovedWhileDeleting()))).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(NamespaceToTenant))
	for _, o := range owns {
		b = b.Owns(o)
	}
	if extra != nil {
		b = extra(b)
	}
	return b.Complete(r)
}

// FinalizerRemovedWhileDeleting passes updates of a deleting Tenant that
// removed a finalizer: concerns finalize after the namespaces controller,
// and its finalizer's removal changes no generation.
func FinalizerRemovedWhileDeleting() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectNew.GetDeletionTimestamp() != nil &&
				len(e.ObjectNew.GetFinalizers()) < len(e.ObjectOld.GetFinalizers())
		},
	}
}
