package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

var ctx = context.Background()

func TestOwnerSelfServiceNamespaces(t *testing.T) {
	env.CreateTenant(t, testutil.Tenant("acme").Owner("alice").Member("bob").Viewer("vera").Max(2).Obj())
	env.CreateTenant(t, testutil.Tenant("globex").Owner("carol").Obj())
	env.WaitReady(t, "acme")
	alice := env.As("alice", "acme-devs")

	for _, name := range []string{"acme-dev", "acme-prod"} {
		testenv.OwnerCreatesNamespace(t, alice, name)
	}
	// The webhook stamped the tenant and its Pod Security level at creation.
	ns := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "acme-dev"}, ns); err != nil {
		t.Fatal(err)
	}
	if ns.Labels[tenancyv1alpha1.TenantLabel] != "acme" || ns.Labels["pod-security.kubernetes.io/enforce"] != "baseline" {
		t.Fatalf("namespace labels = %v, want tenant acme and enforce baseline", ns.Labels)
	}

	t.Run("the next namespace past max is refused, naming the limit", func(t *testing.T) {
		err := testenv.CreateNamespaceAs(alice, "acme-third", nil)
		testenv.Rejected(t, err, "acme", "namespaces.max")
		testenv.ExpectDenied(t, err, "namespaces.max is 2")
	})
	t.Run("a name without the tenant prefix is refused", func(t *testing.T) {
		err := testenv.CreateNamespaceAs(alice, "dev", nil)
		testenv.Rejected(t, err, "acme", "namespaces.requirePrefix")
		testenv.ExpectDenied(t, err, `must start with "acme-"`, `Try "acme-dev"`)
	})
	t.Run("a namespace labelled for another tenant is refused", func(t *testing.T) {
		err := testenv.CreateNamespaceAs(alice, "globex-stolen", map[string]string{tenancyv1alpha1.TenantLabel: "globex"})
		testenv.Rejected(t, err, "globex", "namespaces.owners")
		testenv.ExpectDenied(t, err, "you are not one of its owners", "Use a tenant you own (acme)")
	})
	t.Run("a member cannot create namespaces", func(t *testing.T) {
		testenv.ExpectDenied(t, testenv.CreateNamespaceAs(env.As("bob"), "acme-bob", nil), `User "bob" cannot create resource "namespaces"`)
	})
	t.Run("RoleBindings follow owners, members and viewers", func(t *testing.T) {
		for name, role := range map[string]string{render.OwnersBinding: render.OwnerClusterRole, render.MembersBinding: "edit", render.ViewersBinding: "view"} {
			testenv.Eventually(t, "RoleBinding "+name, func() error {
				rb := &rbacv1.RoleBinding{}
				if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "acme-prod", Name: name}, rb); err != nil {
					return err
				}
				if rb.RoleRef.Name != role {
					return fmt.Errorf("roleRef %s, want %s", rb.RoleRef.Name, role)
				}
				return nil
			})
		}
		// The member can now deploy; the viewer can read and not write.
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "acme-prod"}}
		testenv.Eventually(t, "member may create a ConfigMap", func() error { return env.As("bob").Create(ctx, cm.DeepCopy()) })
		testenv.ExpectDenied(t, env.As("vera").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "v", Namespace: "acme-prod"}}),
			`User "vera" cannot create resource "configmaps"`)
		if err := env.As("vera").Get(ctx, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{}); err != nil {
			t.Fatalf("viewer reading: %v", err)
		}
	})
	t.Run("an owner deletes their own namespace and no other", func(t *testing.T) {
		testenv.OwnerCreatesNamespace(t, env.As("carol"), "globex-web")
		testenv.Eventually(t, "owner RoleBinding in globex-web", func() error {
			return env.Client.Get(ctx, client.ObjectKey{Namespace: "globex-web", Name: render.OwnersBinding}, &rbacv1.RoleBinding{})
		})
		// Nobody of acme can read globex's world, now that it has bindings.
		testenv.ExpectDenied(t, env.As("bob").List(ctx, &corev1.ConfigMapList{}, client.InNamespace("globex-web")), `User "bob" cannot list resource "configmaps"`)
		testenv.ExpectDenied(t, alice.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "globex-web"}}),
			`User "alice" cannot delete resource "namespaces"`)
		testenv.Eventually(t, "alice may delete acme-prod", func() error {
			return alice.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "acme-prod"}})
		})
	})
	t.Run("status lists the namespaces", func(t *testing.T) {
		testenv.Eventually(t, "status.namespaces", func() error {
			tn := &tenancyv1alpha1.Tenant{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: "acme"}, tn); err != nil {
				return err
			}
			if strings.Join(tn.Status.Namespaces, ",") != "acme-dev" || tn.Status.NamespaceCount != 1 || tn.Status.NamespaceMax != 2 {
				return fmt.Errorf("status namespaces %v count %d max %d, want [acme-dev] 1 of 2", tn.Status.Namespaces, tn.Status.NamespaceCount, tn.Status.NamespaceMax)
			}
			return nil
		})
	})
}

