package posture

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bulkhead-dev/bulkhead/internal/posture"
)

func TestStatusIsSafeUnlessACheckFailsOrErrs(t *testing.T) {
	now := metav1.Now()
	ok := []posture.Result{{ID: "audit-log", Status: posture.Pass, Probe: "p"}, {ID: "anonymous-access", Status: posture.Warn, Probe: "p", Fix: "f"}}
	st := Status(ok, nil, 1, now)
	if c := meta.FindStatusCondition(st.Conditions, ConditionSafe); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("passes and warnings: Safe %+v, want True", c)
	}
	if len(st.Checks) != 2 || st.Checks[1].Fix != "f" || !st.LastCheckTime.Equal(&now) {
		t.Fatalf("checks %+v at %v", st.Checks, st.LastCheckTime)
	}
	bad := append(ok, posture.Result{ID: "encryption-at-rest", Status: posture.Fail, Probe: "p", Evidence: strings.Repeat("x", 2000)})
	st = Status(bad, st.Conditions, 1, now)
	c := meta.FindStatusCondition(st.Conditions, ConditionSafe)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "ChecksFail" || !strings.Contains(c.Message, "encryption-at-rest (FAIL)") {
		t.Fatalf("a failing check: Safe %+v, want False naming it", c)
	}
	if n := len(st.Checks[2].Evidence); n != 1024 {
		t.Fatalf("evidence of %d characters kept, want it clipped to the schema's 1024", n)
	}
}
