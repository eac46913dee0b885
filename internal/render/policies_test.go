package render

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

var ruleName = regexp.MustCompile(`\[rule ([a-zA-Z.-]+)\]`)

// TestPolicyRules lists the rules each policy enforces, so that a rule
// dropped or renamed shows here as well as in the integration suite.
func TestPolicyRules(t *testing.T) {
	got := map[string][]string{}
	for _, obj := range ValidatingPolicies(DefaultSettings()) {
		p, ok := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy)
		if !ok {
			continue
		}
		for _, v := range p.Spec.Validations {
			m := ruleName.FindStringSubmatch(v.MessageExpression)
			if m == nil {
				t.Errorf("policy %s: message %q names no rule", p.Name, v.MessageExpression)
				continue
			}
			if !strings.HasPrefix(v.MessageExpression, "'tenant ' + ") {
				t.Errorf("policy %s rule %s: message does not start with the tenant", p.Name, m[1])
			}
			if v.Reason == nil || *v.Reason != metav1.StatusReasonForbidden {
				t.Errorf("policy %s rule %s: reason %v, want Forbidden", p.Name, m[1], v.Reason)
			}
			got[p.Name] = append(got[p.Name], m[1])
		}
	}
	want := map[string][]string{
		PodsPolicy: {"namespaces.protected", "nodes.nodeName", "nodes.schedulerName", "nodes.selector", "nodes.tolerations", "pods.runtimeClass", "pods.userNamespaces",
			"pods.serviceLinks", "pods.images.registries", "pods.images.pullPolicy",
			"pods.affinity", "pods.volumes", "pods.automountServiceAccountToken", "pods.priorityClasses", "devices.classes"},
		ServicesPolicy:        {"services.externalIPs", "services.allowedTypes"},
		IngressesPolicy:       {"ingress.classes", "ingress.hostnames", "ingress.defaultBackend"},
		StoragePolicy:         {"storage.classes", "storage.selector", "storage.dataSource"},
		RBACPolicy:            {"rbac.subjects", "rbac.clusterRoles"},
		ManagedPolicy:         {"managed-objects", "managed-objects"},
		CopyLabelPolicy:       {"managed-objects"},
		NetworkPoliciesPolicy: {"network.ingress", "network.egress", "network.dns"},
		RetainedPolicy:        {"namespaces.retained"},
		TokensPolicy:          {"rbac.tokens", "rbac.tokens"},
		FreezePolicy:          {"state"},
		DevicesPolicy:         {"devices.classes", "devices.adminAccess"},
		GatewayPolicy:         {"gateway.ownGateways", "gateway.classes", "gateway.addresses", "gateway.parentRefs", "gateway.hostnames", "gateway.noHostnames"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("rules per policy (-want +got):\n%s", diff)
	}
}

