package fairness

import (
	"context"
	"fmt"
	"sort"
	"strings"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups=flowcontrol.apiserver.k8s.io,resources=flowschemas;prioritylevelconfigurations,verbs=get;list;watch;create;update;patch;delete

// askingIndex indexes cached Tenants that ask for a priority level of their
// own, under askingValue.
const (
	askingIndex = "spec.apiFairness.dedicated"
	askingValue = "true"
)

func asking(obj client.Object) []string {
	t, ok := obj.(*tenancyv1alpha1.Tenant)
	if !ok {
		return nil
	}
	if shares, off := render.FairnessShares(t.Spec); shares > 0 && !off {
		return []string{askingValue}
	}
	return nil
}

// Setup registers the fairness controller with mgr.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &tenancyv1alpha1.Tenant{}, askingIndex, asking); err != nil {
		return err
	}
	reader := mgr.GetClient()
	c := concern.Concern{
		Name:      render.ConcernFairness,
		Condition: tenancyv1alpha1.ConditionFairnessReady,
		Kinds:     []client.Object{&flowcontrolv1.FlowSchema{}, &flowcontrolv1.PriorityLevelConfiguration{}},
		Render: func(ctx context.Context, r client.Reader, sc *render.Scope) ([]client.Object, error) {
			return renderFairness(ctx, r, sc, s.MaxDedicatedPriorityLevels)
		},
		Disabled: func(sc *render.Scope) string {
			if _, off := render.FairnessShares(sc.Spec); off {
				return "apiFairness.shares is 0: the tenant's requests are classified by the API server's own FlowSchemas, not as one flow of their own"
			}
			return ""
		},
		Watch: func(b *builder.Builder) *builder.Builder {
			// Any Tenant coming, going or changing its shares may move
			// a dedicated level from one tenant to another.
			return b.Watches(&tenancyv1alpha1.Tenant{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []ctrl.Request {
				return askingTenants(ctx, reader, obj)
			}), builder.WithPredicates(sharesMoved()))
		},
	}
	return concern.Setup(mgr, s, c)
}

// renderFairness renders the scope's FlowSchema and, within the cap, its
// own priority level; a tenant past the cap is rendered into the shared
// level and told why.
func renderFairness(ctx context.Context, r client.Reader, sc *render.Scope, maxLevels int) ([]client.Object, error) {
	shares, off := render.FairnessShares(sc.Spec)
	if off || shares == 0 {
		return render.Fairness(sc, false), nil
	}
	list := &tenancyv1alpha1.TenantList{}
	if err := r.List(ctx, list, client.MatchingFields{askingIndex: askingValue}); err != nil {
		return nil, fmt.Errorf("listing tenants with priority levels of their own: %w", err)
	}
	dedicated := render.DedicatedLevels(list.Items, maxLevels)
	if dedicated[sc.Tenant.Name] {
		return render.Fairness(sc, true), nil
	}
	holders := make([]string, 0, len(dedicated))
	for name := range dedicated {
		holders = append(holders, name)
	}
	sort.Strings(holders)
	return render.Fairness(sc, false), &concern.PendingError{
		Reason: tenancyv1alpha1.ReasonLevelCapReached,
		Message: fmt.Sprintf("apiFairness.shares asks for a priority level of the tenant's own, but the cluster's %d dedicated levels are held by older tenants (%s); the tenant is one flow of the shared %s level meanwhile. Raise --max-dedicated-priority-levels, or take shares from a tenant that needs them less",
			maxLevels, strings.Join(holders, ", "), render.TenantsPriorityLevel),
	}
}

// sharesMoved passes the Tenant events that can move a dedicated level: a
// tenant asking for one created or deleted (or starting to be), or a
// change of any tenant's shares.
func sharesMoved() predicate.Predicate {
	asks := func(obj client.Object) bool { return len(asking(obj)) > 0 }
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return asks(e.Object) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return asks(e.Object) },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			if asks(e.ObjectNew) != asks(e.ObjectOld) {
				return true
			}
			return asks(e.ObjectNew) && e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
		},
	}
}

// askingTenants maps a Tenant event to every tenant asking for a level of
// its own: the event may have freed or taken one.
func askingTenants(ctx context.Context, r client.Reader, _ client.Object) []ctrl.Request {
	list := &tenancyv1alpha1.TenantList{}
	if err := r.List(ctx, list, client.MatchingFields{askingIndex: askingValue}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing tenants with priority levels of their own")
		return nil
	}
	out := make([]ctrl.Request, 0, len(list.Items))
	for _, t := range list.Items {
		out = append(out, ctrl.Request{NamespacedName: types.NamespacedName{Name: t.Name}})
	}
	return out
}
