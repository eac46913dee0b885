package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/netoracle"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestTenantObjectsCannotClaimToBeBulkheads: an object labelled as
// Bulkhead's would be taken for one of its own; tenants may neither create
// such objects nor label theirs so. Deleting Bulkhead's objects in bulk is
// refused with the same rule and a readable message.
func TestTenantObjectsCannotClaimToBeBulkheads(t *testing.T) {
	ctx := context.Background()
	owner := env.TenantWithNamespace(t, testutil.Tenant("cl").Owner("cl-owner").Obj(), "cl-app")
	managed := map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}
	testenv.Rejected(t, owner.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "cl-app", Name: "forged", Labels: managed}}),
		"cl", "managed-objects")
	testenv.Rejected(t, owner.Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "cl-app", Name: "forged", Labels: managed},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}), "cl", "managed-objects")

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "cl-app", Name: "mine"}}
	if err := owner.Create(ctx, cm); err != nil {
		t.Fatalf("an ordinary ConfigMap: %v", err)
	}
	cm.Labels = managed
	testenv.Rejected(t, owner.Update(ctx, cm), "cl", "managed-objects")

	err := owner.DeleteAllOf(ctx, &networkingv1.NetworkPolicy{}, client.InNamespace("cl-app"))
	testenv.Rejected(t, err, "cl", "managed-objects")
	if strings.Contains(err.Error(), "failed expression") {
		t.Errorf("the deletecollection denial is not readable: %v", err)
	}
}

