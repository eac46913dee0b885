package render_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// TestDefaultsRuleCases runs the exact cases shared with the webhook
// fallback (see package defaultcases) through the mutating policies, with
// each case's rules as the namespace's parameters.
func TestDefaultsRuleCases(t *testing.T) {
	s := render.DefaultSettings()
	w := newCELWorld(t, s, map[*tenancyv1alpha1.Tenant][]string{
		defaultcases.Tenant("df", "df-owner", "df-dev"): {"df-app"},
	}, "df-app")
	for _, tc := range defaultcases.RuleCases() {
		t.Run(tc.Name, func(t *testing.T) {
			params := w.params["df-app"].DeepCopy()
			params.Spec.Pods = renderedRules(tc.Rules)
			in := tc.In.DeepCopy()
			in.Namespace, in.Name = "df-app", "table"
			r := celRequest{op: admission.Create, object: in, namespace: w.namespaces["df-app"], params: params, user: celUser("df-dev")}
			got, ok := mutate(t, w.mutating, r).(*corev1.Pod)
			if !ok {
				t.Fatalf("the mutating policies returned %T, want a Pod", got)
			}
			want := tc.Want.DeepCopy()
			want.Namespace, want.Name = "df-app", "table"
			// The harness sets the kind, as the API server does; the table's pods
			// carry none.
			got.TypeMeta = metav1.TypeMeta{}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("the mutating policies (-want +got):\n%s", diff)
			}
		})
	}
}

// renderedRules fills in the empty lists and maps that TenantPolicySpec
// always writes, so that hand-written rules read as rendered ones.
func renderedRules(r tenancyv1alpha1.PodRules) tenancyv1alpha1.PodRules {
	r = *r.DeepCopy()
	if r.NodeSelector == nil {
		r.NodeSelector = map[string]string{}
	}
	if r.RuntimeClassOverhead == nil {
		r.RuntimeClassOverhead = corev1.ResourceList{}
	}
	for _, l := range []*[]string{&r.AllowedTolerations, &r.RuntimeClasses, &r.Registries, &r.PriorityClasses} {
		if *l == nil {
			*l = []string{}
		}
	}
	if r.Tolerations == nil {
		r.Tolerations = []corev1.Toleration{}
	}
	return r
}
