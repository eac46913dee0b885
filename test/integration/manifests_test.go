package integration

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// TestInstallManifestsApply applies config/default to the real API server
// with server-side apply and strict field validation, so that a broken or
// misspelt manifest fails the tests, not a user's installation.
func TestInstallManifestsApply(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "config", "default")
	out, err := testenv.Kubectl(env.Cluster, "apply", "--server-side", "--force-conflicts",
		"--field-manager=bulkhead-install", "--validate=strict", "-k", dir)
	if err != nil {
		t.Fatalf("kubectl apply -k config/default: %v\n%s", err, out)
	}
	for _, want := range []string{
		"namespace/bulkhead-system",
		"customresourcedefinition.apiextensions.k8s.io/tenants.tenancy.bulkhead.dev",
		"serviceaccount/bulkhead-manager",
		"clusterrole.rbac.authorization.k8s.io/bulkhead-manager",
		"clusterrolebinding.rbac.authorization.k8s.io/bulkhead-manager",
		"service/bulkhead-webhook",
		"deployment.apps/bulkhead-manager",
	} {
		if !strings.Contains(string(out), want+" serverside-applied") {
			t.Errorf("apply output lacks %s:\n%s", want, out)
		}
	}
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "bulkhead-system", Name: "bulkhead-manager"}, d); err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 2 || !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--leader-elect") {
		t.Errorf("manager Deployment: replicas %d, args %v; want 2 replicas with --leader-elect", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Args)
	}
}
