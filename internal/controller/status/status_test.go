package status

import (
	"fmt"
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
			fmt.Sprintf("waiting for %d of %[1]d concerns to observe generation 1", len(Concerns))},
		{"a concern behind the generation", 4, allTrue(3), metav1.ConditionFalse, tenancyv1alpha1.ReasonProgressing, fmt.Sprintf("waiting for %d of %[1]d concerns to observe generation 4", len(Concerns))},
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
