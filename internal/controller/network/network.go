package network

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete

// policies describes the network concern: the NetworkPolicies of every
// tenant namespace. Because a tenant's egress must let it reach the tenants
// that allow it in, other Tenants' allowFrom lists bring it back.
var policies = concern.Concern{
	Name:      render.ConcernNetwork,
	Condition: tenancyv1alpha1.ConditionNetworkReady,
	Kinds:     []client.Object{&networkingv1.NetworkPolicy{}},
	Render:    renderPolicies,
	Disabled: func(sc *render.Scope) string {
		if sc.Spec.Network.Isolation == tenancyv1alpha1.NetworkOff {
			return "network.isolation is Off: no ingress isolation is rendered for this tenant"
		}
		return ""
	},
	Watch: func(b *builder.Builder) *builder.Builder {
		return concern.WatchPolicies(b.Watches(&tenancyv1alpha1.Tenant{}, handler.EnqueueRequestsFromMapFunc(allowFromTargets)))
	},
}

// renderPolicies renders the scope's NetworkPolicies, letting its egress
// reach the tenants whose allowFrom names it, holding those of namespaces
// whose TenantPolicy is not there yet.
func renderPolicies(ctx context.Context, r client.Reader, sc *render.Scope) ([]client.Object, error) {
	allowedBy, err := AllowedBy(ctx, r, sc.Tenant.Name)
	if err != nil {
		return nil, err
	}
	return concern.HoldUntilPolicies(ctx, r, sc, render.Network(sc, allowedBy))
}

// allowFromIndex indexes cached Tenants by the tenants their allowFrom names.
const allowFromIndex = "spec.network.allowFrom.tenant"

// allowFromTenants is the value of allowFromIndex for a Tenant.
func allowFromTenants(obj client.Object) []string {
	t, ok := obj.(*tenancyv1alpha1.Tenant)
	if !ok {
		return nil
	}
	var out []string
	for _, a := range t.Spec.Network.AllowFrom {
		if a.Tenant != "" {
			out = append(out, a.Tenant)
		}
	}
	return out
}

// AllowedBy lists the tenants whose network.allowFrom names tenant, through
// an index, so that the cost does not grow with the number of Tenants.
func AllowedBy(ctx context.Context, r client.Reader, tenant string) ([]string, error) {
	list := &tenancyv1alpha1.TenantList{}
	if err := r.List(ctx, list, client.MatchingFields{allowFromIndex: tenant}); err != nil {
		return nil, fmt.Errorf("listing tenants that allow %s: %w", tenant, err)
	}
	out := make([]string, 0, len(list.Items))
	for _, other := range list.Items {
		out = append(out, other.Name)
	}
	return out, nil
}

// allowFromTargets maps a Tenant to the tenants its allowFrom names: their
// egress must follow this tenant's ingress exceptions.
func allowFromTargets(_ context.Context, obj client.Object) []ctrl.Request {
	var out []ctrl.Request
	for _, name := range allowFromTenants(obj) {
		out = append(out, ctrl.Request{NamespacedName: types.NamespacedName{Name: name}})
	}
	return out
}

// Setup registers the network controller with mgr.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &tenancyv1alpha1.Tenant{}, allowFromIndex, allowFromTenants); err != nil {
		return err
	}
	return concern.Setup(mgr, s, policies)
}
