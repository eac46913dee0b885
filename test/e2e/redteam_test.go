package e2e

// Ways out a second review by attack found once the first round was closed.
// Each test plays a hostile tenant owner (or someone the platform trusted
// with a narrow right) and asserts the secure outcome; the comment above it
// says what the attack was and what it bought.

import (
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/netoracle"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
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

// TestRedteamIngressIPBlockAdmitsEveryone: network.ingress judges only the
// namespaceSelector peers of a tenant's own NetworkPolicies; ipBlock peers
// in ingress rules are not looked at.
//
// Attack: the owner of a Hard tenant (namespace isolation, allowFrom
// empty) writes an ingress rule `from: [{ipBlock: {cidr: 0.0.0.0/0}}]`.
//
// Impact: NetworkPolicies add up, so the namespace's pods are open to every
// address: the internet through any load balancer or node port, every
// node, and on CNIs that match ipBlocks against pod addresses (the
// semantics the NetworkPolicy oracle models) every pod of every other
// tenant, which the Tenant's network.isolation and allowFrom say it is
// closed to. A tenant-wide rule `from: []` is refused for exactly this.
func TestRedteamIngressIPBlockAdmitsEveryone(t *testing.T) {
	const tenant, ns = "rti", "rti-app"
	owner := tenantWithNamespace(t, testutil.Tenant(tenant).Owner("rti-owner").Hard().Obj(), ns)
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "from-anywhere"},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
				{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}},
			}}},
		}}
	err := owner.Create(ctx, np)
	if err == nil {
		// Show what it bought: another tenant's pod now reaches this one.
		list := &networkingv1.NetworkPolicyList{}
		if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		own := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, own); err != nil {
			t.Fatal(err)
		}
		namespaces := []netoracle.Namespace{
			{Name: ns, Labels: own.Labels},
			{Name: "rtj-app", Labels: map[string]string{tenancyv1alpha1.TenantLabel: "rtj", corev1.LabelMetadataName: "rtj-app"}},
		}
		pods := []netoracle.Pod{
			{Namespace: ns, Name: "web", Labels: map[string]string{"app": "web"}, IP: "10.244.7.1"},
			{Namespace: "rtj-app", Name: "intruder", Labels: map[string]string{"app": "intruder"}, IP: "10.244.8.1"},
		}
		probe := netoracle.Probe{From: "rtj-app/intruder", To: ns + "/web", Port: 80, Protocol: corev1.ProtocolTCP}
		allowed, oerr := netoracle.Allowed(list.Items, namespaces, pods, probe)
		t.Errorf("a Hard tenant's ingress rule from ipBlock 0.0.0.0/0 was admitted; another tenant's pod reaches it: %v (oracle error %v)", allowed, oerr)
	}
	rejected(t, err, tenant, "network.ingress")

	// What must stay allowed: ingress from the tenant itself.
	mine := np.DeepCopy()
	mine.Name, mine.ResourceVersion = "from-self", ""
	mine.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{tenancyv1alpha1.TenantLabel: tenant}}}}
	if err := owner.Create(ctx, mine); err != nil {
		t.Fatalf("ingress from the tenant's own namespaces: %v", err)
	}
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
	tenantWithNamespace(t, testutil.Tenant(tenant).Owner("rtr-owner").Hard().DeletionPolicy(tenancyv1alpha1.DeletionRetain).Obj(), ns)
	if err := env.Client.Delete(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenant}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace retained", func() error {
		got := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
			return err
		}
		if got.Labels[tenancyv1alpha1.RetainedLabel] != tenant {
			return errorf("labels %v", got.Labels)
		}
		return nil
	})
	grantNamespacePatch(t, patcher)

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
	rejected(t, err, tenant, "namespaces.retained")
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
	former := tenantWithNamespace(t, testutil.Tenant(tenant).Owner("rta-owner").Hard().DeletionPolicy(tenancyv1alpha1.DeletionRetain).Obj(), ns)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(env.Settings.TenantTokenMaxSeconds)}}
	if err := former.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("owner minting a token for the default ServiceAccount: %v", err)
	}
	kept := asToken(t, tr.Status.Token)

	if err := env.Client.Delete(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenant}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "tenant gone, namespace retained", func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: tenant}, &tenancyv1alpha1.Tenant{}); !apierrors.IsNotFound(err) {
			return errorf("tenant still there: %v", err)
		}
		got := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
			return err
		}
		if got.Labels[tenancyv1alpha1.RetainedLabel] != tenant {
			return errorf("labels %v", got.Labels)
		}
		return nil
	})
	createTenant(t, testutil.Tenant(heir).Owner(heirOwner).Hard().Obj())
	waitReady(t, heir)
	adopt := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+tenancyv1alpha1.TenantLabel+`":"`+heir+`"}}}`))
	if err := env.Client.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, adopt); err != nil {
		t.Fatalf("admin adopting: %v", err)
	}
	eventually(t, "the namespace is the new tenant's", func() error { return tenantPolicyOf(ns, heir) })
	owner := env.As(heirOwner)
	eventually(t, "the new owner has access", func() error { return canI(owner, "create", "pods", ns) })
	// The new tenant lets its workloads read their configuration.
	eventually(t, "the new owner binds view to its ServiceAccount", func() error {
		return owner.Create(ctx, testutil.RoleBinding(ns, "app-reads", "view", testutil.ServiceAccountSubject(ns, "default")))
	})
	eventually(t, "the new tenant's ServiceAccount may read ConfigMaps", func() error {
		allowed, err := reviewAccess(env.As("system:serviceaccount:"+ns+":default"), "list", "configmaps", ns)
		if err != nil || !allowed {
			return errorf("not yet (review error %v)", err)
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

// TestRedteamNamespaceSubresourcesWriteReservedLabels: the namespace
// webhook matches the namespaces resource only, but the namespaces/finalize
// and namespaces/status subresources write the namespace's labels too
// (their update strategies reset only spec or status).
//
// Attack: an operator trusted to unstick terminating namespaces (update on
// namespaces/finalize, the usual delegation for "kubectl replace --raw
// .../finalize") or a tool with namespaces/status, neither a cluster
// admin, puts a tenant namespace's Pod Security to privileged, or moves it
// to another tenant by its tenant label, with a PUT to the subresource.
//
// Impact: every rule of issue 3(a) on reserved labels is bypassed by
// whoever can write these subresources: Pod Security off for a Hard tenant,
// or a namespace of one tenant inside another's network.
func TestRedteamNamespaceSubresourcesWriteReservedLabels(t *testing.T) {
	const tenant, ns, operator = "rts", "rts-app", "rts-ops"
	tenantWithNamespace(t, testutil.Tenant(tenant).Owner("rts-owner").Hard().Obj(), ns)
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "rts-namespace-finalizer"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces/finalize", "namespaces/status"}, Verbs: []string{"update"}}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "rts-namespace-finalizer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{testutil.UserSubject(operator)},
	}
	for _, o := range []client.Object{role, binding} {
		ensure(t, o)
		t.Cleanup(func() { _ = env.Client.Delete(ctx, o) })
	}
	ops := env.As(operator)
	eventually(t, "the operator may finalize namespaces", func() error {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "update", Resource: "namespaces", Subresource: "finalize", Name: ns},
		}}
		if err := ops.Create(ctx, review); err != nil {
			return err
		}
		if !review.Status.Allowed {
			return errorf("not yet")
		}
		return nil
	})

	for _, sub := range []string{"finalize", "status"} {
		t.Run(sub+": Pod Security", func(t *testing.T) {
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				got := &corev1.Namespace{}
				if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
					return err
				}
				got.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
				return ops.SubResource(sub).Update(ctx, got)
			})
			if err == nil {
				after := &corev1.Namespace{}
				_ = env.Client.Get(ctx, client.ObjectKey{Name: ns}, after)
				t.Errorf("namespaces/%s accepted Pod Security privileged on a Hard tenant's namespace (enforce=%s when read back; Bulkhead's drift repair restamps it moments later)",
					sub, after.Labels["pod-security.kubernetes.io/enforce"])
				// Bulkhead restamps the label; wait for it before the next case.
				eventually(t, "Pod Security restamped", func() error {
					if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, after); err != nil {
						return err
					}
					if after.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
						return errorf("enforce=%s", after.Labels["pod-security.kubernetes.io/enforce"])
					}
					return nil
				})
			}
			rejected(t, err, tenant, "namespaces.labels")
		})
	}

	// The tenant label is the namespace's tenant: Bulkhead cannot tell a
	// forged one from an admin's adoption, so the move sticks.
	createTenant(t, testutil.Tenant("rtt").Owner("rtt-owner").Obj())
	waitReady(t, "rtt")
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		got := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
			return err
		}
		got.Labels[tenancyv1alpha1.TenantLabel] = "rtt"
		return ops.SubResource("finalize").Update(ctx, got)
	})
	if err == nil {
		time.Sleep(3 * time.Second)
		after := &corev1.Namespace{}
		_ = env.Client.Get(ctx, client.ObjectKey{Name: ns}, after)
		t.Errorf("namespaces/finalize moved %s from tenant %s to tenant %s; three seconds later it belongs to %q",
			ns, tenant, "rtt", after.Labels[tenancyv1alpha1.TenantLabel])
	}
	rejected(t, err, tenant, "namespaces.labels")
}
