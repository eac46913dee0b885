package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/usage"
)

func (o *options) usageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "usage TENANT",
		Short: "Show what a tenant's workloads request against what they use",
		Long: `usage prints, per workload container of the tenant, its request, the 95th
percentile and peak of its measured usage, and the request Bulkhead recommends
(p95 plus the tenant's spec.rightsizing.headroomPercent, never below the peak),
from the TenantUsage the manager keeps. Rows come most over-requested first.

Usage is sampled by the leading manager from metrics.k8s.io, so the cluster
needs a metrics pipeline (metrics-server). A container gets a recommendation
once it was sampled in --rightsizing-min-samples passes (the manager's flag); "-" until
then. With spec.rightsizing.mode Resize, the RIGHTSIZING column says what the
last pass resized, or why it left a pod alone, and the resizes made are listed
below the table.

Owners, members and viewers of the tenant may read it through the tenant view;
otherwise it needs get on tenantusages.`,
		Example: `  kubectl bulkhead usage team-a
  kubectl bulkhead usage team-a -o yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.checkOutput("", "wide", "json", "yaml"); err != nil {
				return err
			}
			return o.usage(cmd.Context(), args[0])
		},
	}
	o.addOutput(cmd, "wide (with peaks and notes), json or yaml")
	return cmd
}

func (o *options) usage(ctx context.Context, tenant string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	var tu tenancyv1alpha1.TenantUsage
	if err := c.Get(ctx, client.ObjectKey{Name: tenant}, &tu); apierrors.IsNotFound(err) {
		return fmt.Errorf("no usage recorded for tenant %q yet: the manager writes it once metrics.k8s.io reports one of the tenant's pods (is metrics-server installed? kubectl get apiservice v1beta1.metrics.k8s.io)", tenant)
	} else if err != nil {
		return err
	}
	if o.output == "json" || o.output == "yaml" {
		return printData(o.streams.Out, o.output, tu.Status)
	}
	return PrintUsage(o.streams.Out, &tu, o.output == "wide", time.Now())
}

// PrintUsage writes a TenantUsage as a table per workload container, with
// a summary line above and the resizes below; wide adds peaks and notes.
func PrintUsage(w io.Writer, tu *tenancyv1alpha1.TenantUsage, wide bool, now time.Time) error {
	st := &tu.Status
	since := "no samples yet"
	if !st.ObservedSince.IsZero() {
		since = "over the last " + now.Sub(st.ObservedSince.Time).Round(time.Second).String()
	}
	fmt.Fprintf(w, "Tenant %s, %s: requests cpu %s, memory %s; using cpu %s, memory %s; recommended cpu %s, memory %s\n\n",
		tu.Name, since, cpuOf(st.Requests), memOf(st.Requests), cpuOf(st.Usage), memOf(st.Usage), cpuOf(st.Recommended), memOf(st.Recommended))
	header := []string{"NAMESPACE", "WORKLOAD", "CONTAINER", "PODS", "CPU REQ", "CPU P95", "CPU REC", "MEM REQ", "MEM P95", "MEM REC"}
	if wide {
		header = append(header, "CPU PEAK", "MEM PEAK", "SAMPLES", "RIGHTSIZING")
	}
	rows := make([][]string, 0, len(st.Containers))
	for _, c := range st.Containers {
		row := []string{c.Namespace, c.Workload, c.Container, fmt.Sprint(c.Pods),
			cpuOf(c.Request), cpuOf(c.P95), cpuOf(c.Recommendation),
			memOf(c.Request), memOf(c.P95), memOf(c.Recommendation)}
		if wide {
			row = append(row, cpuOf(c.Peak), memOf(c.Peak), fmt.Sprint(c.Samples), orDash(c.Rightsizing))
		}
		rows = append(rows, row)
	}
	if err := table(w, header, rows); err != nil {
		return err
	}
	if st.Truncated > 0 {
		fmt.Fprintf(w, "(%d more workload containers, the least over-requested, not shown)\n", st.Truncated)
	}
	if len(st.Resizes) > 0 {
		fmt.Fprintln(w, "\nResized in place (undone by each workload's next rollout):")
		for _, r := range st.Resizes {
			fmt.Fprintf(w, "  %s  %s/%s %s: %s\n", r.Time.UTC().Format(time.RFC3339), r.Namespace, r.Pod, r.Container, usage.DescribeChange(r.From, r.To))
		}
	}
	return nil
}

func cpuOf(l corev1.ResourceList) string {
	q, ok := l[corev1.ResourceCPU]
	if !ok {
		return "-"
	}
	return show(corev1.ResourceCPU, q)
}

func memOf(l corev1.ResourceList) string {
	q, ok := l[corev1.ResourceMemory]
	if !ok {
		return "-"
	}
	return show(corev1.ResourceMemory, q)
}

// show prints CPU in millicores and memory in MiB, so that a column reads
// as one unit.
func show(r corev1.ResourceName, q resource.Quantity) string {
	if r == corev1.ResourceCPU {
		return fmt.Sprintf("%dm", q.MilliValue())
	}
	return fmt.Sprintf("%dMi", (q.Value()+(1<<20)-1)>>20)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
