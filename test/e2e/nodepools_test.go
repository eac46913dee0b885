package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestNodePools runs the real scheduler over kwok nodes: a Hard tenant's
// pods, created by a Deployment's controllers, land only on its dedicated
// pool; another tenant's pods never land there; and neither can forge the
// pool's toleration or name a pool node directly.
func TestNodePools(t *testing.T) {
	ctx := context.Background()
	tol := corev1.Toleration{Key: poolTaint.Key, Operator: corev1.TolerationOpEqual, Value: poolTaint.Value, Effect: poolTaint.Effect}
	env.TenantWithNamespace(t, testutil.Tenant("pool").Owner("pool-owner").Member("pool-dev").Hard().
		NodePool(map[string]string{"pool": "pool"}, tol).Obj(), "pool-app")
	env.TenantWithNamespace(t, testutil.Tenant("other").Owner("other-owner").Member("other-dev").Obj(), "other-app")
	pooled, other := env.As("pool-dev"), env.As("other-dev")

	deploy := func(c client.Client, ns string, replicas int32) {
		t.Helper()
		labels := map[string]string{"app": "spread"}
		p := testutil.Pod("", "", "registry.example.com/app:1")
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spread"}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: p.Spec},
		}}
		if err := c.Create(ctx, d); err != nil {
			t.Fatalf("creating a Deployment in %s: %v", ns, err)
		}
	}
	deploy(pooled, "pool-app", 4)
	deploy(other, "other-app", 8)

	placed := func(ns string, want int) map[string]int {
		t.Helper()
		nodes := map[string]int{}
		testenv.Eventually(t, fmt.Sprintf("%d pods of %s scheduled", want, ns), func() error {
			list := &corev1.PodList{}
			if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
				return err
			}
			clear(nodes)
			n := 0
			for _, p := range list.Items {
				if p.Spec.NodeName != "" {
					nodes[p.Spec.NodeName]++
					n++
				}
			}
			if n != want {
				rs := &appsv1.ReplicaSetList{}
				_ = env.Client.List(ctx, rs, client.InNamespace(ns))
				ev := &corev1.EventList{}
				_ = env.Client.List(ctx, ev, client.InNamespace(ns))
				var msgs []string
				for _, e := range ev.Items {
					msgs = append(msgs, e.Reason+": "+e.Message)
				}
				return fmt.Errorf("%d of %d scheduled: %v (%d pods, %d replicasets) events %v", n, want, nodes, len(list.Items), len(rs.Items), msgs)
			}
			return nil
		})
		return nodes
	}
	for node := range placed("pool-app", 4) {
		if !strings.HasPrefix(node, "pool-") {
			t.Errorf("a pod of the pooled tenant landed on %s, outside its pool", node)
		}
	}
	// The pool's taint alone keeps plain pods off it (a fixture check);
	// what Bulkhead adds is that nobody else can forge the way in, below.
	for node := range placed("other-app", 8) {
		if strings.HasPrefix(node, "pool-") {
			t.Errorf("a pod of another tenant landed on the dedicated node %s", node)
		}
	}
	sneaky := testutil.Pod("", "", "registry.example.com/app:1", func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{tol}
		p.Spec.NodeSelector = map[string]string{"pool": "pool"}
	})
	labels := map[string]string{"app": "sneaky"}
	testenv.Rejected(t, other.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "other-app", Name: "sneaky"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: sneaky.Spec},
	}}), "other", "nodes.tolerations")

	forged := testutil.Pod("other-app", "forged", "registry.example.com/app:1", func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{tol}
		p.Spec.NodeSelector = map[string]string{"pool": "pool"}
	})
	testenv.Rejected(t, other.Create(ctx, forged), "other", "nodes.tolerations")
	direct := testutil.Pod("other-app", "direct", "registry.example.com/app:1", func(p *corev1.Pod) { p.Spec.NodeName = "pool-1" })
	testenv.Rejected(t, other.Create(ctx, direct), "other", "nodes.nodeName")
	escape := testutil.Pod("pool-app", "escape", "registry.example.com/app:1", func(p *corev1.Pod) { p.Spec.NodeName = "shared-1" })
	testenv.Rejected(t, pooled.Create(ctx, escape), "pool", "nodes.nodeName")
	leave := testutil.Pod("pool-app", "leave", "registry.example.com/app:1", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"pool": "shared"} })
	testenv.Rejected(t, pooled.Create(ctx, leave), "pool", "nodes.selector")
}
