package integration

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/netoracle"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestNetworkReachabilityOfCreatedPolicies judges, with cyclonus' matcher,
// the NetworkPolicies the controller actually wrote for three tenants whose
// owners made their own namespaces, against a matrix stated by hand.
func TestNetworkReachabilityOfCreatedPolicies(t *testing.T) {
	// red: Soft (tenant-wide isolation, internet allowed).
	// blue: Hard (namespace isolation, no internet, metadata IP denied).
	// green: tenant-wide isolation, and lets red in.
	env.CreateTenant(t, testutil.Tenant("red").Owner("rita").Obj())
	env.CreateTenant(t, testutil.Tenant("blue").Owner("boris").Hard().Obj())
	env.CreateTenant(t, testutil.Tenant("green").Owner("gwen").AllowFromTenant("red").Obj())
	owners := map[string]string{"red": "rita", "blue": "boris", "green": "gwen"}
	var nsNames []string
	for _, tenant := range []string{"red", "blue", "green"} {
		env.WaitReady(t, tenant)
		for _, suffix := range []string{"1", "2"} {
			name := tenant + "-" + suffix
			testenv.OwnerCreatesNamespace(t, env.As(owners[tenant]), name)
			nsNames = append(nsNames, name)
		}
	}

	// Each namespace has its ingress and its egress policy (egress: port
	// 53 only to cluster DNS, in every profile).
	wantPolicies := map[string]bool{}
	for _, ns := range nsNames {
		wantPolicies[ns+"/"+render.IngressPolicy] = true
		wantPolicies[ns+"/"+render.EgressPolicy] = true
	}
	var policies []networkingv1.NetworkPolicy
	testenv.Eventually(t, "every tenant's NetworkPolicies", func() error {
		policies = nil
		got := map[string]bool{}
		for _, ns := range nsNames {
			list := &networkingv1.NetworkPolicyList{}
			if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
				return err
			}
			for _, np := range list.Items {
				got[np.Namespace+"/"+np.Name] = true
				policies = append(policies, np)
			}
		}
		if diff := cmp.Diff(wantPolicies, got); diff != "" {
			return fmt.Errorf("policies (-want +got):\n%s", diff)
		}
		return nil
	})

	// The world as the matcher sees it: the namespaces with the labels the
	// API server holds, one pod in each, and cluster DNS.
	namespaces := []netoracle.Namespace{{Name: "kube-system", Labels: map[string]string{corev1.LabelMetadataName: "kube-system"}}}
	pods := []netoracle.Pod{{Namespace: "kube-system", Name: "dns", Labels: map[string]string{"k8s-app": "kube-dns"}, IP: "10.244.0.10"}}
	for i, name := range nsNames {
		ns := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
			t.Fatal(err)
		}
		if ns.Labels[tenancyv1alpha1.TenantLabel] == "" {
			t.Fatalf("namespace %s has no tenant label: %v", name, ns.Labels)
		}
		namespaces = append(namespaces, netoracle.Namespace{Name: name, Labels: ns.Labels})
		pods = append(pods, netoracle.Pod{Namespace: name, Name: "web", Labels: map[string]string{"app": "web"}, IP: fmt.Sprintf("10.244.1.%d", i+1)})
	}

	want, err := netoracle.ParseMatrix(`
		                red-1/web red-2/web blue-1/web blue-2/web green-1/web green-2/web kube-system/dns
		red-1/web           Y         Y         .          .          Y           Y             Y
		red-2/web           Y         Y         .          .          Y           Y             Y
		blue-1/web          .         .         Y          .          .           .             .
		blue-2/web          .         .         .          Y          .           .             .
		green-1/web         .         .         .          .          Y           Y             Y
		green-2/web         .         .         .          .          Y           Y             Y
		kube-system/dns     .         .         .          .          .           .             Y
	`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := netoracle.Matrix(policies, namespaces, pods, 80, corev1.ProtocolTCP)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reachability on 80/TCP (-want +got):\n%s", diff)
	}

	for _, p := range []struct {
		probe netoracle.Probe
		want  bool
	}{
		{netoracle.Probe{From: "blue-1/web", To: "kube-system/dns", Port: 53, Protocol: corev1.ProtocolUDP}, true},
		{netoracle.Probe{From: "blue-1/web", To: "kube-system/dns", Port: 53, Protocol: corev1.ProtocolTCP}, true},
		{netoracle.Probe{From: "blue-1/web", To: "kube-system/dns", Port: 80, Protocol: corev1.ProtocolTCP}, false},
		{netoracle.Probe{From: "blue-2/web", To: netoracle.External("169.254.169.254"), Port: 80, Protocol: corev1.ProtocolTCP}, false},
		{netoracle.Probe{From: "blue-2/web", To: netoracle.External("192.0.2.7"), Port: 443, Protocol: corev1.ProtocolTCP}, false},
		{netoracle.Probe{From: "red-1/web", To: netoracle.External("192.0.2.7"), Port: 443, Protocol: corev1.ProtocolTCP}, true},
		{netoracle.Probe{From: netoracle.External("192.0.2.7"), To: "red-1/web", Port: 80, Protocol: corev1.ProtocolTCP}, false},
	} {
		got, err := netoracle.Allowed(policies, namespaces, pods, p.probe)
		if err != nil {
			t.Fatal(err)
		}
		if got != p.want {
			v, _ := netoracle.Explain(policies, namespaces, pods, p.probe)
			t.Errorf("%s -> %s %d/%s: allowed %v, want %v (%s)", p.probe.From, p.probe.To, p.probe.Port, p.probe.Protocol, got, p.want, v)
		}
	}

	// Port 53: only the cluster DNS (the tenant DNS server where it is
	// installed) answers tenants, whatever their profile; not another
	// resolver in kube-system, not one in a platform namespace, not one on
	// the internet, not one of a tenant that lets this one in. A tenant's
	// own pods may resolve for it: their queries are its own.
	world := append(slices.Clone(pods),
		netoracle.Pod{Namespace: "kube-system", Name: "stock-dns", Labels: map[string]string{"k8s-app": "stock-dns"}, IP: "10.244.0.11"},
		netoracle.Pod{Namespace: "resolver", Name: "dns", Labels: map[string]string{"app": "dns"}, IP: "10.244.3.1"})
	worldNS := append(slices.Clone(namespaces), netoracle.Namespace{Name: "resolver"})
	for _, from := range []string{"red-1/web", "blue-1/web", "green-1/web"} {
		for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
			for _, c := range []struct {
				to   string
				port int
				want bool
			}{
				{"kube-system/dns", 53, true},
				{"kube-system/stock-dns", 53, false},
				{"resolver/dns", 53, false},
				{netoracle.External("192.0.2.53"), 53, false},
				{"green-2/web", 53, from == "green-1/web"},
				// Other ports to the same pods are as before: open for Soft.
				{"resolver/dns", 8053, from != "blue-1/web"},
				{"kube-system/stock-dns", 9153, from != "blue-1/web"},
			} {
				p := netoracle.Probe{From: from, To: c.to, Port: c.port, Protocol: proto}
				got, err := netoracle.Allowed(policies, worldNS, world, p)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					v, _ := netoracle.Explain(policies, worldNS, world, p)
					t.Errorf("%s -> %s %d/%s: allowed %v, want %v (%s)", from, c.to, c.port, proto, got, c.want, v)
				}
			}
		}
	}
}
