package e2e

// Ways out a second review by attack found once the first round was closed.
// Each test plays a hostile tenant owner (or someone the platform trusted
// with a narrow right) and asserts the secure outcome; the comment above it
// says what the attack was and what it bought.

import (
	"errors"
	"fmt"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// asToken is a client that authenticates with a bearer token only, as
// someone holding the token from outside the cluster would.
func asToken(t *testing.T, token string) client.Client {
	t.Helper()
	cfg := rest.AnonymousClientConfig(env.Config())
	cfg.BearerToken = token
	c, err := client.New(cfg, client.Options{Scheme: setup.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRedteamRetainedNamespaceUnlockedByANamespacePatcher: the lock on a
// retained namespace hangs on the label tenancy.bulkhead.dev/retained and
// its Pod Security labels, and the namespace webhook checks reserved labels
// only on namespaces that carry the tenant label, which a retained one no
// longer does.
//
// Attack: someone who is not a cluster admin but may patch namespaces (the
// delegated right the namespace-label rules are tested against) removes
// the retained label and sets Pod Security to privileged on a namespace
// retained from a deleted Tenant. Only an admin was to adopt or release it.
//
// Impact: the namespace is "released": the bulkhead-retained policy no
// longer matches, Bulkhead removes the deny-all NetworkPolicy, and the
// CronJobs and Deployments planted by the former tenant start privileged,
// hostPath pods, which is what Retain was made to prevent.
func TestRedteamRetainedNamespaceUnlockedByANamespacePatcher(t *testing.T) {
	const tenant, ns, patcher = "rtr", "rtr-app", "rtr-ops"
	env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner("rtr-owner").Hard().DeletionPolicy(tenancyv1alpha1.DeletionRetain).Obj(), ns)
	if err := env.Client.Delete(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenant}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "namespace retained", func() error {
		got := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
			return err
		}
		if got.Labels[tenancyv1alpha1.RetainedLabel] != tenant {
			return fmt.Errorf("labels %v", got.Labels)
		}
		return nil
	})
	env.GrantNamespacePatch(t, patcher)

	patch := []byte(`{"metadata":{"labels":{"` + tenancyv1alpha1.RetainedLabel + `":null,` +
		`"pod-security.kubernetes.io/enforce":"privileged","pod-security.kubernetes.io/enforce-version":"latest"}}}`)
	err := env.As(patcher).Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, client.RawPatch(types.MergePatchType, patch))
	if err == nil {
		// Show what it bought: a privileged pod with the node's root
		// filesystem is now admitted there (a dry run, as an admin: the lock
		// refused it for everyone).
		privileged := testutil.Pod(ns, "root", "registry.example.com/app:1", func(p *corev1.Pod) {
			p.Spec.SecurityContext = nil
			p.Spec.HostPID = true
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
			p.Spec.Volumes = []corev1.Volume{{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
		})
		perr := env.Client.Create(ctx, privileged, client.DryRunAll)
		t.Errorf("a non-admin released the retained namespace %s; a privileged hostPath pod there now gets: %v", ns, perr)
	}
	testenv.Rejected(t, err, tenant, "namespaces.retained")
}

// TestRedteamAdoptedNamespaceHonoursTheFormerOwnersToken: "the former
// tenant's people gain nothing" when a retained namespace is adopted into
// another tenant. Retain deletes the RoleBindings, but keeps the
// namespace's ServiceAccounts, and with them every token minted for them.
//
// Attack: before the Tenant is deleted, its owner mints a long-lived token
// for the namespace's default ServiceAccount (serviceaccounts/token is in
// the owner role). An admin deletes the Tenant with Retain, then adopts the
// namespace into another tenant, whose owner does the ordinary thing: gives
// the ServiceAccount its workloads run as some rights there.
//
// Impact: the former owner, now a stranger to the namespace, acts with
// whatever the new tenant grants its own ServiceAccounts (here, reading
// its configuration). The old tokens should die with the old tenant (for
// example by replacing the ServiceAccounts on retention or adoption).
func TestRedteamAdoptedNamespaceHonoursTheFormerOwnersToken(t *testing.T) {
	const tenant, ns, heir, heirOwner = "rta", "rta-app", "rtb", "rtb-owner"
	former := env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner("rta-owner").Hard().DeletionPolicy(tenancyv1alpha1.DeletionRetain).Obj(), ns)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(env.Settings.TenantTokenMaxSeconds)}}
	if err := former.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("owner minting a token for the default ServiceAccount: %v", err)
	}
	kept := asToken(t, tr.Status.Token)

	if err := env.Client.Delete(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenant}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "tenant gone, namespace retained", func() error {
		if err := testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Name: tenant}, &tenancyv1alpha1.Tenant{}), "tenant"); err != nil {
			return err
		}
		got := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
			return err
		}
		if got.Labels[tenancyv1alpha1.RetainedLabel] != tenant {
			return fmt.Errorf("labels %v", got.Labels)
		}
		return nil
	})
	env.CreateTenant(t, testutil.Tenant(heir).Owner(heirOwner).Hard().Obj())
	env.WaitReady(t, heir)
	adopt := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+tenancyv1alpha1.TenantLabel+`":"`+heir+`"}}}`))
	if err := env.Client.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, adopt); err != nil {
		t.Fatalf("admin adopting: %v", err)
	}
	testenv.Eventually(t, "the namespace is the new tenant's", func() error { return env.TenantPolicyOf(ns, heir) })
	owner := env.As(heirOwner)
	testenv.Eventually(t, "the new owner has access", func() error { return testenv.CanI(owner, "create", "pods", ns) })
	// The new tenant lets its workloads read their configuration.
	testenv.Eventually(t, "the new owner binds view to its ServiceAccount", func() error {
		return owner.Create(ctx, testutil.RoleBinding(ns, "app-reads", "view", testutil.ServiceAccountSubject(ns, "default")))
	})
	testenv.Eventually(t, "the new tenant's ServiceAccount may read ConfigMaps", func() error {
		allowed, err := testenv.ReviewAccess(env.As("system:serviceaccount:"+ns+":default"), "list", "configmaps", ns)
		if err != nil {
			return err
		}
		if !allowed {
			return errors.New("not yet")
		}
		return nil
	})

	err := kept.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(ns))
	if err == nil {
		t.Fatalf("the former tenant's owner acts in the namespace adopted by %s with a token minted before the Tenant was deleted", heir)
	}
	if !apierrors.IsUnauthorized(err) && !apierrors.IsForbidden(err) {
		t.Fatalf("using the former owner's token: %v", err)
	}
}
