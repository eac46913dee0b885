package e2e

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/tenantquota"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// oracleKeys are the usage keys tenant quota shares with a ResourceQuota.
var oracleKeys = []corev1.ResourceName{
	corev1.ResourcePods,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
}

// TestPodUsageMatchesResourceQuota uses Kubernetes' own ResourceQuota as the
// oracle for tenantquota.PodUsage: in a plain namespace holding a generous
// quota, each pod of a different shape (sidecars, an init container larger
// than the app, pod-level resources, a RuntimeClass overhead) must move the
// quota's status.used by exactly what PodUsage says the stored pod uses, for
// every key. Nobody here wrote the expected numbers.
func TestPodUsageMatchesResourceQuota(t *testing.T) {
	ctx := context.Background()
	const ns = "quota-oracle"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}) })

	l := testutil.Quantities
	overhead := &nodev1.RuntimeClass{
		ObjectMeta: metav1.ObjectMeta{Name: "quota-oracle-overhead"},
		Handler:    "kata",
		Overhead:   &nodev1.Overhead{PodFixed: l("cpu", "250m", "memory", "120Mi")},
	}
	if err := env.Client.Create(ctx, overhead); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, overhead) })

	hard := l("pods", "100", "requests.cpu", "100", "limits.cpu", "100", "requests.memory", "100Gi", "limits.memory", "100Gi",
		"requests.ephemeral-storage", "1Ti", "limits.ephemeral-storage", "1Ti")
	if err := env.Client.Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "oracle"},
		Spec:       corev1.ResourceQuotaSpec{Hard: hard},
	}); err != nil {
		t.Fatal(err)
	}
	used := func() corev1.ResourceList {
		rq := &corev1.ResourceQuota{}
		testenv.Eventually(t, "the quota counted", func() error {
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "oracle"}, rq); err != nil {
				return err
			}
			if len(rq.Status.Used) < len(oracleKeys) {
				return fmt.Errorf("status.used is %v", rq.Status.Used)
			}
			return nil
		})
		return rq.Status.Used
	}

	// A quota on cpu and memory makes Kubernetes require both, requests and
	// limits, of every container, unless the pod sets pod-level resources:
	// the shapes respect that, and vary ephemeral storage, which it does not
	// require.
	full := func(cpu, mem string) corev1.ResourceList { return l("cpu", cpu, "memory", mem) }
	for _, tc := range []struct {
		name  string
		edits []func(*corev1.Pod)
	}{
		{"app", []func(*corev1.Pod){
			testutil.Resources(l("cpu", "100m", "memory", "64Mi", "ephemeral-storage", "1Gi"), full("200m", "128Mi")),
		}},
		{"sidecars", []func(*corev1.Pod){
			testutil.Resources(full("100m", "64Mi"), full("200m", "128Mi")),
			testutil.Sidecar("proxy", l("cpu", "150m", "memory", "32Mi", "ephemeral-storage", "512Mi"), l("cpu", "300m", "memory", "64Mi", "ephemeral-storage", "1Gi")),
			testutil.Sidecar("logs", full("50m", "16Mi"), full("70m", "48Mi")),
		}},
		{"init-larger-than-app", []func(*corev1.Pod){
			testutil.Resources(full("100m", "64Mi"), full("200m", "128Mi")),
			testutil.InitContainer("migrate", l("cpu", "700m", "memory", "300Mi", "ephemeral-storage", "2Gi"), full("900m", "400Mi")),
		}},
		{"init-after-sidecar", []func(*corev1.Pod){
			testutil.Resources(full("100m", "64Mi"), full("200m", "128Mi")),
			testutil.Sidecar("proxy", full("300m", "100Mi"), full("400m", "150Mi")),
			testutil.InitContainer("migrate", full("500m", "50Mi"), full("600m", "60Mi")),
		}},
		{"pod-level", []func(*corev1.Pod){
			testutil.PodResources(full("600m", "256Mi"), full("1", "512Mi")),
			testutil.Resources(l("cpu", "100m", "ephemeral-storage", "1Gi"), l("memory", "128Mi", "ephemeral-storage", "3Gi")),
			testutil.Sidecar("proxy", l("cpu", "50m"), nil),
		}},
		{"overhead", []func(*corev1.Pod){
			testutil.RuntimeClassName(overhead.Name),
			testutil.Resources(full("100m", "64Mi"), full("200m", "128Mi")),
			testutil.Sidecar("proxy", full("50m", "16Mi"), full("70m", "48Mi")),
		}},
		{"pod-level-and-overhead", []func(*corev1.Pod){
			testutil.RuntimeClassName(overhead.Name),
			testutil.PodResources(full("400m", "200Mi"), full("800m", "400Mi")),
			testutil.Resources(l("cpu", "100m"), nil),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := used()
			p := testutil.Pod(ns, tc.name, "registry.example.com/app:1", tc.edits...)
			// Create overwrites p with what was stored: keep what was asked.
			asked := p.Spec.Resources.DeepCopy()
			if err := env.Client.Create(ctx, p); err != nil {
				t.Fatalf("creating pod %s: %v", tc.name, err)
			}
			stored := &corev1.Pod{}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), stored); err != nil {
				t.Fatal(err)
			}
			// The shapes must reach the quota as written: a pod-level
			// resources gate turned off drops spec.resources, and a
			// RuntimeClass must bring its overhead.
			if asked != nil && !equality.Semantic.DeepEqual(asked, stored.Spec.Resources) {
				t.Fatalf("the API server kept spec.resources %v of %v: is PodLevelResources off?", stored.Spec.Resources, asked)
			}
			if p.Spec.RuntimeClassName != nil && len(stored.Spec.Overhead) == 0 {
				t.Fatal("the pod got no overhead from its RuntimeClass")
			}
			want := tenantquota.PodUsage(stored)
			// Settled: the pod is counted, and two reads in a row agree.
			var after corev1.ResourceList
			testenv.Eventually(t, "status.used to settle on the new pod", func() error {
				last := after
				after = used()
				if got, was := after[corev1.ResourcePods], before[corev1.ResourcePods]; got.Value() != was.Value()+1 {
					return fmt.Errorf("pods used %s, was %s", got.String(), was.String())
				}
				if !equality.Semantic.DeepEqual(last, after) {
					return fmt.Errorf("status.used still moving: %v", after)
				}
				return nil
			})
			for _, k := range oracleKeys {
				delta := after[k].DeepCopy()
				delta.Sub(before[k])
				mine := want[k]
				if delta.Cmp(mine) != 0 {
					t.Errorf("%s: ResourceQuota charged %s, PodUsage says %s", k, delta.String(), mine.String())
				}
			}
		})
	}
}
