package concern

import (
	"context"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestRenamedObjectFollowsTheTenantUntilReplaced: while the ingress policy
// exists only under its old name, the old copy is rendered too, with the
// current spec, so that it keeps isolating as the Tenant says.
func TestRenamedObjectFollowsTheTenantUntilReplaced(t *testing.T) {
	s := render.DefaultSettings()
	tn := testutil.Tenant("acme").Obj()
	sc := render.NewScope(tn, []string{"acme-a"}, s)
	objs := render.Network(sc, nil)
	policy := func(name string) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "acme-a", Name: name,
			Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}}}
	}
	tenants := func(name string) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "acme-a", Name: name}}
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		existing []client.Object
		wantOld  bool
	}{
		{"only the old name exists", []client.Object{policy(render.LegacyIngressPolicy)}, true},
		{"both exist", []client.Object{policy(render.LegacyIngressPolicy), policy(render.IngressPolicy)}, false},
		{"neither exists", nil, false},
		// A tenant's own policy of the old name is not Bulkhead's to keep.
		{"the tenant's own policy has the old name", []client.Object{tenants(render.LegacyIngressPolicy)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.existing...).Build()
			out, err := alsoUnderOtherNames(context.Background(), c, objs)
			if err != nil {
				t.Fatal(err)
			}
			var old, current *networkingv1.NetworkPolicy
			for _, o := range out {
				switch o.GetName() {
				case render.LegacyIngressPolicy:
					old = o.(*networkingv1.NetworkPolicy)
				case render.IngressPolicy:
					current = o.(*networkingv1.NetworkPolicy)
				}
			}
			if (old != nil) != tc.wantOld {
				t.Fatalf("old-named copy rendered %v, want %v", old != nil, tc.wantOld)
			}
			if current == nil {
				t.Fatal("the policy under its current name is not rendered")
			}
			if old != nil && (!equality.Semantic.DeepEqual(old.Spec, current.Spec) || !equality.Semantic.DeepEqual(old.Labels, current.Labels)) {
				t.Errorf("old-named copy differs from the current rendering:\n%+v\n%+v", old, current)
			}
			if len(out) != len(objs)+map[bool]int{true: 1}[tc.wantOld] {
				t.Errorf("rendered %d objects, want %d", len(out), len(objs))
			}
		})
	}
}
