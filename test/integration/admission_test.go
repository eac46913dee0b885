package integration

import (
	"context"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestRoleBindingRules checks that an owner may bind only the tenant's
// identities, in every profile, and inside a Hard tenant only to allowed
// ClusterRoles, while a Soft tenant's owner may bind any role they hold.
func TestRoleBindingRules(t *testing.T) {
	ctx := context.Background()
	// A role the owner holds every permission of, so that RBAC's own
	// escalation check lets the binding through to Bulkhead's rule.
	env.Ensure(t, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "bulkhead-test:read-configmaps"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}})
	hard := env.TenantWithNamespace(t, testutil.Tenant("rbh").Owner("rbh-owner").Member("rbh-dev").Hard().Obj(), "rbh-app")
	soft := env.TenantWithNamespace(t, testutil.Tenant("rbs").Owner("rbs-owner").Soft().Obj(), "rbs-app")

	// Roles of the namespace are always allowed; subjects are what is checked.
	if err := hard.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "rbh-app", Name: "reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}); err != nil {
		t.Fatalf("owner creating a Role: %v", err)
	}
	rb := func(ns, name, role string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
		kind := "ClusterRole"
		if role == "reader" {
			kind = "Role"
		}
		return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role}, Subjects: subjects}
	}
	user := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: n}
	}
	sa := func(ns, n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: "ServiceAccount", Namespace: ns, Name: n}
	}

	testenv.Rejected(t, hard.Create(ctx, rb("rbh-app", "stranger", "reader", user("mallory"))), "rbh", "rbac.subjects")
	testenv.Rejected(t, hard.Create(ctx, rb("rbh-app", "foreign-sa", "reader", sa("rbs-app", "default"))), "rbh", "rbac.subjects")
	testenv.Rejected(t, hard.Create(ctx, rb("rbh-app", "role", "bulkhead-test:read-configmaps", user("rbh-dev"))), "rbh", "rbac.clusterRoles")
	if err := hard.Create(ctx, rb("rbh-app", "ok", "reader", user("rbh-dev"), sa("rbh-app", "default"))); err != nil {
		t.Fatalf("binding the tenant's own identities: %v", err)
	}
	// A binding to someone outside the tenant would outlive any change of
	// the Tenant: refused in Soft too (the RBAC controller deletes any that
	// exist).
	testenv.Rejected(t, soft.Create(ctx, rb("rbs-app", "anyone", "bulkhead-test:read-configmaps", user("mallory"))), "rbs", "rbac.subjects")
	if err := soft.Create(ctx, rb("rbs-app", "own", "bulkhead-test:read-configmaps", user("rbs-owner"), sa("rbs-app", "default"))); err != nil {
		t.Fatalf("a Soft tenant's owner binding its own identities to a role it holds: %v", err)
	}
}

// TestOwnerBindsTheBindableRoles: in Hard and Soft tenants, an owner may
// bind exactly the ClusterRoles the manager's settings list (admin, edit,
// view) to the tenant's identities, although the owner role lacks some of
// their permissions; binding cluster-admin is refused by RBAC itself, before
// any Bulkhead rule, because the owner may not bind it.
func TestOwnerBindsTheBindableRoles(t *testing.T) {
	for _, tc := range []struct {
		tenant *tenancyv1alpha1.Tenant
		ns     string
	}{
		{testutil.Tenant("bindh").Owner("bindh-owner").Hard().Obj(), "bindh-app"},
		{testutil.Tenant("binds").Owner("binds-owner").Soft().Obj(), "binds-app"},
	} {
		t.Run(string(tc.tenant.Spec.Isolation), func(t *testing.T) {
			owner := env.TenantWithNamespace(t, tc.tenant, tc.ns)
			app := testutil.ServiceAccountSubject(tc.ns, "default")
			for _, role := range env.Settings.TenantClusterRoles {
				if err := owner.Create(ctx, testutil.RoleBinding(tc.ns, "app-"+role, role, app)); err != nil {
					t.Errorf("owner binding %s to the namespace's service account: %v", role, err)
				}
			}
			err := owner.Create(ctx, testutil.RoleBinding(tc.ns, "app-root", "cluster-admin", app))
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "is attempting to grant RBAC permissions not currently held") {
				t.Errorf("owner binding cluster-admin: %v; want RBAC's escalation check to refuse it", err)
			}
			// Bindable, but only to the tenant's own.
			testenv.Rejected(t, owner.Create(ctx, testutil.RoleBinding(tc.ns, "stranger-admin", "admin", testutil.UserSubject("mallory"))), tc.tenant.Name, "rbac.subjects")
		})
	}
}

// TestManagedObjects checks that an owner, who may edit RoleBindings and
// NetworkPolicies in general, may neither edit nor delete the ones Bulkhead
// rendered into the tenant's namespace, nor its TenantPolicy.
func TestManagedObjects(t *testing.T) {
	ctx := context.Background()
	owner := env.TenantWithNamespace(t, testutil.Tenant("mo").Owner("mo-owner").Member("mo-dev").Hard().Obj(), "mo-app")
	for _, obj := range []client.Object{
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "mo-app", Name: render.OwnersBinding}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "mo-app", Name: render.IngressPolicy}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "mo-app", Name: render.EgressPolicy}},
	} {
		testenv.Rejected(t, owner.Delete(ctx, obj), "mo", "managed-objects")
		if err := owner.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		obj.SetLabels(map[string]string{"tampered": "true"})
		testenv.Rejected(t, owner.Update(ctx, obj), "mo", "managed-objects")
	}
	// The owner may read the TenantPolicy, and nothing more.
	policy := &tenancyv1alpha1.TenantPolicy{}
	testenv.Eventually(t, "owner may read the TenantPolicy", func() error {
		return owner.Get(ctx, client.ObjectKey{Namespace: "mo-app", Name: tenancyv1alpha1.TenantPolicyName}, policy)
	})
	if policy.Spec.Tenant != "mo" {
		t.Errorf("TenantPolicy names tenant %q", policy.Spec.Tenant)
	}
	err := owner.Delete(ctx, policy)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot delete resource "tenantpolicies"`) {
		t.Fatalf("owner deleting the TenantPolicy: %v, want Forbidden by RBAC", err)
	}
}
