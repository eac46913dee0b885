package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

func (o *options) tenantsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "tenants",
		Aliases: []string{"tenant", "list"},
		Short:   "List the tenants you may see, with their profile, namespaces and readiness",
		Example: `  kubectl bulkhead tenants
  kubectl bulkhead tenants -o wide   # with owners, priority level and the conditions not ready`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkOutput("", "wide", "json", "yaml"); err != nil {
				return err
			}
			return o.tenants(cmd.Context())
		},
	}
	o.addOutput(cmd, "wide, json or yaml")
	return cmd
}

func (o *options) tenants(ctx context.Context) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	return o.printTenants(ctx, c)
}

func (o *options) printTenants(ctx context.Context, c client.Reader) error {
	list := &tenancyv1alpha1.TenantList{}
	if err := c.List(ctx, list); err != nil {
		return fmt.Errorf("listing Tenants: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	if o.output == "json" || o.output == "yaml" {
		list.APIVersion, list.Kind = "v1", "List"
		for i := range list.Items {
			list.Items[i].APIVersion, list.Items[i].Kind = tenancyv1alpha1.GroupVersion.String(), "Tenant"
		}
		return printData(o.streams.Out, o.output, list)
	}
	header := []string{"NAME", "ISOLATION", "NAMESPACES", "READY", "AGE"}
	if o.output == "wide" {
		header = append(header, "OWNERS", "PRIORITY LEVEL", "NOT READY")
	}
	rows := make([][]string, 0, len(list.Items))
	for _, t := range list.Items {
		spec := render.Effective(&t, render.DefaultSettings())
		row := []string{t.Name, string(spec.Isolation), namespacesUsed(&t, spec), readiness(&t),
			duration.HumanDuration(time.Since(t.CreationTimestamp.Time))}
		if o.output == "wide" {
			row = append(row, subjects(spec.Owners), priorityLevel(&t, spec), notReady(&t))
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(o.streams.ErrOut, "No tenants found.")
		return err
	}
	return table(o.streams.Out, header, rows)
}

func namespacesUsed(t *tenancyv1alpha1.Tenant, spec tenancyv1alpha1.TenantSpec) string {
	limit := "unlimited"
	if spec.Namespaces.Max != nil {
		limit = strconv.Itoa(int(*spec.Namespaces.Max))
	}
	return fmt.Sprintf("%d/%s", len(t.Status.Namespaces), limit)
}

func readiness(t *tenancyv1alpha1.Tenant) string {
	c := meta.FindStatusCondition(t.Status.Conditions, tenancyv1alpha1.ConditionReady)
	if c == nil {
		return "Unknown"
	}
	return string(c.Status)
}

// notReady lists the conditions that are not True, with their reasons.
func notReady(t *tenancyv1alpha1.Tenant) string {
	var out []string
	for _, c := range t.Status.Conditions {
		if c.Type != tenancyv1alpha1.ConditionReady && c.Status != "True" {
			out = append(out, c.Type+"="+c.Reason)
		}
	}
	return orNone(strings.Join(out, ","))
}

func subjects(list []tenancyv1alpha1.Subject) string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		name := s.Name
		if s.Kind == tenancyv1alpha1.SubjectServiceAccount {
			name = s.Namespace + "/" + s.Name
		}
		out = append(out, string(s.Kind)+" "+name)
	}
	return orNone(strings.Join(out, ", "))
}

// priorityLevel is where the tenant's requests go in API Priority and
// Fairness, as the fairness concern renders it.
func priorityLevel(t *tenancyv1alpha1.Tenant, spec tenancyv1alpha1.TenantSpec) string {
	shares, off := render.FairnessShares(spec)
	switch {
	case off:
		return "off"
	case shares == 0:
		return render.TenantsPriorityLevel
	}
	c := meta.FindStatusCondition(t.Status.Conditions, tenancyv1alpha1.ConditionFairnessReady)
	if c != nil && c.Reason == tenancyv1alpha1.ReasonLevelCapReached {
		return render.TenantsPriorityLevel + " (cap reached)"
	}
	return fmt.Sprintf("%s (%d shares)", render.FairnessFlowSchemaName(t.Name), shares)
}
