package namespace

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func createRequest(t *testing.T, name, user string, dryRun bool) admission.Request {
	t.Helper()
	raw, err := json.Marshal(nsObj(name, nil))
	if err != nil {
		t.Fatal(err)
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
		UserInfo:  authenticationv1.UserInfo{Username: user},
		DryRun:    ptr.To(dryRun),
	}}
}

// TestConcurrentCreatesCannotOvershootMax: the cache does not yet show a
// namespace admitted a moment ago, so the handler must count it itself.
func TestConcurrentCreatesCannotOvershootMax(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	reader := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(testutil.Tenant("acme").Owner("alice").Max(1).Obj()).Build()
	h := &Handler{Reader: reader, Settings: render.DefaultSettings()}

	if resp := h.Handle(context.Background(), createRequest(t, "acme-dry", "alice", true)); !resp.Allowed {
		t.Fatalf("dry run refused: %s", resp.Result.Message)
	}
	first := h.Handle(context.Background(), createRequest(t, "acme-a", "alice", false))
	if !first.Allowed {
		t.Fatalf("first create refused: %s", first.Result.Message)
	}
	if len(first.Patches) == 0 {
		t.Fatal("first create was not stamped with the tenant's labels")
	}
	second := h.Handle(context.Background(), createRequest(t, "acme-b", "alice", false))
	if second.Allowed || !strings.Contains(second.Result.Message, "namespaces.max is 1, 1 in use") {
		t.Fatalf("second create: allowed=%v %q, want the namespace limit (the dry run must not count)", second.Allowed, second.Result.Message)
	}
}
