package tenants

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// FuzzHandle posts any bytes to the Tenant webhook: either as the whole
// request body, or as the object and old object of a request for one of
// the kinds it serves (the bits of op pick the kind, the operation, the
// namespace and dry run). Whatever arrives, the answer is a well-formed
// AdmissionReview response (testutil.ServeReview) and the handler never
// panics. The client is a fake holding one tenant: the handler's decisions
// are tested elsewhere; here it only has to reach them.
func FuzzHandle(f *testing.F) {
	kinds := []metav1.GroupVersionKind{{Group: "tenancy.bulkhead.dev", Version: "v1alpha1", Kind: "Tenant"}}
	f.Add(false, uint8(0), []byte(`{"metadata":{"name":"kube"},"spec":{"owners":[{"kind":"User","name":"bob"}]}}`), []byte(nil))
	f.Add(false, uint8(0), []byte(`{"metadata":{"name":"acme"},"spec":{"owners":[{"kind":"User","name":"bob"}]}}`), []byte(nil))
	f.Add(true, uint8(0), []byte(`{"request":{"uid":"u","object":{"metadata":{"name":1}}}}`), []byte(nil))
	f.Add(true, uint8(0), []byte(`{`), []byte(nil))
	testutil.FuzzHandler(f, kinds, nil, func(c client.Client) admission.Handler {
		return &Handler{Cache: c, Live: c, Settings: render.DefaultSettings()}
	})
}
