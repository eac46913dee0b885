package status

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

func cond(typ string, status metav1.ConditionStatus, gen int64, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, ObservedGeneration: gen, Reason: reason, Message: msg}
}

func allTrue(gen int64) []metav1.Condition {
	var out []metav1.Condition
	for _, typ := range Concerns {
		out = append(out, cond(typ, metav1.ConditionTrue, gen, "Applied", ""))
	}
	return out
}

func TestReady(t *testing.T) {
	failing := allTrue(3)
	failing[2] = cond(tenancyv1alpha1.ConditionQuotaReady, metav1.ConditionFalse, 3, "ApplyFailed", "quota refused")
	waiting := allTrue(3)
	waiting[4] = cond(tenancyv1alpha1.ConditionAdmissionReady, metav1.ConditionFalse, 3, tenancyv1alpha1.ReasonWaiting, "waiting for the NetworkPolicies")
	for _, tc := range []struct {
		name       string
		gen        int64
		conds      []metav1.Condition
		wantStatus metav1.ConditionStatus
		wantReason string
		wantMsg    string
	}{
		{"every concern applied", 3, allTrue(3), metav1.ConditionTrue, tenancyv1alpha1.ReasonAllReady, "every concern is applied"},
		{"nothing observed yet", 1, nil, metav1.ConditionFalse, tenancyv1alpha1.ReasonProgressing,
			"the concerns are catching up with generation 1;"},
		{"a concern behind the generation", 4, allTrue(3), metav1.ConditionFalse, tenancyv1alpha1.ReasonProgressing, "the concerns are catching up with generation 4;"},
		{"a concern waiting for another's objects is progress", 3, waiting, metav1.ConditionFalse, tenancyv1alpha1.ReasonProgressing, "the concerns are catching up with generation 3;"},
		{"a concern failing is named with its reason", 3, failing, metav1.ConditionFalse, tenancyv1alpha1.ReasonNotReady,
			"not ready: QuotaReady (ApplyFailed: quota refused)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Ready(tc.gen, tc.conds)
			if got.Type != tenancyv1alpha1.ConditionReady || got.Status != tc.wantStatus || got.Reason != tc.wantReason || got.ObservedGeneration != tc.gen {
				t.Fatalf("Ready = %+v, want %s/%s at generation %d", got, tc.wantStatus, tc.wantReason, tc.gen)
			}
			if len(got.Message) < len(tc.wantMsg) || got.Message[:len(tc.wantMsg)] != tc.wantMsg {
				t.Errorf("message %q does not start with %q", got.Message, tc.wantMsg)
			}
		})
	}
}

// TestProgressingHoldsStillAsConcernsCatchUp: each concern catching up
// would cost a status write if the summary changed with it.
func TestProgressingHoldsStillAsConcernsCatchUp(t *testing.T) {
	first := Ready(2, nil)
	almost := allTrue(2)
	almost[0].ObservedGeneration = 1
	if got := Ready(2, almost); got != first {
		t.Errorf("Ready changed as concerns caught up:\n%+v\n%+v", first, got)
	}
}