func TestTenantCannotTouchWhatIsolatesIt(t *testing.T) {
	env.CreateTenant(t, testutil.Tenant("initech").Owner("dave").Hard().Obj())
	if got := env.WaitReady(t, "initech").Status.NamespaceMax; got != 10 {
		t.Errorf("status.namespaceMax = %d, want the profile default 10", got)
	}
	dave := env.As("dave")
	testenv.OwnerCreatesNamespace(t, dave, "initech-app")
	q := &corev1.ResourceQuota{}
	testenv.Eventually(t, "ResourceQuota", func() error {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: "initech-app", Name: render.QuotaName}, q)
	})
	t.Run("an owner cannot edit its ResourceQuota", func(t *testing.T) {
		q.Spec.Hard[corev1.ResourcePods] = resource.MustParse("1000")
		testenv.ExpectDenied(t, dave.Update(ctx, q), `User "dave" cannot update resource "resourcequotas"`)
		testenv.ExpectDenied(t, dave.Delete(ctx, q), `User "dave" cannot delete resource "resourcequotas"`)
	})
	t.Run("an owner cannot remove the tenant label", func(t *testing.T) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "initech-app"}}
		patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"tenancy.bulkhead.dev/tenant":null}}}`))
		testenv.ExpectDenied(t, dave.Patch(ctx, ns, patch), `User "dave" cannot patch resource "namespaces"`)
	})
	t.Run("even a non-admin granted namespace patch cannot change tenant or Pod Security labels", func(t *testing.T) {
		env.GrantNamespacePatch(t, "mallory")
		mallory := env.As("mallory")
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "initech-app"}}
		drop := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"tenancy.bulkhead.dev/tenant":null}}}`))
		err := mallory.Patch(ctx, ns, drop)
		testenv.Rejected(t, err, "initech", "namespaces.labels")
		testenv.ExpectDenied(t, err, "managed by Bulkhead", `Put it back to "initech"`)
		loosen := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`))
		err = mallory.Patch(ctx, ns, loosen)
		testenv.Rejected(t, err, "initech", "namespaces.labels")
		testenv.ExpectDenied(t, err, "pod-security.kubernetes.io/enforce", "pods.securityLevel")
		adopt := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"tenancy.bulkhead.dev/tenant":"initech"}}}`))
		other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "unowned-ns"}}
		if err := env.Client.Create(ctx, other); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		err = mallory.Patch(ctx, other, adopt)
		testenv.Rejected(t, err, "initech", "namespaces.labels")
		testenv.ExpectDenied(t, err, "only a cluster admin can bring", "Ask a cluster admin to adopt it")
	})
	t.Run("the API server's PodSecurity admission refuses a privileged pod", func(t *testing.T) {
		testenv.Eventually(t, "default service account", func() error {
			return env.Client.Get(ctx, client.ObjectKey{Namespace: "initech-app", Name: "default"}, &corev1.ServiceAccount{})
		})
		// The owner must be allowed to create pods, so that the denial
		// below can only come from Pod Security.
		testenv.Eventually(t, "dave may create pods", func() error {
			return testenv.CanI(dave, "create", "pods", "initech-app")
		})
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "priv", Namespace: "initech-app"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "c", Image: "registry.example/app",
				SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
			}}},
		}
		testenv.ExpectDenied(t, dave.Create(ctx, pod), `violates PodSecurity "restricted:v1.36"`, "privileged")
	})
}