// TestPolicyBindings checks that every policy has exactly one binding, which
// selects tenant namespaces only and closes them when parameters are missing.
func TestPolicyBindings(t *testing.T) {
	policies, bindings := map[string]*admissionregistrationv1.ParamKind{}, map[string]bool{}
	check := func(kind, name, policy string, ref *admissionregistrationv1.ParamRef, match *admissionregistrationv1.MatchResources) {
		if name == FreezeByLabelBinding && policy == FreezePolicy {
			// The freeze's second binding: namespaces an admin froze.
			name = FreezePolicy + "+label"
		} else if name != policy {
			t.Errorf("%s %s binds %s: one binding per policy, of the same name", kind, name, policy)
		}
		if bindings[kind+"/"+name] {
			t.Errorf("%s %s twice", kind, name)
		}
		bindings[kind+"/"+name] = true
		switch {
		case name == RetainedPolicy:
			// Retained namespaces have no tenant: see TestRetainedPolicies.
			return
		case name == FrozenByMutation:
			// It records who froze a Tenant, a cluster-scoped object.
			if ref != nil || match == nil || match.NamespaceSelector == nil || len(match.NamespaceSelector.MatchExpressions)+len(match.NamespaceSelector.MatchLabels) != 0 {
				t.Errorf("%s %s has paramRef %+v and match %+v; it takes no parameters and sees every Tenant", kind, name, ref, match)
			}
			return
		case name == ManagedPolicy || name == TokensPolicy || name == CopyLabelPolicy:
			// These rules are the same for every tenant: no parameters.
			if ref != nil {
				t.Errorf("%s %s has paramRef %+v; it takes no parameters", kind, name, ref)
			}
		case ref == nil || ref.Name != tenancyv1alpha1.TenantPolicyName || ref.Namespace != "" ||
			ref.ParameterNotFoundAction == nil || *ref.ParameterNotFoundAction != admissionregistrationv1.DenyAction:
			t.Errorf("%s %s paramRef = %+v, want the request namespace's %q, denying when missing", kind, name, ref, tenancyv1alpha1.TenantPolicyName)
		}
		sel := match.NamespaceSelector
		if strings.HasPrefix(name, FreezePolicy) {
			// Frozen tenant namespaces only: see TestFreezeBindings.
			return
		}
		if sel == nil || len(sel.MatchExpressions) != 1 || sel.MatchExpressions[0].Key != tenancyv1alpha1.TenantLabel ||
			sel.MatchExpressions[0].Operator != metav1.LabelSelectorOpExists {
			t.Errorf("%s %s selects %+v, want namespaces with the tenant label", kind, name, sel)
		}
	}
	for _, obj := range Policies(DefaultSettings()) {
		switch o := obj.(type) {
		case *admissionregistrationv1.ValidatingAdmissionPolicy:
			policies["V/"+o.Name] = o.Spec.ParamKind
			if *o.Spec.FailurePolicy != admissionregistrationv1.Fail {
				t.Errorf("policy %s fails open", o.Name)
			}
		case *admissionregistrationv1.MutatingAdmissionPolicy:
			policies["M/"+o.Name] = o.Spec.ParamKind
		case *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
			check("V", o.Name, o.Spec.PolicyName, o.Spec.ParamRef, o.Spec.MatchResources)
			if len(o.Spec.ValidationActions) != 1 || o.Spec.ValidationActions[0] != admissionregistrationv1.Deny {
				t.Errorf("binding %s actions %v, want [Deny]", o.Name, o.Spec.ValidationActions)
			}
		case *admissionregistrationv1.MutatingAdmissionPolicyBinding:
			check("M", o.Name, o.Spec.PolicyName, o.Spec.ParamRef, o.Spec.MatchResources)
		}
	}
	var names []string
	for name, kind := range policies {
		names = append(names, name)
		if !bindings[name] {
			t.Errorf("policy %s has no binding", name)
		}
		if name == "V/"+FreezePolicy && !bindings[name+"+label"] {
			t.Errorf("policy %s has no binding for namespaces frozen by label", name)
		}
		if name == "V/"+ManagedPolicy || name == "V/"+CopyLabelPolicy || name == "V/"+RetainedPolicy || name == "V/"+TokensPolicy || name == "M/"+FrozenByMutation {
			if kind != nil {
				t.Errorf("policy %s has paramKind %+v; it takes no parameters", name, kind)
			}
			continue
		}
		if kind == nil || kind.Kind != "TenantPolicy" || kind.APIVersion != tenancyv1alpha1.GroupVersion.String() {
			t.Errorf("policy %s paramKind = %+v, want TenantPolicy", name, kind)
		}
	}
	sort.Strings(names)
	want := []string{"M/bulkhead-frozen-by", "M/bulkhead-pods", "M/bulkhead-serviceaccounts", "V/bulkhead-copy-label", "V/bulkhead-devices", "V/bulkhead-freeze", "V/bulkhead-gateway", "V/bulkhead-ingresses", "V/bulkhead-managed", "V/bulkhead-networkpolicies", "V/bulkhead-pods", "V/bulkhead-rbac", "V/bulkhead-retained", "V/bulkhead-services", "V/bulkhead-storage", "V/bulkhead-tokens"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
}

// TestFreezeBindings: the freeze policy is bound to tenant namespaces
// that are frozen, by their Tenant (the state label Bulkhead stamps) or by
// an admin's label, and nowhere else, with the namespace's TenantPolicy as
// parameters.
func TestFreezeBindings(t *testing.T) {
	want := map[string]metav1.LabelSelectorRequirement{
		FreezePolicy:         {Key: tenancyv1alpha1.StateLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{"Frozen"}},
		FreezeByLabelBinding: {Key: tenancyv1alpha1.FrozenLabel, Operator: metav1.LabelSelectorOpExists},
	}
	for _, obj := range FreezePolicies() {
		b, ok := obj.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding)
		if !ok {
			continue
		}
		w, ok := want[b.Name]
		if !ok {
			t.Errorf("unexpected binding %s", b.Name)
			continue
		}
		delete(want, b.Name)
		tenant := metav1.LabelSelectorRequirement{Key: tenancyv1alpha1.TenantLabel, Operator: metav1.LabelSelectorOpExists}
		if diff := cmp.Diff([]metav1.LabelSelectorRequirement{tenant, w}, b.Spec.MatchResources.NamespaceSelector.MatchExpressions); diff != "" {
			t.Errorf("binding %s selects (-want +got):\n%s", b.Name, diff)
		}
		if b.Spec.PolicyName != FreezePolicy || b.Spec.ParamRef == nil || *b.Spec.ParamRef.ParameterNotFoundAction != admissionregistrationv1.DenyAction {
			t.Errorf("binding %s: policy %s, paramRef %+v", b.Name, b.Spec.PolicyName, b.Spec.ParamRef)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing bindings %v", want)
	}
}