// TestTenantNetworkPoliciesStayInsideTheTenant: NetworkPolicies add up, so
// a tenant's own policy could re-open what its Tenant closes. Whatever the
// profile, it may not reach denied CIDRs (the metadata address included) or
// admit other tenants' namespaces that allowFrom does not name. The oracle
// then judges the union of Bulkhead's and the tenant's policies.
func TestTenantNetworkPoliciesStayInsideTheTenant(t *testing.T) {
	ctx := context.Background()
	// A Hard tenant with network isolation Off (no ingress isolation, but
	// its egress is still restricted), and a Soft tenant whose admin denied
	// the metadata address.
	hardOff := testutil.Tenant("nh").Owner("nh-owner").Hard().NetworkIsolation(tenancyv1alpha1.NetworkOff).AllowCIDRs("203.0.113.0/24").Obj()
	soft := testutil.Tenant("ns").Owner("ns-owner").AllowFromTenant("nh").DenyCIDRs(render.MetadataIP, "10.9.0.0/16").Obj()
	nh := env.TenantWithNamespace(t, hardOff, "nh-app")
	nsOwner := env.TenantWithNamespace(t, soft, "ns-app")

	// On 443: a rule on every port would also open 53, which rule
	// network.dns refuses on its own (see TestDNSEgress).
	https := []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(443))}}
	egress := func(ns, name string, to ...networkingv1.NetworkPolicyPeer) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress: []networkingv1.NetworkPolicyEgressRule{{To: to, Ports: https}}}}
	}
	ingress := func(ns, name string, from ...networkingv1.NetworkPolicyPeer) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: from}}}}
	}
	block := func(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
	}
	selector := func(labels map[string]string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: labels}}
	}

	for _, tc := range []struct {
		name   string
		c      client.Client
		tenant string
		np     *networkingv1.NetworkPolicy
		rule   string
	}{
		{"Hard/Off: the metadata address", nh, "nh", egress("nh-app", "md", block("169.254.169.254/32")), "network.egress"},
		{"Hard/Off: the internet", nh, "nh", egress("nh-app", "inet", block("0.0.0.0/0")), "network.egress"},
		{"Hard/Off: everywhere", nh, "nh", egress("nh-app", "all"), "network.egress"},
		{"Soft: the metadata address inside a wider block", nsOwner, "ns", egress("ns-app", "md", block("169.254.0.0/16")), "network.egress"},
		{"Soft: a denied CIDR", nsOwner, "ns", egress("ns-app", "denied", block("10.9.1.0/24")), "network.egress"},
		{"Soft: the internet without its exceptions", nsOwner, "ns", egress("ns-app", "inet", block("0.0.0.0/0")), "network.egress"},
		{"Soft: every namespace", nsOwner, "ns", ingress("ns-app", "all", selector(map[string]string{})), "network.ingress"},
		{"Soft: another tenant's namespace by name", nsOwner, "ns", ingress("ns-app", "other",
			selector(map[string]string{corev1.LabelMetadataName: "nh-app"})), "network.ingress"},
		{"Soft: a tenant outside allowFrom", nsOwner, "ns", ingress("ns-app", "red",
			selector(map[string]string{tenancyv1alpha1.TenantLabel: "red"})), "network.ingress"},
		{"Soft: every source", nsOwner, "ns", ingress("ns-app", "open"), "network.ingress"},
	} {
		t.Run(tc.name, func(t *testing.T) { testenv.Rejected(t, tc.c.Create(ctx, tc.np), tc.tenant, tc.rule) })
	}

	// What stays allowed: egress within the allowlist, the internet with the
	// denied ranges excepted, ingress from the tenant itself and from a
	// tenant that allowFrom names.
	mine := []*networkingv1.NetworkPolicy{
		egress("ns-app", "inet-except", block("0.0.0.0/0", render.MetadataIP, "10.9.0.0/16")),
		ingress("ns-app", "from-nh", selector(map[string]string{tenancyv1alpha1.TenantLabel: "nh"})),
		ingress("ns-app", "from-self", selector(map[string]string{tenancyv1alpha1.TenantLabel: "ns"})),
	}
	for _, np := range mine {
		if err := nsOwner.Create(ctx, np); err != nil {
			t.Fatalf("an allowed policy %s: %v", np.Name, err)
		}
	}
	if err := nh.Create(ctx, egress("nh-app", "partner", block("203.0.113.0/25"))); err != nil {
		t.Fatalf("egress inside allowCIDRs: %v", err)
	}

	// The oracle, over every policy in both namespaces (Bulkhead's and the
	// tenants'): the metadata address stays unreachable from both.
	var policies []networkingv1.NetworkPolicy
	var namespaces []netoracle.Namespace
	var pods []netoracle.Pod
	for i, ns := range []string{"nh-app", "ns-app"} {
		list := &networkingv1.NetworkPolicyList{}
		if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		policies = append(policies, list.Items...)
		n := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, n); err != nil {
			t.Fatal(err)
		}
		namespaces = append(namespaces, netoracle.Namespace{Name: ns, Labels: n.Labels})
		pods = append(pods, netoracle.Pod{Namespace: ns, Name: "web", Labels: map[string]string{"app": "web"}, IP: "10.244.2." + string(rune('1'+i))})
	}
	for _, p := range []struct {
		probe netoracle.Probe
		want  bool
	}{
		{netoracle.Probe{From: "nh-app/web", To: netoracle.External("169.254.169.254"), Port: 80, Protocol: corev1.ProtocolTCP}, false},
		{netoracle.Probe{From: "ns-app/web", To: netoracle.External("169.254.169.254"), Port: 80, Protocol: corev1.ProtocolTCP}, false},
		{netoracle.Probe{From: "ns-app/web", To: netoracle.External("10.9.3.4"), Port: 443, Protocol: corev1.ProtocolTCP}, false},
		{netoracle.Probe{From: "ns-app/web", To: netoracle.External("192.0.2.7"), Port: 443, Protocol: corev1.ProtocolTCP}, true},
		{netoracle.Probe{From: "nh-app/web", To: netoracle.External("203.0.113.9"), Port: 443, Protocol: corev1.ProtocolTCP}, true},
		{netoracle.Probe{From: "nh-app/web", To: netoracle.External("192.0.2.7"), Port: 443, Protocol: corev1.ProtocolTCP}, false},
	} {
		got, err := netoracle.Allowed(policies, namespaces, pods, p.probe)
		if err != nil {
			t.Fatal(err)
		}
		if got != p.want {
			v, _ := netoracle.Explain(policies, namespaces, pods, p.probe)
			t.Errorf("%s -> %s: allowed %v, want %v (%s)", p.probe.From, p.probe.To, got, p.want, v)
		}
	}
}