func TestDeletionPolicies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy tenancyv1alpha1.DeletionPolicy
	}{{"retain", tenancyv1alpha1.DeletionRetain}, {"delete", tenancyv1alpha1.DeletionDelete}} {
		t.Run(string(tc.policy), func(t *testing.T) {
			tenant := "del-" + tc.name
			owner := "owner-" + tc.name
			env.CreateTenant(t, testutil.Tenant(tenant).Owner(owner).Hard().DeletionPolicy(tc.policy).Obj())
			ns := tenant + "-x"
			env.WaitReady(t, tenant)
			testenv.OwnerCreatesNamespace(t, env.As(owner), ns)
			// Every kind is there before deletion, so that "nothing left
			// behind" below cannot pass for want of objects.
			sel := client.MatchingLabels{tenancyv1alpha1.TenantLabel: tenant, tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}
			kinds := []client.ObjectList{&rbacv1.RoleBindingList{}, &rbacv1.ClusterRoleBindingList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{}, &networkingv1.NetworkPolicyList{}}
			for _, list := range kinds {
				testenv.Eventually(t, fmt.Sprintf("%T rendered for %s", list, tenant), func() error {
					if err := env.Client.List(ctx, list, sel); err != nil {
						return err
					}
					if len(mustItems(t, list)) == 0 {
						return fmt.Errorf("none yet")
					}
					return nil
				})
			}
			if err := env.Client.Delete(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenant}}); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, "tenant gone", func() error {
				return testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Name: tenant}, &tenancyv1alpha1.Tenant{}), "tenant")
			})
			// Nothing of Bulkhead is left behind, in any namespace or cluster-wide.
			for _, list := range kinds {
				if err := env.Client.List(ctx, list, sel); err != nil {
					t.Fatal(err)
				}
				if n := len(mustItems(t, list)); n != 0 {
					t.Errorf("%T: %d objects left behind", list, n)
				}
			}
			got := &corev1.Namespace{}
			if tc.policy == tenancyv1alpha1.DeletionRetain {
				if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
					t.Fatalf("retained namespace: %v", err)
				}
				if got.DeletionTimestamp != nil || got.Status.Phase != corev1.NamespaceActive {
					t.Fatalf("retained namespace %s is being deleted (phase %s)", ns, got.Status.Phase)
				}
				// Kept and locked (TestRetainedNamespaceIsLocked has the rest).
				if _, ok := got.Labels[tenancyv1alpha1.TenantLabel]; ok {
					t.Errorf("retained namespace still has the tenant label")
				}
				if got.Labels[tenancyv1alpha1.RetainedLabel] != tenant || got.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
					t.Errorf("retained namespace is not locked: labels %v", got.Labels)
				}
				return
			}
			testenv.Eventually(t, "namespace deleted", func() error {
				return testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Name: ns}, got), "namespace "+ns+" (phase "+string(got.Status.Phase)+")")
			})
		})
	}
}

func mustItems(t *testing.T, list client.ObjectList) []any {
	t.Helper()
	switch l := list.(type) {
	case *rbacv1.RoleBindingList:
		return anySlice(l.Items)
	case *rbacv1.ClusterRoleBindingList:
		return anySlice(l.Items)
	case *corev1.ResourceQuotaList:
		return anySlice(l.Items)
	case *corev1.LimitRangeList:
		return anySlice(l.Items)
	case *networkingv1.NetworkPolicyList:
		return anySlice(l.Items)
	}
	t.Fatalf("unexpected list %T", list)
	return nil
}

func anySlice[T any](in []T) []any {
	out := make([]any, len(in))
	for i := range in {
		out[i] = in[i]
	}
	return out
}

// TestBindingsFollowSubjects: changing a Tenant's members and viewers
// changes who the RoleBindings name, and removing every viewer removes
// their binding.
func TestBindingsFollowSubjects(t *testing.T) {
	env.CreateTenant(t, testutil.Tenant("wayne").Owner("bruce").Member("alfred").Viewer("lucius").Obj())
	env.WaitReady(t, "wayne")
	testenv.OwnerCreatesNamespace(t, env.As("bruce"), "wayne-cave")
	testenv.Eventually(t, "viewer binding", func() error {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: "wayne-cave", Name: render.ViewersBinding}, &rbacv1.RoleBinding{})
	})
	testenv.Eventually(t, "the first member has access", func() error { return testenv.CanI(env.As("alfred"), "create", "configmaps", "wayne-cave") })

	// Controllers write the Tenant too (finalizers): retry on conflicts.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		tn := &tenancyv1alpha1.Tenant{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "wayne"}, tn); err != nil {
			return err
		}
		tn.Spec.Members = []tenancyv1alpha1.Subject{testutil.User("dick"), {Kind: tenancyv1alpha1.SubjectGroup, Name: "robins"}}
		tn.Spec.Viewers = nil
		return env.Client.Update(ctx, tn)
	}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "members binding names the new members", func() error {
		rb := &rbacv1.RoleBinding{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "wayne-cave", Name: render.MembersBinding}, rb); err != nil {
			return err
		}
		var names []string
		for _, s := range rb.Subjects {
			names = append(names, s.Kind+":"+s.Name)
		}
		if strings.Join(names, ",") != "User:dick,Group:robins" {
			return fmt.Errorf("subjects %v", names)
		}
		return nil
	})
	testenv.Eventually(t, "viewer binding removed", func() error {
		return testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Namespace: "wayne-cave", Name: render.ViewersBinding}, &rbacv1.RoleBinding{}), "viewer binding")
	})
	testenv.Eventually(t, "the old member lost access", func() error {
		allowed, err := testenv.ReviewAccess(env.As("alfred"), "create", "configmaps", "wayne-cave")
		if err != nil {
			return err
		}
		if allowed {
			return errors.New("alfred may still create configmaps")
		}
		return nil
	})
	testenv.Eventually(t, "the new member has access", func() error { return testenv.CanI(env.As("dick"), "create", "configmaps", "wayne-cave") })
}
