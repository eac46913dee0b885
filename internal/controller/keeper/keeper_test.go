package keeper

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// TestFailureIsSaid: when a kept object cannot be written, the keeper says
// so in the three places operators look, an Event on the object, a metric,
// and a condition on every Tenant, and says so again when it recovers.
func TestFailureIsSaid(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = tenancyv1alpha1.AddToScheme(scheme)
	tenant := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 3}}
	refuse := true
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tenant).WithStatusSubresource(tenant).
		WithInterceptorFuncs(interceptor.Funcs{
			Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				if k, ok := obj.(interface{ GetKind() string }); ok && k.GetKind() == "ClusterRole" && refuse {
					return errors.New("clusterroles is forbidden")
				}
				return c.Apply(ctx, obj, opts...)
			},
			SubResourceApply: func(ctx context.Context, c client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
				// Written as an update of the conditions it carries: what
				// matters here is the condition, not how it is merged.
				raw, err := json.Marshal(obj)
				if err != nil {
					return err
				}
				u := &unstructured.Unstructured{}
				if err := u.UnmarshalJSON(raw); err != nil {
					return err
				}
				conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
				t := &tenancyv1alpha1.Tenant{}
				if err := c.Get(ctx, client.ObjectKey{Name: u.GetName()}, t); err != nil {
					return err
				}
				for _, raw := range conds {
					m := raw.(map[string]any)
					meta.SetStatusCondition(&t.Status.Conditions, metav1.Condition{
						Type: m["type"].(string), Status: metav1.ConditionStatus(m["status"].(string)),
						Reason: m["reason"].(string), Message: m["message"].(string), ObservedGeneration: m["observedGeneration"].(int64),
					})
				}
				return c.Status().Update(ctx, t)
			},
		}).Build()
	recorder := events.NewFakeRecorder(100)
	k := &Keeper{
		Client: c, Recorder: recorder, Settings: render.DefaultSettings(),
		Endpoint: bwebhook.Endpoint{URL: "https://localhost:9443"},
		Secret:   client.ObjectKey{Namespace: "bulkhead-system", Name: SecretName}, Hosts: []string{"localhost"},
	}
	before := value(t, "bulkhead_cluster_object_apply_errors_total", "ClusterRole")

	if _, err := k.Reconcile(context.Background(), ctrl.Request{}); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("Reconcile error = %v, want the refusal", err)
	}
	if got := value(t, "bulkhead_cluster_object_apply_errors_total", "ClusterRole") - before; got != float64(len(render.ClusterRoles(k.Settings))) {
		t.Errorf("bulkhead_cluster_object_apply_errors_total{kind=ClusterRole} rose by %v, want %d", got, len(render.ClusterRoles(k.Settings)))
	}
	if got := value(t, "bulkhead_cluster_objects_ready", ""); got != 0 {
		t.Errorf("bulkhead_cluster_objects_ready = %v, want 0", got)
	}
	if !warned(recorder, "ClusterRole "+render.OwnerClusterRole) {
		t.Errorf("no Warning Event naming ClusterRole %s", render.OwnerClusterRole)
	}
	cond := conditionOf(t, c, "acme")
	if cond.Status != metav1.ConditionFalse || cond.Reason != tenancyv1alpha1.ReasonApplyFailed || cond.ObservedGeneration != 3 ||
		!strings.Contains(cond.Message, "ClusterRole "+render.OwnerClusterRole) {
		t.Errorf("ClusterObjectsReady = %+v, want False ApplyFailed naming the ClusterRole", cond)
	}

	refuse = false
	result, err := k.Reconcile(context.Background(), ctrl.Request{})
	if err != nil {
		t.Fatal(err)
	}
	// The next wake-up is the certificate's renewal, some sixty days out.
	if result.RequeueAfter < 59*24*3600*1e9 {
		t.Errorf("RequeueAfter = %v, want the renewal about 60 days out", result.RequeueAfter)
	}
	if got := value(t, "bulkhead_cluster_objects_ready", ""); got != 1 {
		t.Errorf("bulkhead_cluster_objects_ready = %v, want 1", got)
	}
	if cond := conditionOf(t, c, "acme"); cond.Status != metav1.ConditionTrue || cond.Reason != tenancyv1alpha1.ReasonApplied {
		t.Errorf("ClusterObjectsReady = %+v, want True Applied", cond)
	}
	role := &rbacv1.ClusterRole{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: render.OwnerClusterRole}, role); err != nil {
		t.Errorf("the owner ClusterRole was not applied after recovery: %v", err)
	}
}

func warned(r *events.FakeRecorder, what string) bool {
	for {
		select {
		case e := <-r.Events:
			if strings.HasPrefix(e, "Warning "+ReasonApplyFailed) && strings.Contains(e, what) {
				return true
			}
		default:
			return false
		}
	}
}

func conditionOf(t *testing.T, c client.Client, name string) metav1.Condition {
	t.Helper()
	tn := &tenancyv1alpha1.Tenant{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: name}, tn); err != nil {
		t.Fatal(err)
	}
	cond := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionClusterObjectsReady)
	if cond == nil {
		t.Fatalf("tenant %s has no %s condition", name, tenancyv1alpha1.ConditionClusterObjectsReady)
	}
	return *cond
}

// value reads a metric from the manager's registry, as the metrics
// endpoint would serve it: a counter by its kind label, or the gauge.
func value(t *testing.T, name, kind string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if kind != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != kind) {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
