package render

import (
	"slices"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestRenderVersion1 pins what render version 1 renders differently: the
// upgrade test replaces exactly these objects. Every version refuses the
// same: TestVersionsRefuseTheSame.
func TestRenderVersion1(t *testing.T) {
	v1 := DefaultSettings()
	v1.RenderVersion = RenderVersion1
	for _, tc := range []struct {
		s          Settings
		wantTokens string
		wantAudit  bool
	}{
		{s: DefaultSettings(), wantTokens: TokensPolicy},
		{s: v1, wantTokens: LegacyTokensPolicy, wantAudit: true},
	} {
		objs := ValidatingPolicies(tc.s)
		var tokens string
		managedBinding := false
		for _, o := range objs {
			if o.GetName() == TokensPolicy || o.GetName() == LegacyTokensPolicy {
				tokens = o.GetName()
			}
			b, ok := o.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding)
			if !ok || b.Name != ManagedPolicy {
				continue
			}
			managedBinding = true
			audit := len(b.Spec.ValidationActions) == 2 && b.Spec.ValidationActions[1] == admissionregistrationv1.Audit
			if audit != tc.wantAudit {
				t.Errorf("version %d: managed binding actions %v, want audit %v", tc.s.Version(), b.Spec.ValidationActions, tc.wantAudit)
			}
		}
		if !managedBinding {
			t.Errorf("version %d: no binding of %s rendered", tc.s.Version(), ManagedPolicy)
		}
		if tokens != tc.wantTokens {
			t.Errorf("version %d: tokens policy rendered as %q, want %q", tc.s.Version(), tokens, tc.wantTokens)
		}
	}
	if got := ingressPolicyName(v1); got != LegacyIngressPolicy {
		t.Errorf("version 1 ingress NetworkPolicy %q, want %q", got, LegacyIngressPolicy)
	}
	if got := ingressPolicyName(DefaultSettings()); got != IngressPolicy {
		t.Errorf("current ingress NetworkPolicy %q, want %q", got, IngressPolicy)
	}
	for _, name := range []string{IngressPolicy, LegacyIngressPolicy} {
		if got := NetworkPolicyNames(name); len(got) != 2 || got[0] != name {
			t.Errorf("NetworkPolicyNames(%q) = %v; want it first and its other name", name, got)
		}
	}
	if got := NetworkPolicyNames(EgressPolicy); len(got) != 1 {
		t.Errorf("NetworkPolicyNames(%q) = %v; it was never renamed", EgressPolicy, got)
	}
}

// TestVersionsRefuseTheSame: render versions differ in names and shape,
// never in what they refuse, so that rolling back to an older one opens
// nothing. Every validation of one version is in the other.
func TestVersionsRefuseTheSame(t *testing.T) {
	v1 := DefaultSettings()
	v1.RenderVersion = RenderVersion1
	expressions := func(s Settings) map[string]bool {
		out := map[string]bool{}
		for _, o := range Policies(s) {
			if p, ok := o.(*admissionregistrationv1.ValidatingAdmissionPolicy); ok {
				for _, v := range p.Spec.Validations {
					out[v.Expression] = true
				}
			}
		}
		return out
	}
	old, current := expressions(v1), expressions(DefaultSettings())
	if len(current) == 0 {
		t.Fatal("no validations rendered")
	}
	for e := range current {
		if !old[e] {
			t.Errorf("render version 1 lacks the validation %q", e)
		}
	}
	for e := range old {
		if !current[e] {
			t.Errorf("the current render version lacks version 1's validation %q", e)
		}
	}
}

// TestOtherNames: a renamed object knows its other version's name, and
// nothing else is renamed.
func TestOtherNames(t *testing.T) {
	np := func(name string) client.Object {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	for _, tc := range []struct {
		obj  client.Object
		want []string
	}{
		{np(IngressPolicy), []string{LegacyIngressPolicy}},
		{np(LegacyIngressPolicy), []string{IngressPolicy}},
		{np(EgressPolicy), nil},
		{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: IngressPolicy}}, nil},
	} {
		if got := OtherNames(tc.obj); !slices.Equal(got, tc.want) {
			t.Errorf("OtherNames(%T %s) = %v, want %v", tc.obj, tc.obj.GetName(), got, tc.want)
		}
	}
}
