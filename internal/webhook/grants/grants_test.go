package grants

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// FuzzHandle posts any bytes to the ReferenceGrant webhook: whatever
// arrives, the answer is a well-formed AdmissionReview response and the
// handler never panics.
func FuzzHandle(f *testing.F) {
	kinds := []metav1.GroupVersionKind{{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "ReferenceGrant"}}
	f.Add(false, uint8(0), []byte(`{"metadata":{"name":"g"},"spec":{"from":[{"group":"","kind":"HTTPRoute","namespace":"globex-a"}],"to":[{"group":"","kind":"Service"}]}}`), []byte(nil))
	f.Add(true, uint8(0), []byte(`{`), []byte(nil))
	testutil.FuzzHandler(f, kinds, nil, func(c client.Client) admission.Handler { return &Handler{Client: c} })
}

// TestHandle judges grants from acme-a against the namespaces of acme, of
// globex (which acme's allowFrom names), of initech (which it does not),
// the platform's, and ones that do not exist yet.
func TestHandle(t *testing.T) {
	acme := testutil.Tenant("acme").Owner("alice").AllowFromTenant("globex").Obj()
	world := []runtime.Object{
		acme, testutil.Tenant("globex").Owner("gina").Obj(), testutil.Tenant("initech").Owner("ian").Obj(),
		testutil.Namespace("acme-a").Label(tenancyv1alpha1.TenantLabel, "acme").Obj(),
		testutil.Namespace("acme-b").Label(tenancyv1alpha1.TenantLabel, "acme").Obj(),
		testutil.Namespace("globex-a").Label(tenancyv1alpha1.TenantLabel, "globex").Obj(),
		testutil.Namespace("initech-a").Label(tenancyv1alpha1.TenantLabel, "initech").Obj(),
		// A namespace named like initech's but an admin's: its label decides.
		testutil.Namespace("initech-platform").Obj(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "infra"}},
	}
	c := fake.NewClientBuilder().WithScheme(testutil.FuzzScheme(t)).WithRuntimeObjects(world...).Build()
	h := &Handler{Client: c}
	for _, tc := range []struct {
		from string
		deny bool
	}{
		{"acme-b", false}, {"infra", false}, {"globex-a", false}, {"initech-platform", false},
		{"initech-a", true},
		{"initech-later", true}, // not there yet: initech's prefix
		{"nobody-later", true},  // not there yet, and no prefix says whose
	} {
		t.Run(tc.from, func(t *testing.T) {
			grant := &gatewayv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "acme-a", Name: "g"}}
			grant.Spec.From = []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(tc.from)}}
			grant.Spec.To = []gatewayv1.ReferenceGrantTo{{Kind: "Service"}}
			raw, err := json.Marshal(grant)
			if err != nil {
				t.Fatal(err)
			}
			res := h.Handle(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Operation: admissionv1.Create, Namespace: "acme-a", Object: runtime.RawExtension{Raw: raw},
			}})
			if res.Allowed == tc.deny {
				t.Fatalf("allowed = %v, want %v (%+v)", res.Allowed, !tc.deny, res.Result)
			}
			if tc.deny && !strings.Contains(res.Result.Message, "tenant acme: ") || tc.deny && !strings.Contains(res.Result.Message, "[rule "+Rule+"]") {
				t.Errorf("denial %q names neither the tenant nor the rule", res.Result.Message)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	from := func(namespaces ...string) []gatewayv1.ReferenceGrantFrom {
		var out []gatewayv1.ReferenceGrantFrom
		for _, ns := range namespaces {
			out = append(out, gatewayv1.ReferenceGrantFrom{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(ns)})
		}
		return out
	}
	owners := map[string]string{"acme-b": "acme", "infra": "", "globex-a": "globex", "initech-a": "initech", "later": unknownOwner}
	for _, tc := range []struct {
		name string
		from []gatewayv1.ReferenceGrantFrom
		want string // a part of the denial; "" admitted
	}{
		{"own, the platform's and an allowed tenant's", from("acme-b", "infra", "globex-a"), ""},
		{"another tenant's after allowed ones", from("acme-b", "initech-a"), "namespace initech-a, another tenant's"},
		{"a namespace nobody owns yet", from("later"), "namespace later, which does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide("acme", tc.from, owners, []string{"globex"})
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("Decide = %q, want %q", got, tc.want)
			}
			if got != "" && (!strings.HasPrefix(got, "tenant acme: ") || !strings.Contains(got, "[rule "+Rule+"]")) {
				t.Errorf("denial %q names neither the tenant nor the rule", got)
			}
		})
	}
}
