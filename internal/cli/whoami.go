package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/audit"
)

func (o *options) whoamiCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Say who the API server takes you for, and which tenants you belong to with which role",
		Long: `whoami asks the API server who you are (SelfSubjectReview, as kubectl auth
whoami does), then finds the tenants whose owners, members or viewers name you,
your groups, or your service account. With --as it answers for that identity,
reading the Tenants with your own rights.`,
		Example: `  kubectl bulkhead whoami
  kubectl bulkhead whoami --as alice --as-group acme-devs -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkOutput("", "json", "yaml"); err != nil {
				return err
			}
			return o.whoami(cmd.Context())
		},
	}
	o.addOutput(cmd, "json or yaml")
	return cmd
}

// Whoami is whoami's answer.
type Whoami struct {
	audit.Identity `json:",inline"`
	Tenants        []audit.Membership `json:"tenants"`
	// Unknown says why the tenants could not be read, when they could not.
	Unknown string `json:"unknown,omitempty"`
}

func (o *options) whoami(ctx context.Context) error {
	as, err := o.client()
	if err != nil {
		return err
	}
	id, err := whoAmI(ctx, as)
	if err != nil {
		return err
	}
	out := Whoami{Identity: id, Tenants: []audit.Membership{}}
	own, _, err := o.ownClient()
	if err != nil {
		return err
	}
	if out.Tenants, err = memberships(ctx, own, id); err != nil {
		out.Unknown = err.Error()
	}
	if o.output != "" {
		return printData(o.streams.Out, o.output, out)
	}
	w := o.streams.Out
	fmt.Fprintf(w, "User:    %s\nGroups:  %s\n", id.User, orNone(strings.Join(id.Groups, ", ")))
	switch {
	case out.Unknown != "":
		fmt.Fprintf(w, "Tenants: unknown: %s\n", out.Unknown)
		return nil
	case len(out.Tenants) == 0:
		fmt.Fprintln(w, "Tenants: <none>")
		return nil
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(out.Tenants))
	for _, m := range out.Tenants {
		rows = append(rows, []string{m.Tenant, string(m.Role), m.Via})
	}
	return table(w, []string{"TENANT", "ROLE", "VIA"}, rows)
}

// memberships lists the tenants id belongs to, reading Tenants through r.
func memberships(ctx context.Context, r client.Reader, id audit.Identity) ([]audit.Membership, error) {
	list := &tenancyv1alpha1.TenantList{}
	if err := r.List(ctx, list); err != nil {
		return nil, fmt.Errorf("cannot read Tenants with your credentials (%w); a cluster admin can answer with --as", err)
	}
	out := audit.Memberships(list.Items, id)
	if out == nil {
		out = []audit.Membership{}
	}
	return out, nil
}
