package render_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	"github.com/bulkhead-dev/bulkhead/internal/testutil/defaultcases"
)

// TestDefaultsTable runs the table of pod defaults shared with the webhook
// fallback (see package defaultcases) through the mutating policies,
// compiled and run as the API server runs them, and checks that the
// validating policies then admit each pod.
func TestDefaultsTable(t *testing.T) {
	s := render.DefaultSettings()
	w := newCELWorld(t, s, map[*tenancyv1alpha1.Tenant][]string{
		defaultcases.Tenant("df", "df-owner", "df-dev"): {"df-app"},
	}, "df-app")
	for _, c := range defaultcases.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			r := celRequest{
				op: admission.Create, object: testutil.Pod("df-app", "table", defaultcases.Image, c.Edit),
				namespace: w.namespaces["df-app"], params: w.params["df-app"], user: celUser("df-dev"),
			}
			p, ok := mutate(t, w.mutating, r).(*corev1.Pod)
			if !ok {
				t.Fatalf("the mutating policies returned %T, want a Pod", p)
			}
			c.Check(t, p, s.SandboxRuntimeClass)
			r.object = p
			if denials := validate(t, w.validating, r); len(denials) > 0 {
				t.Errorf("the defaulted pod is refused:%s", denialsText(denials))
			}
		})
	}
}
