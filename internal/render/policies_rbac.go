package render

import (
	"sort"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The rbac family: whom a tenant's RoleBindings may name, and in Hard which
// ClusterRoles (rules rbac.subjects and rbac.clusterRoles). Its parameters
// are TenantPolicySpec.RBAC. The tokens tenants mint (rule rbac.tokens) are
// bounded by a policy of their own, without parameters: see tokens.go.

// RBACPolicy names the policy of the rbac family and its binding.
const RBACPolicy = "bulkhead-rbac"

// CanonicalSubject is the string form of an RBAC subject in TenantPolicy.
func CanonicalSubject(kind, namespace, name string) string {
	if kind == "ServiceAccount" {
		return kind + ":" + namespace + ":" + name
	}
	return kind + ":" + name
}

// rbacParams flattens whom t's RoleBindings may name, and which
// ClusterRoles, into rbac.
func rbacParams(rbac *tenancyv1alpha1.RBACRules, sc *Scope) {
	namespaces, s, spec := sc.Namespaces, sc.Settings, sc.Spec
	hard := spec.Isolation == tenancyv1alpha1.IsolationHard
	*rbac = tenancyv1alpha1.RBACRules{Restricted: hard, Subjects: []string{}, Namespaces: sortedCopy(namespaces), ClusterRoles: []string{}}
	if rbac.Namespaces == nil {
		rbac.Namespaces = []string{}
	}
	// Subjects are checked in every profile (see Identities); the
	// ClusterRoles a binding may name only in Hard.
	// The admission rule and the RBAC sweep read one set of identities.
	rbac.Subjects = append(rbac.Subjects, TenantIdentities(sc).Subjects()...)
	if hard {
		roles := map[string]bool{OwnerClusterRole: true, MemberClusterRole: true, ViewerClusterRole: true}
		for _, r := range s.TenantClusterRoles {
			roles[r] = true
		}
		for r := range roles {
			rbac.ClusterRoles = append(rbac.ClusterRoles, r)
		}
		sort.Strings(rbac.ClusterRoles)
	}
}

// rbacValidation judges the RoleBindings written in the tenant's namespaces
// by anyone but Bulkhead and admins: whom they name and, in Hard, which
// ClusterRole they grant.
func rbacValidation(s Settings) *admissionregistrationv1.ValidatingAdmissionPolicy {
	return validatingPolicy(RBACPolicy,
		[]admissionregistrationv1.NamedRuleWithOperations{rules(createUpdate, "rbac.authorization.k8s.io", "rolebindings")},
		[]admissionregistrationv1.MatchCondition{{
			// Bulkhead's own bindings are rendered from the Tenant, and
			// may be written just before the TenantPolicy catches up.
			Name:       "not-bulkhead-or-admin",
			Expression: notBulkheadOrAdmin(s),
		}},
		vars(
			"badSubjects", "!has(object.subjects) ? [] : object.subjects.filter(s, "+
				"s.kind == 'ServiceAccount' ? !((has(s.namespace) && s.namespace != '' ? s.namespace : request.namespace) in params.spec.rbac.namespaces || "+
				"('ServiceAccount:' + (has(s.namespace) ? s.namespace : '') + ':' + s.name) in params.spec.rbac.subjects) : "+
				"!((s.kind + ':' + s.name) in params.spec.rbac.subjects)).map(s, s.kind + ' ' + s.name)",
		),
		rule{
			name:    "rbac.subjects",
			expr:    "size(variables.badSubjects) == 0",
			problem: "'subject ' + variables.badSubjects[0] + ' is not an owner, member or viewer of the tenant, nor a service account of its namespaces'",
			fix:     "Bind only the tenant's own identities; ask a cluster admin to add a person to the Tenant",
		},
		rule{
			name:    "rbac.clusterRoles",
			expr:    "!params.spec.rbac.restricted || object.roleRef.kind != 'ClusterRole' || object.roleRef.name in params.spec.rbac.clusterRoles",
			problem: "'ClusterRole ' + object.roleRef.name + ' may not be bound; allowed: ' + params.spec.rbac.clusterRoles.join(', ')",
			fix:     "Reference an allowed ClusterRole, or a Role of this namespace",
		},
	)
}
