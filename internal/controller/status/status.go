package status

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/tenantstatus"
)

// Concerns are the conditions Ready summarises.
var Concerns = []string{
	tenancyv1alpha1.ConditionNamespacesReady,
	tenancyv1alpha1.ConditionRBACReady,
	tenancyv1alpha1.ConditionQuotaReady,
	tenancyv1alpha1.ConditionNetworkReady,
	tenancyv1alpha1.ConditionAdmissionReady,
	tenancyv1alpha1.ConditionFairnessReady,
	tenancyv1alpha1.ConditionClusterObjectsReady,
}

// Ready is True when every concern condition is True for the current
// generation; otherwise it names what is failing, or says that the
// concerns are still catching up.
func Ready(generation int64, conds []metav1.Condition) metav1.Condition {
	var failing []string
	pending := false
	for _, typ := range Concerns {
		c := meta.FindStatusCondition(conds, typ)
		switch {
		case c == nil || c.ObservedGeneration < generation:
			pending = true
		case c.Status == metav1.ConditionTrue:
		case c.Reason == tenancyv1alpha1.ReasonWaiting:
			// Waiting for another concern's objects is progress, not
			// failure: it clears when they appear.
			pending = true
		default:
			failing = append(failing, fmt.Sprintf("%s (%s: %s)", typ, c.Reason, c.Message))
		}
	}
	out := metav1.Condition{Type: tenancyv1alpha1.ConditionReady, ObservedGeneration: generation}
	switch {
	case len(failing) > 0:
		out.Status, out.Reason = metav1.ConditionFalse, tenancyv1alpha1.ReasonNotReady
		out.Message = "not ready: " + strings.Join(failing, "; ")
	case pending:
		out.Status, out.Reason = metav1.ConditionFalse, tenancyv1alpha1.ReasonProgressing
		// Neither the pending concerns nor their number are in the
		// message: it would change, and cost a status write, as each one
		// catches up. Their own conditions say where each stands.
		out.Message = fmt.Sprintf("the concerns are catching up with generation %d; each one's condition says where it stands. Nothing to do yet: this clears within seconds, and if it stays, the manager is not running (kubectl -n bulkhead-system get pods)", generation)
	default:
		out.Status, out.Reason, out.Message = metav1.ConditionTrue, tenancyv1alpha1.ReasonAllReady, "every concern is applied"
	}
	return out
}

// Frozen is the Frozen condition of t: True while spec.state is Frozen,
// naming who froze it (as the mutating policy recorded it) and how to undo it.
func Frozen(t *tenancyv1alpha1.Tenant) metav1.Condition {
	out := metav1.Condition{Type: tenancyv1alpha1.ConditionFrozen, ObservedGeneration: t.Generation}
	if t.Spec.State != tenancyv1alpha1.TenantFrozen {
		out.Status, out.Reason = metav1.ConditionFalse, tenancyv1alpha1.ReasonActive
		out.Message = "the tenant is active; setting spec.state to Frozen stops it starting anything new without deleting it"
		return out
	}
	by := "by a cluster admin"
	if who := t.Annotations[tenancyv1alpha1.FrozenByAnnotation]; who != "" {
		by = "by " + who
	}
	out.Status, out.Reason = metav1.ConditionTrue, tenancyv1alpha1.ReasonFrozen
	out.Message = "frozen " + by + ": its namespaces admit no new pods, workloads, Services, Ingresses, routes or claims and nothing is scaled up, " +
		"and its owners create no namespaces; what runs keeps running, and deletes and scale-downs still work. Set spec.state to Active to unfreeze"
	return out
}

// Reconciler writes a Tenant's summary status.
type Reconciler struct {
	Client   client.Client
	Settings render.Settings
}

// Reconcile writes one Tenant's summary when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	t := &tenancyv1alpha1.Tenant{}
	if err := r.Client.Get(ctx, req.NamespacedName, t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !t.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	sc, err := concern.LoadScope(ctx, r.Client, t, r.Settings)
	if err != nil {
		return ctrl.Result{}, err
	}
	summary := tenantstatus.Summary{
		Namespaces:   sc.Namespaces,
		NamespaceMax: *sc.Spec.Namespaces.Max,
		Ready:        Ready(t.Generation, t.Status.Conditions),
		Frozen:       ptr.To(Frozen(t)),
	}
	if summary.Ready.Reason == tenancyv1alpha1.ReasonProgressing {
		// A new Tenant's concerns are likely done before "progressing"
		// would be written; until then, no Ready condition says "not yet".
		if wait := tenantstatus.HoldFirstWrite(t, tenancyv1alpha1.ConditionReady, time.Now()); wait > 0 {
			return ctrl.Result{RequeueAfter: wait}, nil
		}
	}
	return ctrl.Result{}, tenantstatus.ApplySummary(ctx, r.Client, t, tenantstatus.Manager("status"), summary)
}

// settle is how long a Tenant's changes gather before the status
// controller summarises them. A new Tenant's concerns report one after the
// other within moments, and its namespaces arrive one by one; summarising
// each would write the status each time, and every write wakes every
// controller watching Tenants. Queued requests for the same Tenant merge.
const settle = 500 * time.Millisecond

// Setup registers the status controller with mgr.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	self := func(_ context.Context, obj client.Object) []ctrl.Request {
		return []ctrl.Request{{NamespacedName: types.NamespacedName{Name: obj.GetName()}}}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("tenant-status").
		Watches(&tenancyv1alpha1.Tenant{}, afterSettling(self)).
		Watches(&corev1.Namespace{}, afterSettling(concern.NamespaceToTenant)).
		Complete(&Reconciler{Client: mgr.GetClient(), Settings: s})
}

// afterSettling enqueues the requests toRequests maps an object to, for
// the object as it was and as it is, each after settle.
func afterSettling(toRequests handler.MapFunc) handler.EventHandler {
	type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]
	add := func(ctx context.Context, q queue, objs ...client.Object) {
		for _, obj := range objs {
			for _, req := range toRequests(ctx, obj) {
				q.AddAfter(req, settle)
			}
		}
	}
	return handler.Funcs{
		CreateFunc:  func(ctx context.Context, e event.CreateEvent, q queue) { add(ctx, q, e.Object) },
		UpdateFunc:  func(ctx context.Context, e event.UpdateEvent, q queue) { add(ctx, q, e.ObjectOld, e.ObjectNew) },
		DeleteFunc:  func(ctx context.Context, e event.DeleteEvent, q queue) { add(ctx, q, e.Object) },
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q queue) { add(ctx, q, e.Object) },
	}
}
