package observe

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

type answer admission.Response

func (a answer) Handle(context.Context, admission.Request) admission.Response {
	return admission.Response(a)
}

// TestDecisionsCountByRuleAndTellOncePerMinute: a denial is counted under
// the rule its message names and told on the Tenant; the same tenant and
// rule again within the minute is counted but not told; a minute later it
// is told again; allowed requests and dry runs are never told.
func TestDecisionsCountByRuleAndTellOncePerMinute(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = tenancyv1alpha1.AddToScheme(scheme)
	tn := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	rec := events.NewFakeRecorder(10)
	now := time.Unix(1000, 0)
	deny := answer(admission.Denied("tenant acme: namespace dev lacks the prefix acme- [rule namespaces.requirePrefix]. Name it acme-dev"))
	d := &Decisions{Webhook: "test", Handler: deny, Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(tn).Build(),
		Recorder: rec, now: func() time.Time { return now }}
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: metav1.GroupVersionKind{Kind: "Namespace"}, Name: "dev"}}
	counted := func() float64 {
		return testutil.ToFloat64(decisions.WithLabelValues("test", "denied", "namespaces.requirePrefix"))
	}
	before := counted()
	d.Handle(context.Background(), req)
	d.Handle(context.Background(), req)
	if got := counted() - before; got != 2 {
		t.Fatalf("counted %v denials, want 2", got)
	}
	if n := len(rec.Events); n != 1 {
		t.Fatalf("%d Events for two denials within a minute, want 1", n)
	}
	if e := <-rec.Events; !strings.Contains(e, "Warning Denied") || !strings.Contains(e, "[rule namespaces.requirePrefix]") {
		t.Fatalf("Event %q: want a Warning Denied naming the rule", e)
	}
	now = now.Add(2 * time.Minute)
	d.Handle(context.Background(), req)
	if n := len(rec.Events); n != 1 {
		t.Fatalf("%d Events a minute later, want 1", n)
	}
	<-rec.Events
	dry := req
	dry.DryRun = func() *bool { b := true; return &b }()
	now = now.Add(2 * time.Minute)
	d.Handle(context.Background(), dry)
	d.Handler = answer(admission.Allowed(""))
	d.Handle(context.Background(), req)
	if n := len(rec.Events); n != 0 {
		t.Fatalf("%d Events for a dry run and an admission, want none", n)
	}
}

func TestChanges(t *testing.T) {
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason}
	}
	old := &tenancyv1alpha1.Tenant{Status: tenancyv1alpha1.TenantStatus{Conditions: []metav1.Condition{
		cond("Ready", "True", "Ready"), cond("RBACReady", "True", "Applied"), cond("QuotaReady", "False", "ApplyFailed")}}}
	t2 := old.DeepCopy()
	t2.Status.Conditions = []metav1.Condition{
		cond("Ready", "True", "Ready"), cond("RBACReady", "False", "ApplyFailed"), cond("QuotaReady", "False", "Conflict"), cond("Frozen", "True", "FrozenByAdmin")}
	t2.Status.Conditions[0].Message = "only the message changed"
	got := Changes(old, t2)
	want := []string{"RBACReady", "QuotaReady", "Frozen"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Changes = %v, want %v", got, want)
	}
}
