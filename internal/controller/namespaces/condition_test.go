package namespaces

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func TestCondition(t *testing.T) {
	tn := testutil.Tenant("acme").Owner("alice").Max(2).Obj()
	tn.Generation = 7
	for _, tc := range []struct {
		name       string
		count      int
		err        error
		wantStatus metav1.ConditionStatus
		wantReason string
		wantMsg    string
	}{
		{"no namespaces tells how to make one", 0, nil, metav1.ConditionTrue, tenancyv1alpha1.ReasonNoNamespaces, "kubectl create namespace acme-NAME"},
		{"in use", 2, nil, metav1.ConditionTrue, tenancyv1alpha1.ReasonApplied, "every namespace is labelled for the tenant (namespaces.max is 2)"},
		{"over the limit after an adoption", 3, nil, metav1.ConditionFalse, tenancyv1alpha1.ReasonOverLimit, "3 namespaces but namespaces.max is 2"},
		{"labelling failed", 1, errors.New("labelling namespace acme-a: boom"), metav1.ConditionFalse, tenancyv1alpha1.ReasonApplyFailed, "acme-a: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Condition(tn, render.Effective(tn, render.DefaultSettings()), tc.count, tc.err)
			if got.Status != tc.wantStatus || got.Reason != tc.wantReason || got.ObservedGeneration != 7 {
				t.Fatalf("condition = %+v, want %s/%s", got, tc.wantStatus, tc.wantReason)
			}
			if !strings.Contains(got.Message, tc.wantMsg) {
				t.Errorf("message %q lacks %q", got.Message, tc.wantMsg)
			}
		})
	}
}
