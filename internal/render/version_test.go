package render

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

// TestRenderVersion1 pins what the previous release rendered: the upgrade
// test replaces exactly these objects.
func TestRenderVersion1(t *testing.T) {
	v1 := DefaultSettings()
	v1.RenderVersion = RenderVersion1
	for _, tc := range []struct {
		s          Settings
		wantTokens bool
		wantAudit  bool
	}{
		{s: DefaultSettings(), wantTokens: true},
		{s: v1, wantAudit: true},
	} {
		objs := ValidatingPolicies(tc.s)
		var tokens bool
		for _, o := range objs {
			if o.GetName() == TokensPolicy {
				tokens = true
			}
			b, ok := o.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding)
			if !ok || b.Name != ManagedPolicy {
				continue
			}
			audit := len(b.Spec.ValidationActions) == 2 && b.Spec.ValidationActions[1] == admissionregistrationv1.Audit
			if audit != tc.wantAudit {
				t.Errorf("version %d: managed binding actions %v, want audit %v", tc.s.Version(), b.Spec.ValidationActions, tc.wantAudit)
			}
		}
		if tokens != tc.wantTokens {
			t.Errorf("version %d: tokens policy rendered %v, want %v", tc.s.Version(), tokens, tc.wantTokens)
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
