package admission

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func networkPolicy(namespace, name string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
}

func scopeOf(t *tenancyv1alpha1.Tenant, namespaces ...string) *render.Scope {
	s := render.DefaultSettings()
	return &render.Scope{Tenant: t, Spec: render.Effective(t, s), Namespaces: namespaces, Settings: s}
}

func reader(t *testing.T, objs ...client.Object) client.Reader {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

func TestNetworkInPlace(t *testing.T) {
	soft := testutil.Tenant("acme").Obj()
	hard := testutil.Tenant("acme").Hard().Obj()
	off := testutil.Tenant("acme").NetworkIsolation(tenancyv1alpha1.NetworkOff).Obj()
	for _, tc := range []struct {
		name     string
		scope    *render.Scope
		existing []client.Object
		want     map[string]bool
	}{
		{
			name:     "a namespace is protected once its ingress and egress policies exist",
			scope:    scopeOf(soft, "acme-a", "acme-b"),
			existing: []client.Object{networkPolicy("acme-a", render.IngressPolicy), networkPolicy("acme-a", render.EgressPolicy), networkPolicy("acme-b", render.IngressPolicy)},
			want:     map[string]bool{"acme-a": true, "acme-b": false},
		},
		{
			name:     "a hard tenant's namespace waits for its egress policy too",
			scope:    scopeOf(hard, "acme-a", "acme-b"),
			existing: []client.Object{networkPolicy("acme-a", render.IngressPolicy), networkPolicy("acme-b", render.IngressPolicy), networkPolicy("acme-b", render.EgressPolicy)},
			want:     map[string]bool{"acme-a": false, "acme-b": true},
		},
		{
			name:  "with isolation off there is nothing to wait for",
			scope: scopeOf(off, "acme-a"),
			want:  map[string]bool{"acme-a": true},
		},
		{
			name:  "no namespaces",
			scope: scopeOf(soft),
			want:  map[string]bool{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := networkInPlace(context.Background(), reader(t, tc.existing...), tc.scope)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("in place (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderPoliciesWaitsForTheNetwork(t *testing.T) {
	sc := scopeOf(testutil.Tenant("acme").Obj(), "acme-a", "acme-b", "acme-c")
	objs, err := renderPolicies(context.Background(), reader(t, networkPolicy("acme-b", render.IngressPolicy), networkPolicy("acme-b", render.EgressPolicy)), sc, false)
	var pending *concern.PendingError
	if !errors.As(err, &pending) {
		t.Fatalf("error = %v, want a PendingError", err)
	}
	if want := "namespaces acme-a, acme-c admit no pods until their NetworkPolicies exist (see NetworkReady)"; pending.Message != want {
		t.Errorf("message = %q, want %q", pending.Message, want)
	}
	got := map[string]bool{}
	for _, o := range objs {
		got[o.GetNamespace()] = o.(*tenancyv1alpha1.TenantPolicy).Spec.Protected
	}
	if diff := cmp.Diff(map[string]bool{"acme-a": false, "acme-b": true, "acme-c": false}, got); diff != "" {
		t.Errorf("protected by namespace (-want +got):\n%s", diff)
	}
}
