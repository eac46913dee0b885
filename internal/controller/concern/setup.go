package concern

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
		// re-render; a spec change or a deletion bumps the generation.
		For(&tenancyv1alpha1.Tenant{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(NamespaceToTenant))
	for _, o := range owns {
		b = b.Owns(o)
	}
	if extra != nil {
		b = extra(b)
	}
	return b.Complete(r)
}
