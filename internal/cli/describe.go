package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

func (o *options) describeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe TENANT",
		Short: "Show a tenant: its people, namespaces, usage against quota, conditions and the rules in force",
		Long: `describe shows one tenant as Bulkhead keeps it: who owns it, its namespaces,
its tenant-wide usage against quota.tenant.hard and each namespace's
ResourceQuota, its conditions with their reasons, and the rules in force, which
are the Tenant's own settings completed by its profile (Soft or Hard).`,
		Example: `  kubectl bulkhead describe acme
  kubectl bulkhead describe acme -o yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.checkOutput("", "json", "yaml"); err != nil {
				return err
			}
			return o.describe(cmd.Context(), args[0])
		},
	}
	o.addOutput(cmd, "json or yaml")
	return cmd
}

// Description is describe's answer.
type Description struct {
	Tenant *tenancyv1alpha1.Tenant `json:"tenant"`
	// Effective is the spec in force: the Tenant's, completed by its profile.
	Effective tenancyv1alpha1.TenantSpec `json:"effective"`
	// Quotas are the ResourceQuotas of the tenant's namespaces.
	Quotas []NamespaceQuota `json:"quotas,omitempty"`
}

// NamespaceQuota is one ResourceQuota's use.
type NamespaceQuota struct {
	Namespace string              `json:"namespace"`
	Name      string              `json:"name"`
	Hard      corev1.ResourceList `json:"hard"`
	Used      corev1.ResourceList `json:"used,omitempty"`
}

func (o *options) describe(ctx context.Context, name string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	t := &tenancyv1alpha1.Tenant{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, t); err != nil {
		return fmt.Errorf("reading Tenant %s: %w", name, err)
	}
	t.APIVersion, t.Kind = tenancyv1alpha1.GroupVersion.String(), "Tenant"
	t.ManagedFields = nil
	d := Description{Tenant: t, Effective: render.Effective(t, render.DefaultSettings())}
	for _, ns := range t.Status.Namespaces {
		list := &corev1.ResourceQuotaList{}
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("reading the ResourceQuotas of %s: %w", ns, err)
		}
		for _, q := range list.Items {
			d.Quotas = append(d.Quotas, NamespaceQuota{Namespace: ns, Name: q.Name, Hard: q.Status.Hard, Used: q.Status.Used})
		}
	}
	if o.output != "" {
		return printData(o.streams.Out, o.output, d)
	}
	return d.print(o.streams.Out)
}

func (d Description) print(w io.Writer) error {
	t, spec := d.Tenant, d.Effective
	fmt.Fprintf(w, "Name:         %s\n", t.Name)
	fmt.Fprintf(w, "Isolation:    %s\n", spec.Isolation)
	fmt.Fprintf(w, "Owners:       %s\n", subjects(spec.Owners))
	fmt.Fprintf(w, "Members:      %s\n", subjects(spec.Members))
	fmt.Fprintf(w, "Viewers:      %s\n", subjects(spec.Viewers))
	fmt.Fprintf(w, "Namespaces:   %s  %s\n", namespacesUsed(t, spec), orNone(strings.Join(t.Status.Namespaces, ", ")))
	fmt.Fprintf(w, "Ready:        %s\n", readiness(t))

	fmt.Fprintln(w, "\nRules in force (the Tenant's settings, completed by its profile):")
	rows := [][]string{
		{"Pod Security", string(spec.Pods.SecurityLevel) + " (enforced, version pinned)"},
		{"User namespaces", string(spec.Pods.UserNamespaces)},
		{"Runtime class", classPolicy(spec.Pods.RuntimeClass)},
		{"Priority classes", classPolicy(spec.Pods.PriorityClasses)},
		{"Images", images(spec.Pods.Images)},
		{"Service types", joinTypes(spec.Services.AllowedTypes) + "; externalIPs never"},
		{"Network", network(spec.Network)},
		{"Node pool", nodePool(spec.Nodes)},
		{"Storage classes", orAny(spec.Storage.Classes)},
		{"Ingress", "classes " + orAny(spec.Ingress.Classes) + "; hostnames " + orNone(strings.Join(spec.Ingress.Hostnames, ", "))},
		{"API fairness", priorityLevel(t, spec)},
	}
	if err := table(w, []string{"  RULE", "SETTING"}, indent(rows)); err != nil {
		return err
	}

	if spec.Quota.Tenant != nil && len(spec.Quota.Tenant.Hard) > 0 {
		fmt.Fprintln(w, "\nTenant-wide quota (usage as of the last recount):")
		var rows [][]string
		for _, r := range sortedResources(spec.Quota.Tenant.Hard) {
			used := t.Status.Usage[r]
			hard := spec.Quota.Tenant.Hard[r]
			rows = append(rows, []string{string(r), used.String(), hard.String()})
		}
		if err := table(w, []string{"  RESOURCE", "USED", "HARD"}, indent(rows)); err != nil {
			return err
		}
	}
	if len(d.Quotas) > 0 {
		fmt.Fprintln(w, "\nNamespace quotas:")
		var rows [][]string
		for _, q := range d.Quotas {
			for _, r := range sortedResources(q.Hard) {
				used, hard := q.Used[r], q.Hard[r]
				rows = append(rows, []string{q.Namespace, string(r), used.String(), hard.String()})
			}
		}
		if err := table(w, []string{"  NAMESPACE", "RESOURCE", "USED", "HARD"}, indent(rows)); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nConditions:")
	rows = nil
	for _, c := range t.Status.Conditions {
		rows = append(rows, []string{c.Type, string(c.Status), c.Reason, c.Message})
	}
	return table(w, []string{"  TYPE", "STATUS", "REASON", "MESSAGE"}, indent(rows))
}

func indent(rows [][]string) [][]string {
	for _, r := range rows {
		r[0] = "  " + r[0]
	}
	return rows
}

func sortedResources(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for r := range l {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func classPolicy(p *tenancyv1alpha1.ClassPolicy) string {
	if p == nil {
		return "any"
	}
	s := "allowed " + orAny(p.Allowed)
	if p.Default != "" {
		s = "default " + p.Default + ", " + s
	}
	return s
}

func images(i *tenancyv1alpha1.ImagesSpec) string {
	if i == nil {
		return "any registry; pull policy as written"
	}
	policy := "pull policy as written"
	if i.PullPolicy != "" {
		policy = "pull policy " + string(i.PullPolicy)
	}
	return "registries " + orAny(i.Registries) + "; " + policy
}

func joinTypes(types []tenancyv1alpha1.ServiceType) string {
	out := make([]string, 0, len(types))
	for _, t := range types {
		out = append(out, string(t))
	}
	return strings.Join(out, ", ")
}

func network(n tenancyv1alpha1.NetworkSpec) string {
	s := "isolation " + string(n.Isolation)
	if len(n.AllowFrom) > 0 {
		s += fmt.Sprintf(", %d allowFrom entries", len(n.AllowFrom))
	}
	if e := n.Egress; e != nil {
		if e.AllowInternet != nil && *e.AllowInternet {
			s += "; internet allowed"
		} else {
			s += "; no internet"
		}
		if len(e.AllowCIDRs) > 0 {
			s += "; allowed CIDRs " + strings.Join(e.AllowCIDRs, ", ")
		}
		if len(e.DenyCIDRs) > 0 {
			s += "; denied CIDRs " + strings.Join(e.DenyCIDRs, ", ")
		}
	}
	return s
}

func nodePool(n *tenancyv1alpha1.NodesSpec) string {
	if n == nil || len(n.Selector) == 0 {
		return "<none>: any node the scheduler picks"
	}
	keys := make([]string, 0, len(n.Selector))
	for k, v := range n.Selector {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return fmt.Sprintf("nodes %s; %d tolerations", strings.Join(keys, ","), len(n.Tolerations))
}

func orAny(list []string) string {
	if len(list) == 0 {
		return "any"
	}
	return strings.Join(list, ", ")
}
