// Package crash is the end-to-end suite of crash-safe convergence: Bulkhead
// runs as two bulkhead-manager processes with leader election, as
// config/default runs it, on a dev cluster with kube-controller-manager
// (namespaces finish deleting, the garbage collector runs), while the test
// kills the leader with SIGKILL and restarts the API server. It has a
// package of its own because its managers are processes the test kills,
// not the in-process manager of test/e2e, which would compete with them.
package crash

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

var (
	tenantCount = flag.Int("crash.tenants", 30, "Tenants (two namespaces each) the crash suite converges; a third of them are deleted. The issue's full run is 300.")
	seed        = flag.Int64("crash.seed", 0, "Seed of the moments the leader is killed at; 0 picks one from the clock. The test logs it, so a failure can be replayed.")
	timeout     = flag.Duration("crash.timeout", 15*time.Minute, "How long each convergence may take before the test fails.")
)

var (
	cluster  *devcluster.Cluster
	admin    client.Client
	binary   string
	settings = render.DefaultSettings()
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// make test-unit runs every package outside test/integration and
	// test/e2e without control-plane binaries: there is nothing to run.
	if os.Getenv("BULKHEAD_K8S_BIN") == "" {
		fmt.Println("BULKHEAD_K8S_BIN not set; make test-e2e sets it. Skipping the crash suite.")
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	binDir, err := os.MkdirTemp("", "bulkhead-crash-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(binDir)
	// The managers run as processes: build them from the sources under
	// test rather than trust whatever bin/ holds.
	if binary, err = testenv.BuildManager(binDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cluster, err = devcluster.Start(ctx, devcluster.Options{ControllerManager: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting dev cluster:", err)
		return 1
	}
	defer cluster.Stop()
	if admin, err = testenv.Prepare(ctx, cluster, settings); err != nil {
		fmt.Fprintln(os.Stderr, "preparing dev cluster:", err)
		return 1
	}
	return m.Run()
}
