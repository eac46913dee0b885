// Package e2e is the end-to-end tier: Bulkhead's controllers and webhook,
// wired exactly as in production, against a dev cluster that behaves like a
// real one, with kube-controller-manager and kube-scheduler besides the API
// server and etcd, and kwok nodes, acting as tenant identities by
// impersonation. Suites belong here when they need what only those
// components do: a namespace's default ServiceAccount and quota status
// (so that pods are admitted at all), the aggregated edit and view roles
// that members and viewers are bound to, namespaces that finish deleting,
// garbage collection, ReplicaSets and Jobs, pods scheduled onto nodes.
// Suites that need only the API server belong to test/integration.
package e2e

import (
	"fmt"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

var env *testenv.Env

// nodes are two shared nodes and a dedicated pool of two for the tenant
// "pool" (TestNodePools), tainted so that nobody else lands there.
var nodes = []devcluster.Node{
	{Name: "shared-1"},
	{Name: "shared-2"},
	{Name: "pool-1", Labels: map[string]string{"pool": "pool"}, Taints: []corev1.Taint{poolTaint}},
	{Name: "pool-2", Labels: map[string]string{"pool": "pool"}, Taints: []corev1.Taint{poolTaint}},
}

var poolTaint = corev1.Taint{Key: "pool", Value: "pool", Effect: corev1.TaintEffectNoSchedule}

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start(devcluster.Options{ControllerManager: true, Scheduler: true, Nodes: nodes, Metrics: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting test environment:", err)
		os.Exit(1)
	}
	code := m.Run()
	env.Stop()
	os.Exit(code)
}
