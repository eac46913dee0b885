package tenantstatus

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

var (
	earlier = metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	later   = metav1.NewTime(time.Date(2026, 2, 3, 4, 5, 6, 0, time.FixedZone("CET", 3600)))
)

func rbacReady(status metav1.ConditionStatus, reason, msg string, gen int64, at metav1.Time) metav1.Condition {
	return metav1.Condition{Type: tenancyv1alpha1.ConditionRBACReady, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen, LastTransitionTime: at}
}

func TestConditionPatch(t *testing.T) {
	held := rbacReady(metav1.ConditionTrue, tenancyv1alpha1.ReasonApplied, "fine", 2, earlier)
	for _, tc := range []struct {
		name        string
		held        []metav1.Condition
		cond        metav1.Condition
		wantChanged bool
		want        map[string]any
	}{
		{
			name: "the same condition writes nothing", held: []metav1.Condition{held},
			cond: rbacReady(metav1.ConditionTrue, tenancyv1alpha1.ReasonApplied, "fine", 2, later),
			want: fields("True", "Applied", "fine", 2, "2026-01-02T03:04:05Z"),
		},
		{
			name: "a new generation keeps the transition time", held: []metav1.Condition{held},
			cond:        rbacReady(metav1.ConditionTrue, tenancyv1alpha1.ReasonApplied, "fine", 3, metav1.Time{}),
			wantChanged: true,
			want:        fields("True", "Applied", "fine", 3, "2026-01-02T03:04:05Z"),
		},
		{
			name: "a new status moves the transition time, written in UTC", held: []metav1.Condition{held},
			cond:        rbacReady(metav1.ConditionFalse, tenancyv1alpha1.ReasonApplyFailed, "refused", 2, later),
			wantChanged: true,
			want:        fields("False", "ApplyFailed", "refused", 2, "2026-02-03T03:05:06Z"),
		},
		{
			name:        "a first condition is written",
			cond:        rbacReady(metav1.ConditionTrue, tenancyv1alpha1.ReasonApplied, "fine", 1, earlier),
			wantChanged: true,
			want:        fields("True", "Applied", "fine", 1, "2026-01-02T03:04:05Z"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := testutil.Tenant("acme").Obj()
			tn.Status.Conditions = tc.held
			got, changed := conditionPatch(tn, tc.cond)
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			want := map[string]any{"conditions": []any{tc.want}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("patch (-want +got):\n%s", diff)
			}
		})
	}
}

func fields(status, reason, msg string, gen int64, at string) map[string]any {
	return map[string]any{
		"type": tenancyv1alpha1.ConditionRBACReady, "status": status, "reason": reason, "message": msg,
		"observedGeneration": gen, "lastTransitionTime": at,
	}
}

func TestSummaryPatch(t *testing.T) {
	ready := metav1.Condition{Type: tenancyv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: tenancyv1alpha1.ReasonAllReady, Message: "every concern is applied", ObservedGeneration: 4, LastTransitionTime: earlier}
	settled := func() *tenancyv1alpha1.Tenant {
		tn := testutil.Tenant("acme").Obj()
		tn.Generation = 4
		tn.Status = tenancyv1alpha1.TenantStatus{
			ObservedGeneration: 4, Namespaces: []string{"acme-a", "acme-b"}, NamespaceCount: 2, NamespaceMax: 10,
			Conditions: []metav1.Condition{ready},
		}
		return tn
	}
	summary := Summary{Namespaces: []string{"acme-a", "acme-b"}, NamespaceMax: 10, Ready: ready}
	for _, tc := range []struct {
		name        string
		tenant      func(*tenancyv1alpha1.Tenant)
		summary     func(*Summary)
		wantChanged bool
	}{
		{name: "a settled tenant writes nothing"},
		{name: "a new generation", tenant: func(t *tenancyv1alpha1.Tenant) { t.Generation = 5 }, wantChanged: true},
		{name: "a namespace more", summary: func(s *Summary) { s.Namespaces = append(s.Namespaces, "acme-c") }, wantChanged: true},
		{name: "a count out of step", tenant: func(t *tenancyv1alpha1.Tenant) { t.Status.NamespaceCount = 1 }, wantChanged: true},
		{name: "a new maximum", summary: func(s *Summary) { s.NamespaceMax = 3 }, wantChanged: true},
		{name: "Ready changes", summary: func(s *Summary) { s.Ready.Message = "not yet" }, wantChanged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn, s := settled(), summary
			s.Namespaces = append([]string(nil), summary.Namespaces...)
			if tc.tenant != nil {
				tc.tenant(tn)
			}
			if tc.summary != nil {
				tc.summary(&s)
			}
			if _, changed := summaryPatch(tn, s); changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
		})
	}

	t.Run("no namespaces is an empty list, not an absent one", func(t *testing.T) {
		tn := testutil.Tenant("acme").Obj()
		tn.Generation = 1
		got, changed := summaryPatch(tn, Summary{NamespaceMax: 10, Ready: ready})
		if !changed {
			t.Errorf("changed = false for a tenant with no status")
		}
		want := map[string]any{
			"observedGeneration": int64(1), "namespaces": []any{}, "namespaceCount": int64(0), "namespaceMax": int64(10),
			"conditions": []any{map[string]any{
				"type": tenancyv1alpha1.ConditionReady, "status": "True", "reason": tenancyv1alpha1.ReasonAllReady,
				"message": "every concern is applied", "observedGeneration": int64(4), "lastTransitionTime": "2026-01-02T03:04:05Z",
			}},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("patch (-want +got):\n%s", diff)
		}
	})
}

func TestHoldFirstWrite(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tenant := func(age time.Duration, conds ...metav1.Condition) *tenancyv1alpha1.Tenant {
		tn := testutil.Tenant("acme").Obj()
		tn.Generation = 2
		tn.CreationTimestamp = metav1.NewTime(now.Add(-age))
		tn.Status.Conditions = conds
		return tn
	}
	waiting := func(gen int64) metav1.Condition {
		return metav1.Condition{Type: tenancyv1alpha1.ConditionNetworkReady, Status: metav1.ConditionFalse, Reason: tenancyv1alpha1.ReasonWaiting, ObservedGeneration: gen}
	}
	for _, tc := range []struct {
		name string
		t    *tenancyv1alpha1.Tenant
		want time.Duration
	}{
		{"a new Tenant's first condition waits out the rest of Newborn", tenant(3 * time.Second), Newborn - 3*time.Second},
		{"a condition already written for the generation is never left stale", tenant(3*time.Second, waiting(2)), 0},
		{"one written for an older generation is not current: held", tenant(3*time.Second, waiting(1)), Newborn - 3*time.Second},
		{"past Newborn, written at once", tenant(Newborn), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HoldFirstWrite(tc.t, tenancyv1alpha1.ConditionNetworkReady, now); got != tc.want {
				t.Errorf("HoldFirstWrite = %s, want %s", got, tc.want)
			}
		})
	}
}
