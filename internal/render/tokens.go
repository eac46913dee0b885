package render

import (
	"strconv"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TokensPolicy bounds the ServiceAccount tokens tenants mint themselves.
const TokensPolicy = "bulkhead-tokens"

// LegacyTokensPolicy is TokensPolicy's name at render version 1.
const LegacyTokensPolicy = "bulkhead-serviceaccount-tokens"

// tokensPolicyName is the tokens policy's name at the settings' render
// version.
func tokensPolicyName(s Settings) string {
	if s.Version() == RenderVersion1 {
		return LegacyTokensPolicy
	}
	return TokensPolicy
}

// TokensPolicies are the policy that bounds the tokens tenant identities
// mint for their ServiceAccounts, and its one binding. A token outlives the
// person who minted it: when an owner is removed from the Tenant, Bulkhead
// revokes their bindings at once, but a token they minted for one of the
// tenant's ServiceAccounts acts until it expires. So tenants may not make
// token Secrets (kubernetes.io/service-account-token, which never expire),
// and a TokenRequest may ask for at most Settings.TenantTokenMaxSeconds.
// Nodes (the kubelet asks for pods' tokens, bound to the pod), the control
// plane's controllers, Bulkhead and cluster admins are not judged. Neither
// rule needs parameters.
func TokensPolicies(s Settings) []client.Object {
	max := strconv.FormatInt(s.TenantTokenMaxSeconds, 10)
	tenant := namespaceTenantCEL
	name := tokensPolicyName(s)
	p := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: policyMeta(name),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{
				rules(createOnly, "", "secrets", "serviceaccounts/token"),
			}},
			MatchConditions: []admissionregistrationv1.MatchCondition{{
				Name:       "a-tenant-identity",
				Expression: notBulkheadOrAdmin(s) + " && !request.userInfo.username.startsWith('system:node:') && !" + controlPlaneCEL(),
			}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "request.resource.resource != 'secrets' || !has(object.type) || object.type != 'kubernetes.io/service-account-token'",
				MessageExpression: "'tenant ' + " + tenant + " + ': a Secret of type kubernetes.io/service-account-token holds a token that never expires, " +
					"and would outlive whoever made it [rule rbac.tokens]. Ask for a short-lived token instead (kubectl create token, at most " + max + " seconds)'",
				Message: "a token Secret never expires [rule rbac.tokens]. Ask for a short-lived token instead",
				Reason:  ptr.To(metav1.StatusReasonForbidden),
			}, {
				Expression: "request.resource.resource != 'serviceaccounts' || !has(object.spec.expirationSeconds) || object.spec.expirationSeconds <= " + max,
				MessageExpression: "'tenant ' + " + tenant + " + ': a token of ' + string(object.spec.expirationSeconds) + ' seconds would outlive " +
					"whoever asked for it by too long [rule rbac.tokens]. Ask for at most " + max + " seconds (kubectl create token --duration), and again when it runs out'",
				Message: "the token would live too long [rule rbac.tokens]. Ask for a shorter one",
				Reason:  ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
	b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: policyMeta(name),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			MatchResources:    tenantNamespaces(),
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	return []client.Object{p, b}
}
