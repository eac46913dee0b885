// bulkhead-dns is CoreDNS with the tenant plugin: a cluster DNS where each
// tenant's pods resolve only their tenant's names, shared ones and those of
// tenants that let them in. It takes CoreDNS's flags (-conf Corefile, -dns.port).
package main

import (
	"github.com/coredns/coredns/coremain"

	"github.com/bulkhead-dev/bulkhead/internal/dns/server"
)

func main() {
	server.Register()
	coremain.Run()
}
