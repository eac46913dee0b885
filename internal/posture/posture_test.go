package posture

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWebhookSparesSystemNamespaces(t *testing.T) {
	sys := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Labels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}}
	pods := []admissionregistrationv1.RuleWithOperations{{Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, Resources: []string{"pods"}}}}
	tenantsOnly := []admissionregistrationv1.RuleWithOperations{{Rule: admissionregistrationv1.Rule{APIGroups: []string{"tenancy.bulkhead.dev"}, Resources: []string{"tenants"}}}}
	tenantNamespaces := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tenancy.bulkhead.dev/tenant", Operator: metav1.LabelSelectorOpExists}}}
	for _, c := range []struct {
		name string
		h    hook
		want bool
	}{
		{"pods of tenant namespaces only", hook{name: "a", rules: pods, selector: tenantNamespaces}, true},
		{"pods of every namespace", hook{name: "b", rules: pods}, false},
		{"pods, with an empty selector", hook{name: "c", rules: pods, selector: &metav1.LabelSelector{}}, false},
		{"namespaces, kept off system ones by name", hook{name: "d", rules: pods, conditions: []admissionregistrationv1.MatchCondition{{Name: "not-a-system-namespace"}}}, true},
		{"Tenants only", hook{name: "e", rules: tenantsOnly}, true},
		{"a selector kube-system matches", hook{name: "f", rules: pods, selector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}}, false},
	} {
		if got := c.h.spares(sys); got != c.want {
			t.Errorf("%s: spares = %v, want %v", c.name, got, c.want)
		}
	}
}
