package concern

import (
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// RateLimiter retries failed reconciles with backoff capped at five
// seconds. Concerns wait on each other through the API server: a
// namespace's RoleBindings and NetworkPolicies are refused until its
// TenantPolicy exists and the API server's admission has seen it. The
// default cap (over sixteen minutes) would let a few refusals in a row
// delay a new namespace's protections by minutes; retrying a small write
// every few seconds costs little.
func RateLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, 5*time.Second),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}

// SetupWithManager registers the concern's controller: it reconciles Tenants,
// and is brought back by changes to the objects it owns (drift) and to
// namespaces carrying the tenant label (a namespace created or released).
// extra adds concern-specific watches.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, owns []client.Object, extra func(*builder.Builder) *builder.Builder) error {
	b := ctrl.NewControllerManagedBy(mgr).
		Named("tenant-"+string(r.Concern.Name())).
		WithOptions(controller.Options{RateLimiter: RateLimiter()}).
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
