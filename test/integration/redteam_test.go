package integration

import (
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/netoracle"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/namespace"
)

// TestRedteamKubeNamespaceWithoutPrefix: the Tenants webhook keeps a
// Tenant's prefix out of "kube-", but the namespace webhook lets an owner
// whose Tenant has requirePrefix false name a namespace "kube-anything".
//
// Impact: a tenant namespace that reads as Kubernetes' own. Policy engines,
// monitoring and admission webhooks commonly skip "kube-*" namespaces, and
// people trust them; the tenant hides its workloads among the platform's.
func TestRedteamKubeNamespaceWithoutPrefix(t *testing.T) {
	const tenant, owner = "rtf", "rtf-owner"
	env.CreateTenant(t, testutil.Tenant(tenant).Owner(owner).RequirePrefix(false).Obj())
	env.WaitReady(t, tenant)
	c := env.As(owner)
	testenv.Eventually(t, "owner may create namespaces", func() error { return testenv.CanI(c, "create", "namespaces", "") })
	err := testenv.CreateNamespaceAs(c, "kube-rtf-metrics", nil)
	if err == nil {
		t.Cleanup(func() {
			_ = env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-rtf-metrics"}})
		})
	}
	testenv.Rejected(t, err, tenant, namespace.RuleNames)
	testenv.ExpectDenied(t, err, "kube- space")
	// What must stay allowed: any other name.
	testenv.OwnerCreatesNamespace(t, c, "rtf-metrics")
}

// TestRedteamGeneratedNameWithAForgedNameLabel: for a Namespace, a webhook's
// namespaceSelector is matched against the request's own labels, and on a
// create with generateName the API server writes kubernetes.io/metadata.name
// only after the mutating webhooks ran.
//
// Attack: generateName plus kubernetes.io/metadata.name=default (a system
// namespace the webhook skipped by that label), with another tenant's label
// and reserved labels of the owner's choosing.
//
// Impact: no namespace webhook ran, so prefix ownership, namespaces.max and
// reserved labels did not hold (a namespace could be filed under another
// tenant, or carry a Bulkhead marker such as tokens-revoked).
func TestRedteamGeneratedNameWithAForgedNameLabel(t *testing.T) {
	const tenant, owner = "rtg", "rtg-owner"
	env.CreateTenant(t, testutil.Tenant(tenant).Owner(owner).Obj())
	env.CreateTenant(t, testutil.Tenant("rtg-victim").Owner("rtg-victim-owner").Obj())
	c := env.As(owner)
	testenv.Eventually(t, "owner may create namespaces", func() error { return testenv.CanI(c, "create", "namespaces", "") })
	forged := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rtg-victim-", Labels: map[string]string{
		corev1.LabelMetadataName:                "default",
		tenancyv1alpha1.TokensRevokedAnnotation: "true",
	}}}
	err := c.Create(ctx, forged)
	if err == nil {
		t.Cleanup(func() { _ = env.Client.Delete(ctx, forged) })
		t.Fatalf("namespace %s created past the namespace webhook, labels %v", forged.Name, forged.Labels)
	}
	testenv.Rejected(t, err, tenant, namespace.RuleNames)
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
	owner := env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner("rti-owner").Hard().Obj(), ns)
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
	testenv.Rejected(t, err, tenant, "network.ingress")

	// What must stay allowed: ingress from the tenant itself.
	mine := np.DeepCopy()
	mine.Name, mine.ResourceVersion = "from-self", ""
	mine.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{tenancyv1alpha1.TenantLabel: tenant}}}}
	if err := owner.Create(ctx, mine); err != nil {
		t.Fatalf("ingress from the tenant's own namespaces: %v", err)
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
	env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner("rts-owner").Hard().Obj(), ns)
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
		env.Ensure(t, o)
		t.Cleanup(func() { _ = env.Client.Delete(ctx, o) })
	}
	ops := env.As(operator)
	testenv.Eventually(t, "the operator may finalize namespaces", func() error {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "update", Resource: "namespaces", Subresource: "finalize", Name: ns},
		}}
		if err := ops.Create(ctx, review); err != nil {
			return err
		}
		if !review.Status.Allowed {
			return fmt.Errorf("not yet")
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
				testenv.Eventually(t, "Pod Security restamped", func() error {
					if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, after); err != nil {
						return err
					}
					if after.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
						return fmt.Errorf("enforce=%s", after.Labels["pod-security.kubernetes.io/enforce"])
					}
					return nil
				})
			}
			testenv.Rejected(t, err, tenant, "namespaces.labels")
		})
	}

	// The tenant label is the namespace's tenant: Bulkhead cannot tell a
	// forged one from an admin's adoption, so the move sticks.
	env.CreateTenant(t, testutil.Tenant("rtt").Owner("rtt-owner").Obj())
	env.WaitReady(t, "rtt")
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
	testenv.Rejected(t, err, tenant, "namespaces.labels")
}
