package tenant

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/kubernetes"
	"github.com/miekg/dns"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func init() { plugin.Register(Name, setup) }

// setup reads
//
//	tenant [ZONES...] {
//	    kubeconfig PATH [CONTEXT]
//	    client_rate QPS BURST
//	    trust_client_subnet CIDR...
//	}
//
// ZONES default to cluster.local. Without kubeconfig the plugin uses the
// pod's service account.
func setup(c *caddy.Controller) error {
	t, kc, err := parse(c)
	if err != nil {
		return plugin.Error(Name, err)
	}
	cfg, err := restConfig(kc.path, kc.context)
	if err != nil {
		return plugin.Error(Name, err)
	}
	ix, err := NewIndex(cfg)
	if err != nil {
		return plugin.Error(Name, err)
	}
	t.source = ix
	ctx, cancel := context.WithCancel(context.Background())
	c.OnStartup(func() error {
		go ix.Run(ctx)
		go t.sweepEvery(ctx, 10*time.Second)
		return nil
	})
	c.OnShutdown(func() error {
		cancel()
		return nil
	})
	site := dnsserver.GetConfig(c)
	site.AddPlugin(func(next plugin.Handler) plugin.Handler {
		t.Next = next
		// The chain is built from the last plugin up, so the kubernetes
		// plugin below is registered by now: every zone it serves is
		// scoped, whether or not the Corefile listed it here.
		if k, ok := site.Handler("kubernetes").(*kubernetes.Kubernetes); ok {
			t.Zones = coverZones(t.Zones, k.Zones)
		}
		return t
	})
	return nil
}

// coverZones returns zones with every forward zone of served added that
// none of zones already contains: a zone of the kubernetes plugin missing
// from tenant's would answer every tenant's names to everyone. Reverse
// zones are scoped by what their answers name, whatever the list.
func coverZones(zones, served []string) []string {
	out := slices.Clone(zones)
	for _, z := range served {
		z = dns.CanonicalName(z)
		if isReverse(z) {
			continue
		}
		covered := slices.ContainsFunc(out, func(t string) bool { return dns.IsSubDomain(t, z) })
		if !covered {
			out = append(out, z)
		}
	}
	return out
}

func (t *Tenant) sweepEvery(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			t.buckets.sweep(now)
		}
	}
}

type kubeconfig struct{ path, context string }

func parse(c *caddy.Controller) (*Tenant, kubeconfig, error) {
	t := New(nil)
	var kc kubeconfig
	seen := false
	for c.Next() {
		if seen {
			return nil, kc, c.Err("tenant may appear once per server block")
		}
		seen = true
		if args := c.RemainingArgs(); len(args) > 0 {
			t.Zones = plugin.OriginsFromArgsOrServerBlock(args, nil)
		}
		for c.NextBlock() {
			switch c.Val() {
			case "kubeconfig":
				args := c.RemainingArgs()
				if len(args) < 1 || len(args) > 2 {
					return nil, kc, c.ArgErr()
				}
				kc.path = args[0]
				if len(args) == 2 {
					kc.context = args[1]
				}
			case "client_rate":
				args := c.RemainingArgs()
				if len(args) != 2 {
					return nil, kc, c.ArgErr()
				}
				qps, err1 := strconv.ParseInt(args[0], 10, 32)
				burst, err2 := strconv.ParseInt(args[1], 10, 32)
				if err1 != nil || err2 != nil || qps < 1 || burst < 1 {
					return nil, kc, c.Errf("client_rate wants two positive integers, queries per second and burst, not %q", args)
				}
				t.ClientQPS, t.ClientBurst = int32(qps), int32(burst)
			case "trust_client_subnet":
				args := c.RemainingArgs()
				if len(args) == 0 {
					return nil, kc, c.ArgErr()
				}
				for _, a := range args {
					p, err := netip.ParsePrefix(a)
					if err != nil {
						return nil, kc, c.Errf("trust_client_subnet: %q is not a CIDR: %v", a, err)
					}
					t.TrustClientSubnet = append(t.TrustClientSubnet, p.Masked())
				}
			default:
				return nil, kc, c.Errf("unknown property %q (want kubeconfig, client_rate or trust_client_subnet)", c.Val())
			}
		}
	}
	return t, kc, nil
}

func restConfig(kubeconfig, kubecontext string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no kubeconfig given and not in a cluster: %w", err)
		}
		return cfg, nil
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: kubecontext},
	).ClientConfig()
}
