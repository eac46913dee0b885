package render

import (
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// This file lists the admission policies Bulkhead compiles and holds what
// they share: the binding each gets, the TenantPolicy it reads, the rule type
// that writes a denial's message. The rules themselves live with their
// family in policies_<family>.go.
//
// There is one policy per rule family and one binding of the same name,
// whatever the number of tenants: the binding selects every tenant namespace
// and takes its parameters from the namespace's TenantPolicy (see
// TenantPolicySpec), and a tenant namespace without one is closed. The
// policies that need no parameters (managed objects, tokens, retained
// namespaces) have bindings without a paramRef.

// Policies compiles the admission rules of every tenant into shared
// ValidatingAdmissionPolicies and MutatingAdmissionPolicies with their
// bindings. They depend on the settings only; what differs between tenants
// is in each namespace's TenantPolicy (see TenantPolicies).
func Policies(s Settings) []client.Object {
	return append(ValidatingPolicies(s), MutatingPolicies(s)...)
}

// ValidatingPolicies are the validating half of Policies: they hold the line
// even where the mutating half is unavailable.
func ValidatingPolicies(s Settings) []client.Object {
	var out []client.Object
	for _, p := range []*admissionv1.ValidatingAdmissionPolicy{podsValidation(s), servicesValidation(), ingressesValidation(s), storageValidation(), rbacValidation(s), networkPoliciesValidation(s)} {
		out = append(out, p, &admissionv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: policyMeta(p.Name),
			Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        p.Name,
				ParamRef:          tenantParamRef(),
				MatchResources:    tenantNamespaces(),
				ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			},
		})
	}
	out = append(out, RetainedPolicies(s)...)
	out = append(out, TokensPolicies(s)...)
	managed := managedValidation(s)
	return append(out, managed, &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: policyMeta(managed.Name),
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        managed.Name,
			MatchResources:    tenantNamespaces(),
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		},
	})
}

// MutatingPolicies are the defaults Bulkhead fills into tenant objects.
func MutatingPolicies(Settings) []client.Object {
	var out []client.Object
	for _, p := range []*admissionv1.MutatingAdmissionPolicy{podsMutation(), serviceAccountsMutation()} {
		out = append(out, p, &admissionv1.MutatingAdmissionPolicyBinding{
			ObjectMeta: policyMeta(p.Name),
			Spec: admissionv1.MutatingAdmissionPolicyBindingSpec{
				PolicyName:     p.Name,
				ParamRef:       tenantParamRef(),
				MatchResources: tenantNamespaces(),
			},
		})
	}
	return out
}

// policyMeta is the metadata of a policy or binding: cluster-scoped, and
// labelled as Bulkhead's like every object it writes.
func policyMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}}
}

// tenantParamKind makes a policy read a TenantPolicy as its params.
func tenantParamKind() *admissionv1.ParamKind {
	return &admissionv1.ParamKind{APIVersion: tenancyv1alpha1.GroupVersion.String(), Kind: "TenantPolicy"}
}

// tenantParamRef looks the TenantPolicy up in the request's own namespace,
// and denies when it is missing: a tenant namespace is closed until Bulkhead
// has written its parameters.
func tenantParamRef() *admissionv1.ParamRef {
	return &admissionv1.ParamRef{
		Name:                    tenancyv1alpha1.TenantPolicyName,
		ParameterNotFoundAction: ptr.To(admissionv1.DenyAction),
	}
}

// tenantNamespaces matches every namespace that carries the tenant label,
// whichever the tenant.
func tenantNamespaces() *admissionv1.MatchResources {
	return &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: tenancyv1alpha1.TenantLabel, Operator: metav1.LabelSelectorOpExists}},
	}}
}

// rules matches the given operations on resources of one API group, at
// every version.
func rules(ops []admissionv1.OperationType, group string, resources ...string) admissionv1.NamedRuleWithOperations {
	return admissionv1.NamedRuleWithOperations{RuleWithOperations: admissionv1.RuleWithOperations{
		Operations: ops,
		Rule:       admissionv1.Rule{APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: resources},
	}}
}

var (
	createUpdate = []admissionv1.OperationType{admissionv1.Create, admissionv1.Update}
	createOnly   = []admissionv1.OperationType{admissionv1.Create}
)

// specChanged skips updates that leave the spec alone (labels, finalizers,
// annotations written by controllers), so that tightening a tenant's rules
// never wedges the controllers that manage existing objects.
var specChanged = admissionv1.MatchCondition{
	Name:       "spec-changed",
	Expression: "request.operation == 'CREATE' || object.spec != oldObject.spec",
}

// rule is one validation: expr must hold; else the message names the tenant,
// what is wrong, the rule (family.rule, such as pods.userNamespaces: the name
// a reader searches for) and the fix.
type rule struct {
	name    string
	expr    string
	problem string // a CEL string expression saying what is wrong
	fix     string
}

func (r rule) validation() admissionv1.Validation {
	return admissionv1.Validation{
		Expression: r.expr,
		MessageExpression: "'tenant ' + params.spec.tenant + ': ' + " + r.problem +
			" + ' [rule " + r.name + "]. " + strings.ReplaceAll(r.fix, "'", "\\'") + "'",
		Reason: ptr.To(metav1.StatusReasonForbidden),
	}
}

// validatingPolicy is a policy of the given rules over match, reading the
// namespace's TenantPolicy, failing closed.
func validatingPolicy(name string, match []admissionv1.NamedRuleWithOperations, conds []admissionv1.MatchCondition, variables []admissionv1.Variable, rs ...rule) *admissionv1.ValidatingAdmissionPolicy {
	return &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: policyMeta(name),
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			ParamKind:        tenantParamKind(),
			FailurePolicy:    ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: match},
			MatchConditions:  conds,
			Variables:        variables,
			Validations:      validations(rs...),
		},
	}
}

// validations are the Validations of rs, in order.
func validations(rs ...rule) []admissionv1.Validation {
	out := make([]admissionv1.Validation, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.validation())
	}
	return out
}

// vars are the Variables given as name, expression pairs, in order: a
// variable may read those before it.
func vars(kv ...string) []admissionv1.Variable {
	out := make([]admissionv1.Variable, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, admissionv1.Variable{Name: kv[i], Expression: kv[i+1]})
	}
	return out
}

// apply is one ApplyConfiguration mutation.
func apply(expr string) admissionv1.Mutation {
	return admissionv1.Mutation{PatchType: admissionv1.PatchTypeApplyConfiguration, ApplyConfiguration: &admissionv1.ApplyConfiguration{Expression: expr}}
}

// jsonPatch is one JSONPatch mutation.
func jsonPatch(expr string) admissionv1.Mutation {
	return admissionv1.Mutation{PatchType: admissionv1.PatchTypeJSONPatch, JSONPatch: &admissionv1.JSONPatch{Expression: expr}}
}
