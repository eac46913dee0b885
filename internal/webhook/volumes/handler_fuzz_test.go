package volumes

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// FuzzHandle posts any bytes to the PersistentVolumeClaim volumeName webhook: either as the whole
// request body, or as the object and old object of a request for one of
// the kinds it serves (the bits of op pick the kind, the operation, the
// namespace and dry run). Whatever arrives, the answer is a well-formed
// AdmissionReview response (testutil.ServeReview) and the handler never
// panics. The client is a fake holding one tenant: the handler's decisions
// are tested elsewhere; here it only has to reach them.
func FuzzHandle(f *testing.F) {
	kinds := []metav1.GroupVersionKind{{Version: "v1", Kind: "PersistentVolumeClaim"}}
	f.Add(false, uint8(0), []byte(`{"metadata":{"name":"data"},"spec":{"volumeName":"pv-1"}}`), []byte(nil))
	f.Add(true, uint8(0), []byte(`{"request":{"uid":"u","object":{"metadata":{"name":1}}}}`), []byte(nil))
	f.Add(true, uint8(0), []byte(`{`), []byte(nil))
	testutil.FuzzHandler(f, kinds, nil, func(c client.Client) admission.Handler {
		return &Handler{Client: c, APIReader: c}
	})
}
