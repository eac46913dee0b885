package network

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete

// Concern renders NetworkPolicies.
type Concern struct{ Settings render.Settings }

// Name implements concern.Concern.
func (Concern) Name() render.Concern { return render.ConcernNetwork }

// Condition implements concern.Concern.
func (Concern) Condition() string { return tenancyv1alpha1.ConditionNetworkReady }

// Kinds implements concern.Concern.
func (Concern) Kinds() []schema.GroupVersionKind {
	return []schema.GroupVersionKind{networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy")}
}

// Render implements concern.Concern.
func (c Concern) Render(ctx context.Context, r client.Reader, t *tenancyv1alpha1.Tenant, namespaces []string) ([]client.Object, error) {
	allowedBy, err := AllowedBy(ctx, r, t.Name)
	if err != nil {
		return nil, err
	}
	return render.Network(t, namespaces, allowedBy, c.Settings), nil
}

// Disabled implements concern.Concern.
func (c Concern) Disabled(t *tenancyv1alpha1.Tenant) string {
	if render.Effective(t, c.Settings).Network.Isolation == tenancyv1alpha1.NetworkOff {
		return "network.isolation is Off: no ingress isolation is rendered for this tenant"
	}
	return ""
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
	r := &concern.Reconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Settings: s, Concern: Concern{Settings: s}}
	return r.SetupWithManager(mgr, []client.Object{&networkingv1.NetworkPolicy{}}, func(b *builder.Builder) *builder.Builder {
		return b.Watches(&tenancyv1alpha1.Tenant{}, handler.EnqueueRequestsFromMapFunc(allowFromTargets))
	})
}
