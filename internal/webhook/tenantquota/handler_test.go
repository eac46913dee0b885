package tenantquota

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/tenantquota"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func raw(obj any) runtime.RawExtension {
	b, _ := json.Marshal(obj)
	return runtime.RawExtension{Raw: b}
}

func claim(size string) runtime.RawExtension {
	return raw(&corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
	}})
}

var (
	pvcKind = metav1.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaim"}
	podKind = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	l       = testutil.Quantities

	widgetKind = metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}
	widgets    = metav1.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
)

func pod(edits ...func(*corev1.Pod)) runtime.RawExtension {
	return raw(testutil.Pod("acme-a", "web", "registry.example.com/app:1", edits...))
}

func TestMeasure(t *testing.T) {
	for _, tc := range []struct {
		name         string
		req          admissionv1.AdmissionRequest
		wantName     string
		want         corev1.ResourceList
		wantNegative []string
	}{
		{"a new claim is one claim and its size",
			admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: pvcKind, Name: "data", Object: claim("5Gi")},
			"data", l("persistentvolumeclaims", "1", "requests.storage", "5Gi"), nil},
		{"an expansion is its increase, under a name of its own",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, Kind: pvcKind, Name: "data", Object: claim("8Gi"), OldObject: claim("5Gi")},
			"data@resize", l("requests.storage", "3Gi"), nil},
		{"an update that does not grow adds nothing",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, Kind: pvcKind, Name: "data", Object: claim("5Gi"), OldObject: claim("5Gi")}, "", nil, nil},
		{"a new pod is what Kubernetes charges it, sidecars included",
			admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: podKind, Name: "web",
				Object: pod(testutil.Resources(l("cpu", "100m"), nil), testutil.Sidecar("proxy", l("cpu", "200m"), nil))},
			"web", l("pods", "1", "requests.cpu", "300m"), nil},
		{"a new pod's forged terminal phase does not make it free",
			admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: podKind, Name: "web",
				Object: pod(testutil.Resources(l("cpu", "100m"), nil), func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })},
			"web", l("pods", "1", "requests.cpu", "100m"), nil},
		{"a pod resized in place is its growth, under a name of its own",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, SubResource: "resize", Kind: podKind, Name: "web",
				Object:    pod(testutil.Resources(l("cpu", "1", "memory", "64Mi"), nil)),
				OldObject: pod(testutil.Resources(l("cpu", "100m", "memory", "128Mi"), nil))},
			"web@resize", l("requests.cpu", "900m"), nil},
		{"a pod resized down adds nothing",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, SubResource: "resize", Kind: podKind, Name: "web",
				Object: pod(testutil.Resources(l("cpu", "100m"), nil)), OldObject: pod(testutil.Resources(l("cpu", "1"), nil))}, "", nil, nil},
		{"another pod update adds nothing",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, Kind: podKind, Name: "web"}, "", nil, nil},
		{"a negative container hides in a positive sum, and is found",
			admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: podKind, Name: "web",
				Object: pod(testutil.Resources(l("cpu", "4"), nil), testutil.Sidecar("proxy", l("cpu", "-3"), nil))},
			"web", l("pods", "1", "requests.cpu", "1"), []string{"spec.initContainers[0].resources.requests[cpu]"}},
		{"a negative claim size is found",
			admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: pvcKind, Name: "data", Object: claim("-5Gi")},
			"data", l("persistentvolumeclaims", "1", "requests.storage", "-5Gi"), []string{"spec.resources.requests[storage]"}},
		{"a negative old object of a resize is found",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, Kind: pvcKind, Name: "data", Object: claim("5Gi"), OldObject: claim("-100Gi")},
			"data@resize", l("requests.storage", "105Gi"), []string{"oldObject.spec.resources.requests[storage]"}},
		{"a new object of another kind is one of its count",
			admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: widgetKind, Resource: widgets, Name: "w1", Object: raw(map[string]any{"spec": map[string]any{"size": -3}})},
			"w1", l("count/widgets.example.com", "1"), nil},
		{"a custom resource called Pod is counted, never read as a pod",
			admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Pod"},
				Resource: metav1.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "pods"}, Name: "p", Object: raw(map[string]any{})},
			"p", l("count/pods.example.com", "1"), nil},
		{"a core kind is counted under count/<resource>",
			admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
				Resource: metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Name: "c", Object: raw(map[string]any{})},
			"c", l("count/configmaps", "1"), nil},
		{"an update of a counted kind adds nothing",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, Kind: widgetKind, Resource: widgets, Name: "w1"}, "", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := measure(admission.Request{AdmissionRequest: tc.req})
			if err != nil {
				t.Fatal(err)
			}
			if obj.Name != tc.wantName || (tc.want == nil) != (obj.Kind == "") || !equality.Semantic.DeepEqual(obj.Amount, tc.want) ||
				!equality.Semantic.DeepEqual(obj.Negative, tc.wantNegative) {
				t.Fatalf("measure = %q %q %v negative %q, want %q %v negative %q", obj.Kind, obj.Name, obj.Amount, obj.Negative, tc.wantName, tc.want, tc.wantNegative)
			}
		})
	}
}

