// Package server is the bulkhead-dns build of CoreDNS: the plugins a
// cluster DNS needs, the tenant plugin, and the order they run in.
//
// CoreDNS runs plugins in the order of its directives list, fixed when the
// binary is compiled; the order of a Corefile does not matter. Directives is
// that list here: tenant comes before cache, so that every answer, cached or
// fresh, passes through tenant on its way to the client, and no answer meant
// for one tenant is ever handed to another.
package server

import (
	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	// The stock plugins of a cluster DNS.
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"

	"github.com/bulkhead-dev/bulkhead/internal/dns/tenant"
)

// Directives is the compiled plugin order, outermost first. It names only
// the plugins this binary has.
var Directives = []string{
	"reload",
	"bind",
	"ready",
	"health",
	"prometheus",
	"errors",
	"log",
	"loadbalance",
	tenant.Name,
	"cache",
	"kubernetes",
	"loop",
	"forward",
}

// Register installs Directives as CoreDNS's order; call it before the
// server starts.
func Register() {
	dnsserver.Directives = Directives
}

// Start runs a server from a Corefile held in memory.
func Start(corefile string) (*caddy.Instance, error) {
	Register()
	caddy.Quiet, dnsserver.Quiet = true, true
	return caddy.Start(caddy.CaddyfileInput{Contents: []byte(corefile), Filepath: "Corefile", ServerTypeName: "dns"})
}
