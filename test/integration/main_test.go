// Package integration is the integration tier: Bulkhead's controllers and
// webhook, wired exactly as in production, against a kube-apiserver and
// etcd alone, acting as tenant identities by impersonation. Nothing else
// runs: no controller-manager (so no default ServiceAccounts, quota status,
// namespace deletion or garbage collection), no scheduler, no nodes. A
// suite that needs any of those belongs to test/e2e. bulkhead-proxy runs
// beside it, serving tenants and the API server's authorization webhook.
package integration

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/proxy"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

var (
	env      *testenv.Env
	proxySrv *proxy.Server
)

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start(devcluster.Options{TenantView: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting test environment:", err)
		os.Exit(1)
	}
	proxySrv, err = testenv.StartProxy(context.Background(), env.Cluster)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting bulkhead-proxy:", err)
		env.Stop()
		os.Exit(1)
	}
	code := m.Run()
	proxySrv.Stop()
	env.Stop()
	os.Exit(code)
}
