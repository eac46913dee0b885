// Package integration runs Bulkhead's controllers and webhook, wired exactly
// as in production, against a real kube-apiserver, etcd and
// kube-controller-manager, acting as tenant identities by impersonation.
package integration

import (
	"fmt"
	"os"
	"testing"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start(devcluster.Options{ControllerManager: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting test environment:", err)
		os.Exit(1)
	}
	code := m.Run()
	env.Stop()
	os.Exit(code)
}
