package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/cli"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestRightsizing runs two pods of a tenant in rightsizing mode Resize on
// kwok nodes whose simulated usage metrics-server serves as
// metrics.k8s.io: one requests far more than it uses and is resized in
// place, through its resize subresource, to its usage plus headroom; the
// other already requests the namespace's LimitRange minimum and is left
// alone, the TenantUsage saying so. kwok does not act on a resize, so the
// test checks the spec the API server accepted.
func TestRightsizing(t *testing.T) {
	ctx := context.Background()
	tn := testutil.Tenant("rs").Owner("rs-owner").Member("rs-dev").Obj()
	tn.Spec.Limits = &tenancyv1alpha1.LimitsSpec{Min: testutil.Quantities("cpu", "100m", "memory", "128Mi")}
	tn.Spec.Rightsizing = tenancyv1alpha1.RightsizingSpec{Mode: tenancyv1alpha1.RightsizingResize}
	env.TenantWithNamespace(t, tn, "rs-app")
	testenv.Eventually(t, "rs-app ready for pods", func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "rs-app", Name: "default"}, &corev1.ServiceAccount{}); err != nil {
			return err
		}
		return testenv.CanI(env.As("rs-dev"), "create", "pods", "rs-app")
	})
	dev := env.As("rs-dev")
	uses := func(cpu, memory string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Annotations = map[string]string{devcluster.UsageCPUAnnotation: cpu, devcluster.UsageMemoryAnnotation: memory}
		}
	}
	limits := testutil.Quantities("cpu", "1", "memory", "1Gi")
	wasteful := testutil.Pod("rs-app", "wasteful", "registry.example/app:1",
		testutil.Resources(testutil.Quantities("cpu", "500m", "memory", "512Mi"), limits), uses("300m", "300Mi"))
	bounded := testutil.Pod("rs-app", "bounded", "registry.example/app:1",
		testutil.Resources(testutil.Quantities("cpu", "100m", "memory", "128Mi"), limits), uses("5m", "10Mi"))
	for _, p := range []*corev1.Pod{wasteful, bounded} {
		if err := dev.Create(ctx, p); err != nil {
			t.Fatalf("creating pod %s: %v", p.Name, err)
		}
	}

	// The wasteful pod is resized to its usage plus 20%: kwok's usage
	// varies between 80% and 100% of the annotation, so the peak of a few
	// samples is 240m-300m, plus 20% 288m-360m.
	var resized corev1.Pod
	testenv.EventuallyWithin(t, "the over-requesting pod resized in place", rightsizingWait, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(wasteful), &resized); err != nil {
			return err
		}
		req := resized.Spec.Containers[0].Resources.Requests
		if req.Cpu().Cmp(resource.MustParse("500m")) == 0 {
			var tu tenancyv1alpha1.TenantUsage
			if err := env.Client.Get(ctx, client.ObjectKey{Name: "rs"}, &tu); err != nil {
				return fmt.Errorf("cpu request still 500m; no TenantUsage: %w", err)
			}
			return fmt.Errorf("cpu request still 500m; TenantUsage row %+v", findRow(tu.Status.Containers, "Pod/wasteful"))
		}
		return nil
	})
	req, lim := resized.Spec.Containers[0].Resources.Requests, resized.Spec.Containers[0].Resources.Limits
	if cpu := req.Cpu().MilliValue(); cpu < 280 || cpu > 360 {
		t.Errorf("cpu request resized to %dm, want the 300m usage's peak plus 20%% (288m-360m)", cpu)
	}
	if mem := req.Memory().Value() >> 20; mem < 280 || mem > 360 {
		t.Errorf("memory request resized to %dMi, want the 300Mi usage's peak plus 20%% (288Mi-360Mi)", mem)
	}
	if lim.Cpu().Cmp(resource.MustParse("1")) != 0 || lim.Memory().Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("limits changed to %v; a resize moves requests only", lim)
	}
	if resized.Status.QOSClass != corev1.PodQOSBurstable {
		t.Errorf("QoS class %s, want Burstable still", resized.Status.QOSClass)
	}

	// The bounded pod is left alone, and the TenantUsage says why.
	var tu tenancyv1alpha1.TenantUsage
	testenv.EventuallyWithin(t, "TenantUsage records the resize and the pod left alone", rightsizingWait, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "rs"}, &tu); err != nil {
			return err
		}
		if len(tu.Status.Resizes) == 0 || tu.Status.Resizes[len(tu.Status.Resizes)-1].Pod != "wasteful" {
			return fmt.Errorf("resizes %+v, want the wasteful pod's", tu.Status.Resizes)
		}
		row := findRow(tu.Status.Containers, "Pod/bounded")
		if row == nil || !strings.Contains(row.Rightsizing, "held at 100m by LimitRange") || !strings.Contains(row.Rightsizing, "min") {
			return fmt.Errorf("bounded pod's row %+v, want it held at the LimitRange min", row)
		}
		if row.Recommendation.Cpu().MilliValue() > 10 {
			return fmt.Errorf("bounded pod's recommendation %v, want its usage's (at most 6m)", row.Recommendation)
		}
		return nil
	})
	var still corev1.Pod
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(bounded), &still); err != nil {
		t.Fatal(err)
	}
	if cpu := still.Spec.Containers[0].Resources.Requests.Cpu(); cpu.Cmp(resource.MustParse("100m")) != 0 {
		t.Errorf("the bounded pod's cpu request is %v; the LimitRange min (100m) should have held it", cpu)
	}
	// Later passes may resize again (the peak seen grows with samples, and
	// growth past a tenth is resized too): the first resize is in the
	// history, newest first.
	from500, toSeen := false, false
	for _, rz := range tu.Status.Resizes {
		from500 = from500 || (rz.Pod == "wasteful" && rz.From.Cpu().Cmp(resource.MustParse("500m")) == 0)
		toSeen = toSeen || (rz.Pod == "wasteful" && rz.To.Cpu().Cmp(*req.Cpu()) == 0)
	}
	if !from500 || !toSeen {
		t.Errorf("resizes %+v: want the wasteful pod's from 500m, and one to %v", tu.Status.Resizes, req.Cpu())
	}
	testenv.Eventually(t, "a Resized event on the pod", func() error {
		var evs eventsv1.EventList
		if err := env.Client.List(ctx, &evs, client.InNamespace("rs-app")); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == "wasteful" && e.Reason == "Resized" && strings.Contains(e.Note, "next rollout") {
				return nil
			}
		}
		return fmt.Errorf("no Resized event among %d", len(evs.Items))
	})

	// The manager exports the tenant's figures, one series per resource.
	testenv.Eventually(t, "the tenant's usage metrics", func() error {
		families, err := metrics.Registry.Gather()
		if err != nil {
			return err
		}
		value := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["tenant"] != "rs" || (labels["resource"] != "" && labels["resource"] != "cpu") {
					continue
				}
				value[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
		requested, used, recommended := value["bulkhead_tenant_resource_requests"], value["bulkhead_tenant_resource_usage"], value["bulkhead_tenant_resource_recommendation"]
		if requested <= 0 || used <= 0 || recommended <= 0 || recommended >= requested || value["bulkhead_rightsizing_resizes_total"] < 1 {
			return fmt.Errorf("cpu requested %.3f, used %.3f, recommended %.3f, resizes %.0f: want all positive, recommended below requested, a resize",
				requested, used, recommended, value["bulkhead_rightsizing_resizes_total"])
		}
		return nil
	})

	// kubectl bulkhead usage shows the table.
	var out, errOut bytes.Buffer
	cmd := cli.NewCommand(genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
	cmd.SetArgs([]string{"--kubeconfig", env.Cluster.Kubeconfig, "usage", "rs", "-o", "wide"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("kubectl bulkhead usage: %v: %s", err, errOut.String())
	}
	for _, want := range []string{"CPU P95", "CPU REC", "Pod/wasteful", "Pod/bounded", "Resized in place", "held at 100m"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage output lacks %q:\n%s", want, out.String())
		}
	}
}

// rightsizingWait is how long a resize may take: metrics-server refreshes
// every 10 seconds and the test manager resizes on its third sample.
const rightsizingWait = 3 * time.Minute

func findRow(rows []tenancyv1alpha1.ContainerUsage, workload string) *tenancyv1alpha1.ContainerUsage {
	for i := range rows {
		if rows[i].Workload == workload {
			return &rows[i]
		}
	}
	return nil
}
