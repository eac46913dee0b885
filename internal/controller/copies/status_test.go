package copies

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

func TestStatus(t *testing.T) {
	two := Selection{Tenants: 1, Namespaces: []string{"a-dev", "a-web"}}
	conflict := tenancyv1alpha1.CopyConflict{Kind: tenancyv1alpha1.CopiedSecret, Namespace: "a-web", Name: "tls", HeldBy: HeldByTenant}
	notFound := Problem{Reason: tenancyv1alpha1.ReasonSourceNotFound, Message: "Secret infra/tls does not exist"}
	for _, c := range []struct {
		name        string
		outcome     Outcome
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage []string
	}{
		{name: "every copy in place", outcome: Outcome{Selection: two, InPlace: 2}, wantStatus: metav1.ConditionTrue, wantReason: tenancyv1alpha1.ReasonCopied, wantMessage: []string{"2 copies in place in 2 namespaces"}},
		{name: "nothing selected", outcome: Outcome{Selection: Selection{Tenants: 1}}, wantStatus: metav1.ConditionTrue, wantReason: tenancyv1alpha1.ReasonNothingSelected},
		{
			name:        "a source problem comes first, and the message lists everything",
			outcome:     Outcome{Selection: two, Plan: Plan{Problems: []Problem{notFound}}, Conflicts: []tenancyv1alpha1.CopyConflict{conflict}, Failures: []string{"creating Secret a-dev/x: refused"}},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  tenancyv1alpha1.ReasonSourceNotFound,
			wantMessage: []string{"Secret infra/tls does not exist", "Secret a-web/tls (the tenant's own)", "creating Secret a-dev/x: refused"},
		},
		{
			name:        "a conflict names the object and who holds it",
			outcome:     Outcome{Selection: two, InPlace: 1, Conflicts: []tenancyv1alpha1.CopyConflict{conflict, {Kind: tenancyv1alpha1.CopiedSecret, Namespace: "a-dev", Name: "tls", HeldBy: "other"}}},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  tenancyv1alpha1.ReasonNameConflict,
			wantMessage: []string{"Secret a-dev/tls (a copy for TenantResource other)", "Secret a-web/tls (the tenant's own)", "Rename the resource"},
		},
		{name: "a refused write", outcome: Outcome{Selection: two, Failures: []string{"creating Secret a-dev/x: refused"}}, wantStatus: metav1.ConditionFalse, wantReason: tenancyv1alpha1.ReasonApplyFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := &tenancyv1alpha1.TenantResource{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
			st := Status(tr, c.outcome)
			ready := meta.FindStatusCondition(st.Conditions, tenancyv1alpha1.ConditionReady)
			if ready == nil || ready.Status != c.wantStatus || ready.Reason != c.wantReason || ready.ObservedGeneration != 3 {
				t.Fatalf("Ready = %+v, want %s %s at generation 3", ready, c.wantStatus, c.wantReason)
			}
			for _, w := range c.wantMessage {
				if !strings.Contains(ready.Message, w) {
					t.Errorf("message %q lacks %q", ready.Message, w)
				}
			}
			if st.ObservedGeneration != 3 || int(st.Copies) != c.outcome.InPlace || int(st.Namespaces) != len(c.outcome.Selection.Namespaces) {
				t.Errorf("status figures %+v do not match the outcome", st)
			}
		})
	}
}

func TestStatusConflictsSortedAndBounded(t *testing.T) {
	var conflicts []tenancyv1alpha1.CopyConflict
	for i := 40; i > 0; i-- {
		conflicts = append(conflicts, tenancyv1alpha1.CopyConflict{Kind: tenancyv1alpha1.CopiedSecret, Namespace: fmt.Sprintf("ns-%02d", i), Name: "tls", HeldBy: HeldByTenant})
	}
	st := Status(&tenancyv1alpha1.TenantResource{}, Outcome{Conflicts: conflicts})
	if len(st.Conflicts) != maxConflicts {
		t.Fatalf("%d conflicts in status, want %d", len(st.Conflicts), maxConflicts)
	}
	if diff := cmp.Diff("ns-01", st.Conflicts[0].Namespace); diff != "" {
		t.Errorf("first conflict (-want +got):\n%s", diff)
	}
	if ready := meta.FindStatusCondition(st.Conditions, tenancyv1alpha1.ConditionReady); !strings.Contains(ready.Message, "and 35 more") {
		t.Errorf("message %q does not say how many more", ready.Message)
	}
}
