package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The helpers below serve the webhooks' fuzz targets: they post bytes to a
// handler as the API server would, and check that what comes back is an
// AdmissionReview the API server can act on.

// FuzzReviewUID is the request UID ReviewBody writes; a well-formed
// response carries it back.
const FuzzReviewUID = "fuzz-review"

var fuzzOperations = []admissionv1.Operation{admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect}

// ReviewBody is an AdmissionReview request for kind in namespace, with the
// operation picked by op, whose object and oldObject are the given bytes
// verbatim: when they are not JSON the review is not either, as a forged or
// truncated request is not.
func ReviewBody(kind metav1.GroupVersionKind, namespace string, op uint8, object, oldObject []byte) []byte {
	operation := fuzzOperations[int(op)%len(fuzzOperations)]
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":%q,`+
		`"kind":{"group":%q,"version":%q,"kind":%q},"resource":{"group":"","version":"v1","resource":"fuzz"},`+
		`"namespace":%q,"name":"fuzzed","operation":%q,"userInfo":{"username":"alice","groups":["system:authenticated"]},"dryRun":%s`,
		FuzzReviewUID, kind.Group, kind.Version, kind.Kind, namespace, operation, strconv.FormatBool(op&0x80 != 0))
	if len(object) > 0 {
		b.WriteString(`,"object":`)
		b.Write(object)
	}
	if len(oldObject) > 0 {
		b.WriteString(`,"oldObject":`)
		b.Write(oldObject)
	}
	b.WriteString(`}}`)
	return b.Bytes()
}

// ServeReview posts body to handler wrapped as the webhook server wraps it,
// but with panics left to fail the test (the server recovers them), and
// checks the answer: HTTP 200 carrying a v1 AdmissionReview with a
// response; when the body was a readable request, the response carries its
// UID; a refusal says why; a patch is a JSON Patch.
func ServeReview(t testing.TB, handler admission.Handler, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	wh := (&admission.Webhook{Handler: handler}).WithRecoverPanic(false)
	req := httptest.NewRequest(http.MethodPost, "/fuzz", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	wh.ServeHTTP(rec, req)

	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP status %d, want 200", rec.Code)
	}
	review := &admissionv1.AdmissionReview{}
	if err := json.Unmarshal(rec.Body.Bytes(), review); err != nil {
		t.Fatalf("response is not an AdmissionReview: %v: %q", err, rec.Body.String())
	}
	res := review.Response
	if res == nil {
		t.Fatalf("AdmissionReview without a response: %q", rec.Body.String())
	}
	sent := &admissionv1.AdmissionReview{}
	if json.Unmarshal(body, sent) == nil && sent.Request != nil && sent.Request.UID != "" {
		if review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview" {
			t.Errorf("response typed %s %s, want admission.k8s.io/v1 AdmissionReview", review.APIVersion, review.Kind)
		}
		if res.UID != sent.Request.UID {
			t.Errorf("response UID %q, want the request's %q", res.UID, sent.Request.UID)
		}
	}
	if !res.Allowed && (res.Result == nil || res.Result.Message == "") {
		t.Errorf("refusal without a message: %+v", res)
	}
	if len(res.Patch) > 0 {
		var ops []map[string]any
		if err := json.Unmarshal(res.Patch, &ops); err != nil {
			t.Errorf("patch is not a JSON Patch: %v: %q", err, res.Patch)
		}
		if res.PatchType == nil || *res.PatchType != admissionv1.PatchTypeJSONPatch {
			t.Errorf("patch without patchType JSONPatch: %+v", res.PatchType)
		}
	}
	return res
}

// FuzzScheme is the scheme of the webhooks' fake clients: Kubernetes' types
// and Bulkhead's.
func FuzzScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := tenancyv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzWorld is what the webhooks' fake clients hold for a fuzzed request to
// reach its decision: Tenant acme (owner alice, a tenant-wide quota) with
// namespace acme-a, its TenantPolicy and its counted ledger, and namespace
// plain outside any tenant.
func FuzzWorld() []runtime.Object {
	tn := Tenant("acme").UID("uid-acme").Owner("alice").Max(3).
		TenantQuota(Quantities("pods", "10", "requests.cpu", "2", "requests.storage", "10Gi")).Obj()
	// As tenantquota.NewLedger writes it (this package cannot import it:
	// tenantquota's own tests use this one).
	ledger := &tenancyv1alpha1.TenantQuotaLedger{ObjectMeta: metav1.ObjectMeta{
		Name: "acme",
		Labels: map[string]string{
			tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue,
			tenancyv1alpha1.TenantLabel:    "acme",
			tenancyv1alpha1.ConcernLabel:   "tenant-quota",
		},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: tenancyv1alpha1.GroupVersion.String(), Kind: "Tenant", Name: "acme", UID: "uid-acme", Controller: ptr.To(true),
		}},
	}}
	ledger.Status.Usage = Quantities("pods", "1", "requests.cpu", "500m", "requests.storage", "1Gi")
	policy := &tenancyv1alpha1.TenantPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "acme-a", Name: tenancyv1alpha1.TenantPolicyName}}
	policy.Spec.Tenant = "acme"
	return []runtime.Object{
		tn, ledger, policy,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "acme-a", Labels: map[string]string{tenancyv1alpha1.TenantLabel: "acme"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plain"}},
	}
}

// FuzzHandler is the fuzz loop every webhook target shares: each input is
// either a whole request body (whole) or an object and old object posted in
// a review of one of kinds, with the operation, the kind and the namespace
// (a tenant's, or one outside any tenant) picked by op. newHandler builds
// the handler on a fake client holding FuzzWorld; extend, when set, adds to
// that client (an index, a status subresource) what the handler needs.
func FuzzHandler(f *testing.F, kinds []metav1.GroupVersionKind, extend func(*fake.ClientBuilder) *fake.ClientBuilder, newHandler func(client.Client) admission.Handler) {
	scheme := FuzzScheme(f)
	f.Fuzz(func(t *testing.T, whole bool, op uint8, object, oldObject []byte) {
		b := fake.NewClientBuilder().WithScheme(scheme).WithRuntimeObjects(FuzzWorld()...)
		if extend != nil {
			b = extend(b)
		}
		body := object
		if !whole {
			namespace := "acme-a"
			if op&0x40 != 0 {
				namespace = "plain"
			}
			body = ReviewBody(kinds[int(op>>2)%len(kinds)], namespace, op, object, oldObject)
		}
		ServeReview(t, newHandler(b.Build()), body)
	})
}
