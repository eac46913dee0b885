package defaults

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	"github.com/bulkhead-dev/bulkhead/internal/testutil/defaultcases"
)

// TestPodCases runs the table of pod defaults shared with the mutating
// policy (see package defaultcases) through Pod, with the parameters the
// controller renders for the table's tenant.
func TestPodCases(t *testing.T) {
	s := render.DefaultSettings()
	rules := render.TenantPolicySpec(render.NewScope(defaultcases.Tenant("df", "df-owner", "df-dev"), []string{"df-app"}, s), render.PolicyInputs{}).Pods
	for _, c := range defaultcases.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			p := testutil.Pod("df-app", "table", defaultcases.Image, c.Edit)
			Pod(p, rules)
			c.Check(t, p, s.SandboxRuntimeClass)
		})
	}
}

// TestPodRuleCases runs the exact cases shared with the mutating policy
// (see package defaultcases) through Pod.
func TestPodRuleCases(t *testing.T) {
	for _, tc := range defaultcases.RuleCases() {
		t.Run(tc.Name, func(t *testing.T) {
			got := tc.In.DeepCopy()
			Pod(got, tc.Rules)
			if diff := cmp.Diff(tc.Want, *got); diff != "" {
				t.Fatalf("Pod (-want +got):\n%s", diff)
			}
		})
	}
}
