package integration

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// TestManagerKeepsTheClusterPosture: the manager, as its own service
// account with the RBAC config/rbac grants, runs the posture checks and
// writes them to the ClusterPosture named cluster. On the dev cluster
// every check it runs passes or warns; the NodeRestriction probe, which
// impersonates a node, is left to kubectl bulkhead posture.
func TestManagerKeepsTheClusterPosture(t *testing.T) {
	want := map[string]tenancyv1alpha1.PostureCheckStatus{
		"encryption-at-rest":    "PASS",
		"audit-log":             "PASS",
		"pod-security":          "PASS",
		"admission-policies":    "PASS",
		"node-restriction":      "N/A",
		"sandbox-runtimeclass":  "PASS",
		"webhooks-spare-system": "PASS",
	}
	testenv.Eventually(t, "the ClusterPosture written", func() error {
		cp := &tenancyv1alpha1.ClusterPosture{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: tenancyv1alpha1.ClusterPostureName}, cp); err != nil {
			return err
		}
		got := map[string]tenancyv1alpha1.PostureCheck{}
		for _, c := range cp.Status.Checks {
			got[c.ID] = c
		}
		for id, status := range want {
			if got[id].Status != status {
				return fmt.Errorf("%s = %q (%s), want %s", id, got[id].Status, got[id].Evidence, status)
			}
		}
		safe := meta.FindStatusCondition(cp.Status.Conditions, "Safe")
		if safe == nil || safe.Status != "True" {
			return fmt.Errorf("Safe condition %+v, want True", safe)
		}
		return nil
	})
}
