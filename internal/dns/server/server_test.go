package server

import (
	"slices"
	"strings"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"

	"github.com/bulkhead-dev/bulkhead/internal/dns/tenant"
)

// TestCompiledOrder checks the order the binary runs plugins in, which the
// Corefile cannot change: tenant after the plugins that only observe
// (metrics, errors, log) and before cache, so that every answer, cached or
// not, is cut to the asking tenant's view on its way out.
func TestCompiledOrder(t *testing.T) {
	Register()
	order := dnsserver.Directives
	at := func(name string) int {
		i := slices.Index(order, name)
		if i < 0 {
			t.Fatalf("%s is not in the compiled order %v", name, order)
		}
		return i
	}
	for _, above := range []string{"prometheus", "errors", "log"} {
		if at(above) > at(tenant.Name) {
			t.Errorf("%s runs after tenant: %v", above, order)
		}
	}
	for _, below := range []string{"cache", "kubernetes", "forward"} {
		if at(below) < at(tenant.Name) {
			t.Errorf("%s runs before tenant, so its answers would skip the tenant's view: %v", below, order)
		}
	}
	if got := at(tenant.Name) + 1; order[got] != "cache" {
		t.Errorf("the plugin right after tenant is %s, want cache: %v", order[got], order)
	}
}

// TestUnknownDirectiveRefused: a plugin compiled in as a dependency but
// absent from the order (transfer, which would serve zone transfers) cannot
// be switched on from a Corefile.
func TestUnknownDirectiveRefused(t *testing.T) {
	Register()
	for _, d := range []string{"transfer", "rewrite", "acl"} {
		if slices.Contains(dnsserver.Directives, d) {
			t.Errorf("%s is in the compiled order", d)
		}
		_, err := Start(".:0 {\n    " + d + "\n}\n")
		if err == nil || !strings.Contains(err.Error(), "nknown directive '"+d+"'") {
			t.Errorf("a Corefile with %s: %v, want refused as an unknown directive", d, err)
		}
	}
}