// TestAllowFromSelectorsIgnoreForgedLabels: an admin's allowFrom selector
// for a platform namespace must not let in a tenant namespace that carries
// the same label. The oracle judges the live policies.
func TestAllowFromSelectorsIgnoreForgedLabels(t *testing.T) {
	ctx := context.Background()
	mon := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "mon-fl", Labels: map[string]string{"purpose": "mon-fl"}}}
	env.Ensure(t, mon)
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), mon) })
	env.TenantWithNamespace(t, testutil.Tenant("fl").Owner("fl-owner").
		AllowFromNamespaces(&metav1.LabelSelector{MatchLabels: map[string]string{"purpose": "mon-fl"}}).Obj(), "fl-app")
	env.CreateTenant(t, testutil.Tenant("fm").Owner("fm-owner").Obj())
	fm := env.As("fm-owner")
	testenv.Eventually(t, "owner may create namespaces", func() error { return testenv.CanI(fm, "create", "namespaces", "") })
	// The forged label is not reserved: the tenant may set it.
	if err := testenv.CreateNamespaceAs(fm, "fm-sly", map[string]string{"purpose": "mon-fl"}); err != nil {
		t.Fatalf("creating a namespace with an ordinary label: %v", err)
	}

	var policies []networkingv1.NetworkPolicy
	testenv.Eventually(t, "fl's ingress policy", func() error {
		list := &networkingv1.NetworkPolicyList{}
		if err := env.Client.List(ctx, list, client.InNamespace("fl-app")); err != nil {
			return err
		}
		if len(list.Items) == 0 {
			return fmt.Errorf("none yet")
		}
		policies = list.Items
		return nil
	})
	var namespaces []netoracle.Namespace
	for _, name := range []string{"fl-app", "mon-fl", "fm-sly"} {
		n := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			t.Fatal(err)
		}
		namespaces = append(namespaces, netoracle.Namespace{Name: name, Labels: n.Labels})
	}
	pods := []netoracle.Pod{
		{Namespace: "fl-app", Name: "web", Labels: map[string]string{"app": "web"}, IP: "10.244.3.1"},
		{Namespace: "mon-fl", Name: "scraper", Labels: map[string]string{"app": "scraper"}, IP: "10.244.3.2"},
		{Namespace: "fm-sly", Name: "scraper", Labels: map[string]string{"app": "scraper"}, IP: "10.244.3.3"},
	}
	for from, want := range map[string]bool{"mon-fl/scraper": true, "fm-sly/scraper": false} {
		got, err := netoracle.Allowed(policies, namespaces, pods, netoracle.Probe{From: from, To: "fl-app/web", Port: 80, Protocol: corev1.ProtocolTCP})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s -> fl-app/web: allowed %v, want %v", from, got, want)
		}
	}
}

// TestTenantTokensAreShortLived: a token outlives the person who minted it.
// An owner removed from the Tenant loses their bindings at once, but a token
// they minted for one of the tenant's ServiceAccounts acts until it expires:
// tenants may not make token Secrets, which never expire, and may ask only
// for short TokenRequests.
func TestTenantTokensAreShortLived(t *testing.T) {
	ctx := context.Background()
	owner := env.TenantWithNamespace(t, testutil.Tenant("tk").Owner("tk-owner").Obj(), "tk-app")
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "tk-app", Name: "ci"}}
	if err := owner.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	request := func(seconds int64) error {
		return owner.SubResource("token").Create(ctx, sa, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(seconds)}})
	}
	testenv.Rejected(t, request(48*3600), "tk", "rbac.tokens")
	if err := request(env.Settings.TenantTokenMaxSeconds); err != nil {
		t.Fatalf("a token of %d seconds: %v", env.Settings.TenantTokenMaxSeconds, err)
	}
	testenv.Rejected(t, owner.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "tk-app", Name: "forever", Annotations: map[string]string{corev1.ServiceAccountNameKey: "ci"}},
		Type:       corev1.SecretTypeServiceAccountToken,
	}), "tk", "rbac.tokens")
	if err := owner.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tk-app", Name: "plain"},
		StringData: map[string]string{"k": "v"}}); err != nil {
		t.Fatalf("an ordinary Secret: %v", err)
	}
}
