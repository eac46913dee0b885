package render

import (
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
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
	for _, p := range []*admissionregistrationv1.ValidatingAdmissionPolicy{podsValidation(s), servicesValidation(), ingressesValidation(s), storageValidation(), rbacValidation(s), networkPoliciesValidation(s), devicesValidation(), gatewayValidation()} {
		out = append(out, p, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: policyMeta(p.Name),
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        p.Name,
				ParamRef:          tenantParamRef(),
				MatchResources:    tenantNamespaces(),
				ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			},
		})
	}
	out = append(out, FreezePolicies()...)
	out = append(out, RetainedPolicies(s)...)
	out = append(out, TokensPolicies(s)...)
	managed := managedValidation(s)
	managedActions := []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}
	if s.Version() == RenderVersion1 {
		managedActions = append(managedActions, admissionregistrationv1.Audit)
	}
	copyLabel := copyLabelValidation(s)
	return append(out, managed, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: policyMeta(managed.Name),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        managed.Name,
			MatchResources:    tenantNamespaces(),
			ValidationActions: managedActions,
		},
	}, copyLabel, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: policyMeta(copyLabel.Name),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        copyLabel.Name,
			MatchResources:    tenantNamespaces(),
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	})
}

// MutatingPolicies are the defaults Bulkhead fills into tenant objects.
func MutatingPolicies(Settings) []client.Object {
	var out []client.Object
	for _, p := range []*admissionregistrationv1.MutatingAdmissionPolicy{podsMutation(), serviceAccountsMutation()} {
		out = append(out, p, &admissionregistrationv1.MutatingAdmissionPolicyBinding{
			ObjectMeta: policyMeta(p.Name),
			Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{
				PolicyName:     p.Name,
				ParamRef:       tenantParamRef(),
				MatchResources: tenantNamespaces(),
			},
		})
	}
	p, b := frozenByMutation()
	return append(out, p, b)
}

// policyMeta is the metadata of a policy or binding: cluster-scoped, and
// labelled as Bulkhead's like every object it writes.
func policyMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}}
}

// tenantParamKind makes a policy read a TenantPolicy as its params.
func tenantParamKind() *admissionregistrationv1.ParamKind {
	return &admissionregistrationv1.ParamKind{APIVersion: tenancyv1alpha1.GroupVersion.String(), Kind: "TenantPolicy"}
}

// tenantParamRef looks the TenantPolicy up in the request's own namespace,
// and denies when it is missing: a tenant namespace is closed until Bulkhead
// has written its parameters.
func tenantParamRef() *admissionregistrationv1.ParamRef {
	return &admissionregistrationv1.ParamRef{
		Name:                    tenancyv1alpha1.TenantPolicyName,
		ParameterNotFoundAction: ptr.To(admissionregistrationv1.DenyAction),
	}
}

// tenantNamespaces matches every namespace that carries the tenant label,
// whichever the tenant.
func tenantNamespaces() *admissionregistrationv1.MatchResources {
	return &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: tenancyv1alpha1.TenantLabel, Operator: metav1.LabelSelectorOpExists}},
	}}
}

// rules matches the given operations on resources of one API group, at
// every version.
func rules(ops []admissionregistrationv1.OperationType, group string, resources ...string) admissionregistrationv1.NamedRuleWithOperations {
	return admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
		Operations: ops,
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: resources},
	}}
}

var (
	createUpdate = []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	createOnly   = []admissionregistrationv1.OperationType{admissionregistrationv1.Create}
)

// specChanged skips updates that leave the spec alone (labels, finalizers,
// annotations written by controllers), so that tightening a tenant's rules
// never wedges the controllers that manage existing objects.
var specChanged = admissionregistrationv1.MatchCondition{
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

func (r rule) validation() admissionregistrationv1.Validation {
	return admissionregistrationv1.Validation{
		Expression: r.expr,
		MessageExpression: "'tenant ' + params.spec.tenant + ': ' + " + r.problem +
			" + ' [rule " + r.name + "]. " + strings.ReplaceAll(r.fix, "'", "\\'") + "'",
		Reason: ptr.To(metav1.StatusReasonForbidden),
	}
}

// validatingPolicy is a policy of the given rules over match, reading the
// namespace's TenantPolicy, failing closed.
func validatingPolicy(name string, match []admissionregistrationv1.NamedRuleWithOperations, conds []admissionregistrationv1.MatchCondition, variables []admissionregistrationv1.Variable, rs ...rule) *admissionregistrationv1.ValidatingAdmissionPolicy {
	return &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: policyMeta(name),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			ParamKind:        tenantParamKind(),
			FailurePolicy:    ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: match},
			MatchConditions:  conds,
			Variables:        variables,
			Validations:      validations(rs...),
		},
	}
}

// validations are the Validations of rs, in order.
func validations(rs ...rule) []admissionregistrationv1.Validation {
	out := make([]admissionregistrationv1.Validation, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.validation())
	}
	return out
}

// vars are the Variables given as name, expression pairs, in order: a
// variable may read those before it.
func vars(kv ...string) []admissionregistrationv1.Variable {
	out := make([]admissionregistrationv1.Variable, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, admissionregistrationv1.Variable{Name: kv[i], Expression: kv[i+1]})
	}
	return out
}

// apply is one ApplyConfiguration mutation.
func apply(expr string) admissionregistrationv1.Mutation {
	return admissionregistrationv1.Mutation{PatchType: admissionregistrationv1.PatchTypeApplyConfiguration, ApplyConfiguration: &admissionregistrationv1.ApplyConfiguration{Expression: expr}}
}

// jsonPatch is one JSONPatch mutation.
func jsonPatch(expr string) admissionregistrationv1.Mutation {
	return admissionregistrationv1.Mutation{PatchType: admissionregistrationv1.PatchTypeJSONPatch, JSONPatch: &admissionregistrationv1.JSONPatch{Expression: expr}}
}
