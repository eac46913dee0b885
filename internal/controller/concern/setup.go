package concern

import (
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
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

// Setup registers the controller that c describes with mgr, rendering with
// s: it reconciles Tenants, and is brought back by changes to the objects it
// renders (drift), to namespaces carrying the tenant label (a namespace
// created or released), and to whatever c.Watch adds.
func Setup(mgr ctrl.Manager, s render.Settings, c Concern) error {
	r := &Reconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Settings: s, Concern: c}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("tenant-"+string(c.Name)).
		WithOptions(controller.Options{RateLimiter: RateLimiter()}).
		// Status writes (every concern writes its condition) need no
		// re-render; a spec change or a deletion bumps the generation. A
		// finalizer removed from a deleting Tenant may be the one this
		// concern waits for.
		For(&tenancyv1alpha1.Tenant{}, builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, FinalizerRemovedWhileDeleting()))).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(NamespaceToTenant))
	for _, kind := range c.Kinds {
		b = b.Owns(kind)
	}
	if c.Watch != nil {
		b = c.Watch(b)
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
