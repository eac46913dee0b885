package render

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// wantMeta is the metadata every object rendered for tenant acme (uid
// "acme-uid") carries.
func wantMeta(concern, namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: namespace,
		Labels: map[string]string{
			"app.kubernetes.io/managed-by": "bulkhead",
			"tenancy.bulkhead.dev/tenant":  "acme",
			"tenancy.bulkhead.dev/concern": concern,
		},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion:         "tenancy.bulkhead.dev/v1alpha1",
			Kind:               "Tenant",
			Name:               "acme",
			UID:                "acme-uid",
			Controller:         ptr.To(true),
			BlockOwnerDeletion: ptr.To(true),
		}},
	}
}

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: name}
}

func roleBinding(namespace, name, role string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: wantMeta("rbac", namespace, name),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
		Subjects:   subjects,
	}
}

func creatorBinding(subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: wantMeta("rbac", "", "bulkhead:acme:namespace-creators"),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "bulkhead:namespace-creator"},
		Subjects:   subjects,
	}
}

func TestRBAC(t *testing.T) {
	acme := func() *testutil.TenantWrapper { return testutil.Tenant("acme").UID("acme-uid") }

	tests := []struct {
		name       string
		tenant     *tenancyv1alpha1.Tenant
		namespaces []string
		want       []client.Object
	}{
		{
			name:   "no namespaces yet: only owners may create one",
			tenant: acme().Owner("alice").Member("bob").Obj(),
			want:   []client.Object{creatorBinding(userSubject("alice"))},
		},
		{
			name:       "owners only: no member or viewer bindings",
			tenant:     acme().Owner("alice").Obj(),
			namespaces: []string{"acme-dev"},
			want: []client.Object{
				creatorBinding(userSubject("alice")),
				roleBinding("acme-dev", "bulkhead-owners", "bulkhead:tenant-owner", userSubject("alice")),
			},
		},
		{
			name:       "every role, namespaces in sorted order",
			tenant:     acme().Owner("alice").Member("bob").Viewer("carol").Viewer("dave").Obj(),
			namespaces: []string{"acme-prod", "acme-dev"},
			want: []client.Object{
				creatorBinding(userSubject("alice")),
				roleBinding("acme-dev", "bulkhead-owners", "bulkhead:tenant-owner", userSubject("alice")),
				roleBinding("acme-dev", "bulkhead-members", "edit", userSubject("bob")),
				roleBinding("acme-dev", "bulkhead-viewers", "view", userSubject("carol"), userSubject("dave")),
				roleBinding("acme-prod", "bulkhead-owners", "bulkhead:tenant-owner", userSubject("alice")),
				roleBinding("acme-prod", "bulkhead-members", "edit", userSubject("bob")),
				roleBinding("acme-prod", "bulkhead-viewers", "view", userSubject("carol"), userSubject("dave")),
			},
		},
		{
			name:       "groups and service accounts keep their kind and namespace",
			tenant:     acme().Group("acme-admins").ServiceAccount("ci", "deployer").Viewer("carol").Obj(),
			namespaces: []string{"acme-dev"},
			want: []client.Object{
				creatorBinding(
					rbacv1.Subject{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "acme-admins"},
					rbacv1.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"},
				),
				roleBinding("acme-dev", "bulkhead-owners", "bulkhead:tenant-owner",
					rbacv1.Subject{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "acme-admins"},
					rbacv1.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"},
				),
				roleBinding("acme-dev", "bulkhead-viewers", "view", userSubject("carol")),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RBAC(tc.tenant, tc.namespaces)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("RBAC() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRBACDoesNotReorderInput(t *testing.T) {
	namespaces := []string{"acme-prod", "acme-dev"}
	RBAC(testutil.Tenant("acme").Owner("alice").Obj(), namespaces)
	if diff := cmp.Diff([]string{"acme-prod", "acme-dev"}, namespaces); diff != "" {
		t.Errorf("RBAC() reordered its input (-want +got):\n%s", diff)
	}
}

func TestSubjects(t *testing.T) {
	tests := []struct {
		name string
		in   []tenancyv1alpha1.Subject
		want []rbacv1.Subject
	}{
		{
			name: "none is an empty list, not nil",
			want: []rbacv1.Subject{},
		},
		{
			name: "each kind",
			in: []tenancyv1alpha1.Subject{
				{Kind: tenancyv1alpha1.SubjectUser, Name: "alice"},
				{Kind: tenancyv1alpha1.SubjectGroup, Name: "devs"},
				{Kind: tenancyv1alpha1.SubjectServiceAccount, Namespace: "ci", Name: "deployer"},
			},
			want: []rbacv1.Subject{
				{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "alice"},
				{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "devs"},
				{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Subjects(tc.in)); diff != "" {
				t.Errorf("Subjects() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClusterRolesCannotEditQuota guards the Multi-Tenancy Benchmark rule that
// tenants must not change their own ResourceQuotas or LimitRanges
// (PL1-CC-TI-1): the owner role may read them and nothing more.
func TestClusterRolesCannotEditQuota(t *testing.T) {
	roles := ClusterRoles(DefaultSettings())
	var owner *rbacv1.ClusterRole
	for _, r := range roles {
		if r.Name == OwnerClusterRole {
			owner = r
		}
	}
	if owner == nil {
		t.Fatalf("ClusterRoles() has no %q", OwnerClusterRole)
	}
	seen := map[string]bool{}
	for _, rule := range owner.Rules {
		if slices.Contains(rule.Resources, "*") || slices.Contains(rule.Verbs, "*") || slices.Contains(rule.APIGroups, "*") {
			t.Errorf("owner rule %+v uses a wildcard", rule)
		}
		for _, res := range rule.Resources {
			if res != "resourcequotas" && res != "limitranges" && res != "endpoints" {
				continue
			}
			seen[res] = true
			if diff := cmp.Diff([]string{"get", "list", "watch"}, rule.Verbs); diff != "" {
				t.Errorf("owner verbs on %s (-want +got):\n%s", res, diff)
			}
		}
	}
	for _, res := range []string{"resourcequotas", "limitranges", "endpoints"} {
		if !seen[res] {
			t.Errorf("the owner role does not grant reading %s", res)
		}
	}
}

// TestOwnerBindsExactlyTheBindableRoles: owners may bind the settings'
// ClusterRoles and no other; with none listed there is no bind rule at all,
// for a bind rule without names would cover every ClusterRole.
func TestOwnerBindsExactlyTheBindableRoles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		roles []string
		want  []rbacv1.PolicyRule
	}{
		{"the settings' roles, by name", []string{"view", "admin", "edit"}, []rbacv1.PolicyRule{{
			APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"},
			ResourceNames: []string{"admin", "edit", "view"},
		}}},
		{"none listed", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			s.TenantClusterRoles = tc.roles
			var got []rbacv1.PolicyRule
			for _, role := range ClusterRoles(s) {
				for _, rule := range role.Rules {
					if slices.Contains(rule.Verbs, "bind") || slices.Contains(rule.Verbs, "escalate") || slices.Contains(rule.Resources, "clusterroles") {
						if role.Name != OwnerClusterRole {
							t.Errorf("role %s has rule %+v", role.Name, rule)
						}
						got = append(got, rule)
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rules on ClusterRoles (-want +got):\n%s", diff)
			}
		})
	}
}
