package network

import (
	"testing"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func TestDisabled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tenant *tenancyv1alpha1.Tenant
		want   string
	}{
		{"isolation from the profile", testutil.Tenant("acme").Obj(), ""},
		{"isolation per namespace", testutil.Tenant("acme").NetworkIsolation(tenancyv1alpha1.NetworkNamespace).Obj(), ""},
		{"isolation off", testutil.Tenant("acme").NetworkIsolation(tenancyv1alpha1.NetworkOff).Obj(),
			"network.isolation is Off: no ingress isolation is rendered for this tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := render.DefaultSettings()
			sc := &render.Scope{Tenant: tc.tenant, Spec: render.Effective(tc.tenant, s), Settings: s}
			if got := policies.Disabled(sc); got != tc.want {
				t.Errorf("Disabled = %q, want %q", got, tc.want)
			}
		})
	}
}
