package render

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestRetainedPolicies checks the lock's policy: one, with one binding,
// selecting retained namespaces, without parameters, failing closed; and
// that it covers every kind whose template the pod rules check, so that a
// workload kind added there is not forgotten here.
func TestRetainedPolicies(t *testing.T) {
	objs := RetainedPolicies(DefaultSettings())
	if len(objs) != 2 {
		t.Fatalf("got %d objects, want a policy and its binding", len(objs))
	}
	p, ok := objs[0].(*admissionregistrationv1.ValidatingAdmissionPolicy)
	if !ok {
		t.Fatalf("first object is %T", objs[0])
	}
	b, ok := objs[1].(*admissionregistrationv1.ValidatingAdmissionPolicyBinding)
	if !ok {
		t.Fatalf("second object is %T", objs[1])
	}
	if p.Name != RetainedPolicy || b.Name != RetainedPolicy || b.Spec.PolicyName != RetainedPolicy {
		t.Errorf("names %s, %s -> %s; want all %s", p.Name, b.Name, b.Spec.PolicyName, RetainedPolicy)
	}
	if p.Spec.ParamKind != nil || b.Spec.ParamRef != nil {
		t.Errorf("the lock takes no parameters: paramKind %+v, paramRef %+v", p.Spec.ParamKind, b.Spec.ParamRef)
	}
	if *p.Spec.FailurePolicy != admissionregistrationv1.Fail {
		t.Errorf("failure policy %s", *p.Spec.FailurePolicy)
	}
	want := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: tenancyv1alpha1.RetainedLabel, Operator: metav1.LabelSelectorOpExists}}}
	if diff := cmp.Diff(want, b.Spec.MatchResources.NamespaceSelector); diff != "" {
		t.Errorf("binding selector (-want +got):\n%s", diff)
	}
	if len(p.Spec.Validations) != 1 || !strings.Contains(p.Spec.Validations[0].MessageExpression, "[rule namespaces.retained]") {
		t.Errorf("validations %+v, want one naming the rule", p.Spec.Validations)
	}
	if len(p.Spec.MatchConditions) != 1 || !strings.HasPrefix(p.Spec.MatchConditions[0].Expression, "request.resource.resource == 'pods' || ") {
		t.Errorf("match conditions %+v: new pods must be refused whoever asks", p.Spec.MatchConditions)
	}

	matched := map[string][]admissionregistrationv1.OperationType{}
	for _, r := range p.Spec.MatchConstraints.ResourceRules {
		for _, res := range r.Resources {
			matched[r.APIGroups[0]+"/"+res] = r.Operations
		}
	}
	if diff := cmp.Diff([]admissionregistrationv1.OperationType{admissionregistrationv1.Create}, matched["/pods"]); diff != "" {
		t.Errorf("pods (-want +got):\n%s", diff)
	}
	for _, res := range []string{"/pods/ephemeralcontainers", "rbac.authorization.k8s.io/rolebindings", "rbac.authorization.k8s.io/roles", "networking.k8s.io/networkpolicies"} {
		if len(matched[res]) == 0 {
			t.Errorf("%s is not matched", res)
		}
	}
	for _, r := range podsValidation(DefaultSettings()).Spec.MatchConstraints.ResourceRules {
		for _, res := range r.Resources {
			if _, ok := matched[r.APIGroups[0]+"/"+res]; !ok {
				t.Errorf("the pod rules check %s/%s, the lock does not", r.APIGroups[0], res)
			}
		}
	}
}

func TestRetainPatch(t *testing.T) {
	s := DefaultSettings()
	tn := testutil.Tenant("acme").Owner("alice").Labels(map[string]string{"cost-center": "42"}).
		Annotations(map[string]string{"owner": "team-a"}).Obj()
	stamped := Namespace(NewScope(tn, nil, s))
	current := map[string]string{"kubernetes.io/metadata.name": "acme-a", "team": "mine"}
	for k, v := range stamped.Labels {
		current[k] = v
	}
	got := RetainPatch(current, stamped, "acme", s)
	want := map[string]any{"metadata": map[string]any{
		"labels": map[string]any{
			tenancyv1alpha1.TenantLabel:                  nil,
			"cost-center":                                nil,
			tenancyv1alpha1.RetainedLabel:                "acme",
			"pod-security.kubernetes.io/enforce":         "restricted",
			"pod-security.kubernetes.io/audit":           "restricted",
			"pod-security.kubernetes.io/warn":            "restricted",
			"pod-security.kubernetes.io/enforce-version": "v1.36",
			"pod-security.kubernetes.io/audit-version":   "v1.36",
			"pod-security.kubernetes.io/warn-version":    "v1.36",
		},
		"annotations": map[string]any{"owner": nil},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RetainPatch (-want +got):\n%s", diff)
	}
}

// TestRetainedNetworkPolicy: all traffic of every pod is denied, and the
// policy is not the Tenant's: no owner reference (the garbage collector
// would delete it with the Tenant) and no tenant label (no tenant's cleanup
// selects it).
func TestRetainedNetworkPolicy(t *testing.T) {
	np := RetainedNetworkPolicy("acme-a", "acme")
	want := networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}
	if diff := cmp.Diff(want, np.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if len(np.OwnerReferences) != 0 || np.Labels[tenancyv1alpha1.TenantLabel] != "" {
		t.Errorf("the retained policy is owned or labelled for a tenant: %+v", np.ObjectMeta)
	}
	if !IsRetainedObject(np.Labels) || np.Namespace != "acme-a" || np.Name != RetainedPolicy {
		t.Errorf("metadata %+v", np.ObjectMeta)
	}
}
