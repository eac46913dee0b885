package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bulkhead-dev/bulkhead/internal/posture"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

func (o *options) postureCommand() *cobra.Command {
	defaults := render.DefaultSettings()
	p := &posture.Prober{Namespace: defaults.ManagerNamespace, SandboxRuntimeClass: defaults.SandboxRuntimeClass, SystemNamespace: "kube-system"}
	cmd := &cobra.Command{
		Use:   "posture",
		Short: "Check that the cluster is configured safely for tenants",
		Long: `posture checks what Bulkhead relies on but cannot enforce itself, from what
the API server exposes, and prints one row per check with the probe it ran:

  encryption-at-rest     Secrets encrypted in etcd (a probe Secret, and the API
                         server's storage transformation metrics)
  audit-log              the API server records an audit log (its audit metrics)
  anonymous-access       anonymous requests refused (one sent without credentials)
  pod-security           the PodSecurity admission plugin judges namespaces
  admission-policies     ValidatingAdmissionPolicy and MutatingAdmissionPolicy served
  node-restriction       NodeRestriction stops a node relabelling itself
  sandbox-runtimeclass   the RuntimeClass Hard tenants run in exists
  user-namespaces        nodes that run pods in user namespaces
  webhooks-spare-system  Bulkhead's webhooks cannot block kube-system

Each result is PASS, FAIL (with what to do), WARN (safe now, one step from
unsafe), N/A or ERROR (the probe could not tell). It needs a cluster admin: it
reads the API server's /metrics, impersonates a node for a dry run, and writes
then deletes one Secret in Bulkhead's namespace.

Exit status is 1 when any check FAILs or is inconclusive.`,
		Example: `  kubectl bulkhead posture
  kubectl bulkhead posture -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkOutput("", "json", "yaml"); err != nil {
				return err
			}
			return o.posture(cmd.Context(), p)
		},
	}
	o.addOutput(cmd, "json or yaml")
	cmd.Flags().StringVar(&p.Namespace, "probe-namespace", p.Namespace, "Namespace the encryption probe writes its Secret in (Bulkhead's).")
	cmd.Flags().StringVar(&p.SandboxRuntimeClass, "sandbox-runtime-class", p.SandboxRuntimeClass, "The RuntimeClass Hard tenants run in (the manager's --sandbox-runtime-class).")
	return cmd
}

func (o *options) posture(ctx context.Context, p *posture.Prober) error {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	p.Config, p.Client = cfg, c
	results := p.Run(ctx)
	failed := false
	for _, r := range results {
		failed = failed || r.Status == posture.Fail || r.Status == posture.Error
	}
	if o.output == "json" || o.output == "yaml" {
		if err := printData(o.streams.Out, o.output, results); err != nil {
			return err
		}
	} else {
		rows := make([][]string, 0, len(results))
		for _, r := range results {
			rows = append(rows, []string{r.ID, string(r.Status), r.Evidence})
		}
		if err := table(o.streams.Out, []string{"CHECK", "RESULT", "EVIDENCE"}, rows); err != nil {
			return err
		}
		for _, r := range results {
			if r.Fix != "" {
				fmt.Fprintf(o.streams.Out, "\n%s (%s): %s\n  probe: %s\n  fix:   %s\n", r.ID, r.Status, r.Check, r.Probe, r.Fix)
			}
		}
	}
	if failed {
		return ErrChecksFailed
	}
	return nil
}
