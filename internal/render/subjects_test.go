package render

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func TestIdentitiesForeign(t *testing.T) {
	s := DefaultSettings()
	tn := testutil.Tenant("acme").Owner("alice").Group("acme-admins").ServiceAccount("ci", "deployer").
		Member("bob").Viewer("carol").Obj()
	ids := TenantIdentities(NewScope(tn, []string{"acme-a", "acme-b"}, s))
	user := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	group := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	sa := func(ns, n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: n}
	}

	for _, tc := range []struct {
		name     string
		ids      Identities
		subjects []rbacv1.Subject
		want     []string
	}{
		{"owners, members and viewers", ids, []rbacv1.Subject{user("alice"), group("acme-admins"), user("bob"), user("carol")}, nil},
		{"a removed owner", ids, []rbacv1.Subject{user("bob"), user("dave")}, []string{"User dave"}},
		{"a name is not a kind: a group called like an owner", ids, []rbacv1.Subject{group("alice")}, []string{"Group alice"}},
		{"service accounts of the tenant's namespaces", ids, []rbacv1.Subject{sa("acme-a", "default"), sa("acme-b", "app"), sa("", "app")}, nil},
		{"a service account named in the Tenant", ids, []rbacv1.Subject{sa("ci", "deployer")}, nil},
		{"another service account of that namespace", ids, []rbacv1.Subject{sa("ci", "other")}, []string{"ServiceAccount ci/other"}},
		{"another tenant's service account", ids, []rbacv1.Subject{sa("globex-a", "default")}, []string{"ServiceAccount globex-a/default"}},
		{"every authenticated user", ids, []rbacv1.Subject{group("system:authenticated")}, []string{"Group system:authenticated"}},
		{"a tenant namespace's service accounts as a group", ids, []rbacv1.Subject{group("system:serviceaccounts:acme-a")}, []string{"Group system:serviceaccounts:acme-a"}},
		{"a service account written as a user", ids, []rbacv1.Subject{user("system:serviceaccount:acme-a:default")}, []string{"User system:serviceaccount:acme-a:default"}},
		{"the platform's service accounts and admin groups", ids, []rbacv1.Subject{sa("kube-system", "monitor"), sa("bulkhead-system", "bulkhead-manager"), group("system:masters")}, nil},
		{"a retained namespace has no identities", NoIdentities(), []rbacv1.Subject{user("alice"), sa("", "default"), sa("kube-system", "monitor")}, []string{"User alice", "ServiceAccount acme-a/default"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.ids.Foreign("acme-a", tc.subjects, s)); diff != "" {
				t.Errorf("Foreign (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIdentitiesAreTheRuleSubjects: the RBAC controller deletes exactly the
// bindings the rbac.subjects rule would refuse, so both read one set: every
// subject the TenantPolicy lists is an identity, in every profile.
func TestIdentitiesAreTheRuleSubjects(t *testing.T) {
	s := DefaultSettings()
	base := func() *testutil.TenantWrapper {
		return testutil.Tenant("acme").Owner("alice").Group("acme-admins").ServiceAccount("ci", "deployer").Member("bob").Viewer("carol")
	}
	for name, tn := range map[string]*tenancyv1alpha1.Tenant{"Soft": base().Soft().Obj(), "Hard": base().Hard().Obj()} {
		t.Run(name, func(t *testing.T) {
			spec := TenantPolicySpec(NewScope(tn, []string{"acme-a"}, s), PolicyInputs{})
			if len(spec.RBAC.Subjects) != 5 {
				t.Fatalf("TenantPolicy subjects %v, want the tenant's five", spec.RBAC.Subjects)
			}
			ids := TenantIdentities(NewScope(tn, []string{"acme-a"}, s))
			for _, c := range spec.RBAC.Subjects {
				if got := ids.Foreign("acme-a", []rbacv1.Subject{subjectOf(c)}, s); len(got) != 0 {
					t.Errorf("rule subject %s is foreign to the identities", c)
				}
			}
		})
	}
}

// subjectOf parses CanonicalSubject's form back.
func subjectOf(c string) rbacv1.Subject {
	parts := strings.SplitN(c, ":", 3)
	if parts[0] == rbacv1.ServiceAccountKind {
		return rbacv1.Subject{Kind: parts[0], Namespace: parts[1], Name: parts[2]}
	}
	return rbacv1.Subject{Kind: parts[0], Name: strings.SplitN(c, ":", 2)[1]}
}
