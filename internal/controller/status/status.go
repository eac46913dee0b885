package status

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

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
	tenancyv1alpha1.ConditionClusterObjectsReady,
}

// Ready is True when every concern condition is True for the current
// generation; otherwise it names what is missing, failing or behind.
func Ready(generation int64, conds []metav1.Condition) metav1.Condition {
	var failing, pending []string
	for _, typ := range Concerns {
		c := meta.FindStatusCondition(conds, typ)
		switch {
		case c == nil || c.ObservedGeneration < generation:
			pending = append(pending, typ)
		case c.Status != metav1.ConditionTrue:
			failing = append(failing, fmt.Sprintf("%s (%s: %s)", typ, c.Reason, c.Message))
		}
	}
	out := metav1.Condition{Type: tenancyv1alpha1.ConditionReady, ObservedGeneration: generation}
	switch {
	case len(failing) > 0:
		out.Status, out.Reason = metav1.ConditionFalse, tenancyv1alpha1.ReasonNotReady
		out.Message = "not ready: " + strings.Join(failing, "; ")
	case len(pending) > 0:
		out.Status, out.Reason = metav1.ConditionFalse, tenancyv1alpha1.ReasonProgressing
		// Pending concerns are not listed: the message would change, and
		// cost a status write, as each one catches up. Their own conditions
		// say where each stands.
		out.Message = fmt.Sprintf("waiting for %d of %d concerns to observe generation %d; nothing to do yet: this clears within seconds, and if it stays, the manager is not running (kubectl -n bulkhead-system get pods)", len(pending), len(Concerns), generation)
	default:
		out.Status, out.Reason, out.Message = metav1.ConditionTrue, tenancyv1alpha1.ReasonAllReady, "every concern is applied"
	}
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
	}
	return ctrl.Result{}, tenantstatus.ApplySummary(ctx, r.Client, t, tenantstatus.Manager("status"), summary)
}

// Setup registers the status controller with mgr.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("tenant-status").
		For(&tenancyv1alpha1.Tenant{}).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(concern.NamespaceToTenant)).
		Complete(&Reconciler{Client: mgr.GetClient(), Settings: s})
}