// TestForgedNegativeRequestIsRefused posts what a forged AdmissionReview
// carried to the handler: a pod whose negative sidecar would have moved the
// tenant's recorded usage down. It is refused by the tenant quota rule and
// the tenant's ledger is left as it was; the same pod without the negative
// part is admitted and charged to the ledger.
func TestForgedNegativeRequestIsRefused(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme)
	_ = tenancyv1alpha1.AddToScheme(scheme)
	tn := testutil.Tenant("acme").Owner("alice").TenantQuota(l("requests.cpu", "2")).Obj()
	ledger := tenantquota.NewLedger(tn)
	ledger.Status.Usage = l("requests.cpu", "1")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "acme-a", Labels: map[string]string{tenancyv1alpha1.TenantLabel: "acme"}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tn, ledger, ns).WithStatusSubresource(tn, ledger).Build()
	h := &Handler{Client: c, APIReader: c, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	usage := func() corev1.ResourceList {
		got := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := c.Get(ctx, client.ObjectKey{Name: "acme"}, got); err != nil {
			t.Fatal(err)
		}
		return got.Status.Usage
	}
	create := func(p runtime.RawExtension) admission.Response {
		return h.Handle(ctx, admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			Operation: admissionv1.Create, Kind: podKind, Namespace: "acme-a", Name: "web", Object: p,
		}})
	}

	for _, forged := range []runtime.RawExtension{
		pod(testutil.Resources(l("cpu", "-5"), nil)),
		pod(testutil.Resources(l("cpu", "500m"), nil), testutil.Sidecar("proxy", l("cpu", "-400m"), nil)),
		pod(testutil.Resources(l("cpu", "500m"), nil), testutil.Overhead(l("cpu", "-1"))),
		pod(testutil.PodResources(l("cpu", "-1"), nil)),
	} {
		resp := create(forged)
		if resp.Allowed || !strings.Contains(resp.Result.Message, "tenant acme:") || !strings.Contains(resp.Result.Message, "below zero") ||
			!strings.Contains(resp.Result.Message, "[rule quota.tenant]") {
			t.Errorf("forged pod %s: allowed %v, %q; want refused by the tenant quota rule", forged.Raw, resp.Allowed, resp.Result.Message)
		}
	}
	if got := usage()[corev1.ResourceRequestsCPU]; got.Cmp(resource.MustParse("1")) != 0 {
		t.Fatalf("forged requests moved the usage to %s, want 1", got.String())
	}
	if resp := create(pod(testutil.Resources(l("cpu", "500m"), nil), testutil.Sidecar("proxy", l("cpu", "400m"), nil))); !resp.Allowed {
		t.Fatalf("a pod within the quota was refused: %q", resp.Result.Message)
	}
	if got := usage()[corev1.ResourceRequestsCPU]; got.Cmp(resource.MustParse("1900m")) != 0 {
		t.Fatalf("usage after charging 900m to 1 is %s, want 1900m", got.String())
	}
}
