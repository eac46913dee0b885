package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/audit"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

func (o *options) auditCommand() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Run the Multi-Tenancy Benchmarks' isolation checks as a tenant identity",
		Long: `audit runs the 19 checks of the Multi-Tenancy Benchmarks against the live
cluster as one tenant identity (yourself, or --as USER with --as-group), in one
of its tenant's namespaces (-n, or its first), and prints one row per check:
PASS, FAIL, N/A (the tenant's profile does not promise it: a Soft tenant runs
Pod Security baseline, which allows root) or ERROR (inconclusive: a refusal for
another reason than the one checked, such as a quota), with the evidence.

It leaves nothing behind: every check is an access review as the identity or a
server-side dry run. It reads the Tenant, the quotas and Bulkhead's objects
with your own rights, so auditing another identity takes a cluster admin
(impersonation and read access to Tenants).

Exit status is 1 when any check FAILs or is inconclusive.`,
		Example: `  kubectl bulkhead audit --as carol
  kubectl bulkhead audit --as alice --as-group acme-devs -n acme-web -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkOutput("", "wide", "json", "yaml"); err != nil {
				return err
			}
			return o.audit(cmd.Context(), tenant)
		},
	}
	o.addOutput(cmd, "wide (full evidence), json or yaml")
	cmd.Flags().StringVar(&tenant, "tenant", "", "The tenant to audit the identity in, when it belongs to several.")
	return cmd
}

// Report is audit's answer.
type Report struct {
	Tenant    string         `json:"tenant"`
	Isolation string         `json:"isolation"`
	Namespace string         `json:"namespace"`
	Other     string         `json:"otherTenantNamespace,omitempty"`
	Identity  audit.Identity `json:"identity"`
	Role      audit.Role     `json:"role"`
	Results   []audit.Result `json:"results"`
	Summary   map[string]int `json:"summary"`
}

func (o *options) audit(ctx context.Context, tenant string) error {
	as, err := o.client()
	if err != nil {
		return err
	}
	own, ownCfg, err := o.ownClient()
	if err != nil {
		return err
	}
	id, err := whoAmI(ctx, as)
	if err != nil {
		return err
	}
	target, err := findTarget(ctx, own, id, tenant, ptrValue(o.flags.Namespace))
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(ownCfg)
	if err != nil {
		return err
	}
	a := &audit.Auditor{As: as, Reader: own, Discovery: dc, Target: target}
	r := Report{Tenant: target.Tenant, Isolation: string(target.Spec.Isolation), Namespace: target.Namespace, Other: target.Other,
		Identity: id, Role: target.Role, Results: a.Run(ctx), Summary: map[string]int{}}
	for _, res := range r.Results {
		r.Summary[string(res.Status)]++
	}
	if o.output == "json" || o.output == "yaml" {
		err = printData(o.streams.Out, o.output, r)
	} else {
		err = r.print(o, o.output == "wide")
	}
	if err != nil {
		return err
	}
	if audit.Failed(r.Results) {
		return ErrChecksFailed
	}
	return nil
}

func (r Report) print(o *options, wide bool) error {
	w := o.streams.Out
	fmt.Fprintf(w, "Tenant %s (%s), namespace %s, as %s", r.Tenant, r.Isolation, r.Namespace, r.Identity.User)
	if len(r.Identity.Groups) > 0 {
		fmt.Fprintf(w, " [%s]", strings.Join(r.Identity.Groups, ", "))
	}
	fmt.Fprintf(w, " (%s)\n\n", r.Role)
	rows := make([][]string, 0, len(r.Results))
	for _, res := range r.Results {
		evidence := res.Evidence
		if !wide && len(evidence) > 100 {
			evidence = evidence[:97] + "..."
		}
		rows = append(rows, []string{res.ID, res.Title, string(res.Status), evidence})
	}
	if err := table(w, []string{"ID", "CHECK", "RESULT", "EVIDENCE"}, rows); err != nil {
		return err
	}
	var parts []string
	for _, s := range []audit.Status{audit.Pass, audit.Fail, audit.NotApplicable, audit.Error} {
		parts = append(parts, fmt.Sprintf("%d %s", r.Summary[string(s)], s))
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(parts, ", "))
	return err
}

// findTarget finds, reading through r, the tenant id belongs to (the one
// named, when several), the namespace to audit in (namespace, or the
// tenant's first) and a namespace of another tenant to try to reach.
func findTarget(ctx context.Context, r client.Reader, id audit.Identity, tenant, namespace string) (audit.Target, error) {
	ms, err := memberships(ctx, r, id)
	if err != nil {
		return audit.Target{}, err
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Tenant)
	}
	var m audit.Membership
	switch {
	case len(ms) == 0:
		return audit.Target{}, fmt.Errorf("%s is in no tenant: no Tenant names it, its groups or its service account; audit a tenant identity with --as USER [--as-group GROUP]", id.User)
	case tenant != "":
		i := slices.Index(names, tenant)
		if i < 0 {
			return audit.Target{}, fmt.Errorf("%s is not in tenant %s; it is in %s", id.User, tenant, strings.Join(names, ", "))
		}
		m = ms[i]
	case len(ms) > 1:
		return audit.Target{}, fmt.Errorf("%s is in tenants %s; choose one with --tenant", id.User, strings.Join(names, ", "))
	default:
		m = ms[0]
	}
	t := &tenancyv1alpha1.Tenant{}
	if err := r.Get(ctx, client.ObjectKey{Name: m.Tenant}, t); err != nil {
		return audit.Target{}, err
	}
	switch {
	case namespace != "" && !slices.Contains(t.Status.Namespaces, namespace):
		return audit.Target{}, fmt.Errorf("namespace %s is not one of tenant %s's (%s)", namespace, t.Name, orNone(strings.Join(t.Status.Namespaces, ", ")))
	case namespace == "" && len(t.Status.Namespaces) == 0:
		return audit.Target{}, fmt.Errorf("tenant %s has no namespace to audit in yet; an owner creates one with kubectl create namespace %s-<name>", t.Name, t.Name)
	case namespace == "":
		namespace = t.Status.Namespaces[0]
	}
	other, err := otherTenantNamespace(ctx, r, t.Name)
	if err != nil {
		return audit.Target{}, err
	}
	return audit.Target{
		Identity: id, Tenant: t.Name, Role: m.Role, Namespace: namespace, Other: other,
		// The manager's settings are not known here; the profile's
		// defaults that the checks read do not depend on them.
		Spec: render.Effective(t, render.DefaultSettings()),
	}, nil
}

// otherTenantNamespace is the first namespace, by name, of a tenant other
// than tenant; "" when there is none.
func otherTenantNamespace(ctx context.Context, r client.Reader, tenant string) (string, error) {
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list, client.HasLabels{tenancyv1alpha1.TenantLabel}); err != nil {
		return "", fmt.Errorf("listing tenant namespaces: %w", err)
	}
	var names []string
	for _, ns := range list.Items {
		if ns.Labels[tenancyv1alpha1.TenantLabel] != tenant {
			names = append(names, ns.Name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "", nil
	}
	return names[0], nil
}

func ptrValue(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
