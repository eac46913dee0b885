// Package cli is kubectl-bulkhead, the kubectl plugin for tenants and
// admins: `kubectl bulkhead tenants`, `describe TENANT`, `whoami` and
// `audit`. It follows kubectl's conventions: the connection flags of
// genericclioptions (--kubeconfig, --context, --as, --as-group, -n, ...),
// -o json|yaml|wide, and exit status 1 on any error or failed check.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/audit"
)

// ErrChecksFailed is returned by audit when a check failed or could not be
// run; the report has been printed already.
var ErrChecksFailed = errors.New("some checks failed or were inconclusive")

// NewCommand is `kubectl bulkhead`.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{flags: genericclioptions.NewConfigFlags(true), streams: streams}
	root := &cobra.Command{
		Use:   "kubectl-bulkhead",
		Short: "See tenants as Bulkhead keeps them, and audit a tenant's isolation",
		Long: `kubectl bulkhead shows the tenants of a cluster run by Bulkhead, and checks
that a tenant identity is as isolated as its Tenant promises.

Install it by copying bin/kubectl-bulkhead onto your PATH; kubectl then runs it
as "kubectl bulkhead". It takes kubectl's connection flags (--kubeconfig,
--context, --as, --as-group, -n).`,
		Example: `  kubectl bulkhead tenants -o wide
  kubectl bulkhead describe acme
  kubectl bulkhead whoami --as alice
  kubectl bulkhead audit --as alice --as-group acme-devs
  kubectl bulkhead audit --as carol -o json
  kubectl bulkhead posture`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	o.flags.AddFlags(root.PersistentFlags())
	root.AddCommand(o.tenantsCommand(), o.describeCommand(), o.whoamiCommand(), o.auditCommand(), o.postureCommand(), o.usageCommand())
	return root
}

// options are what every subcommand shares.
type options struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
	output  string
}

func (o *options) addOutput(cmd *cobra.Command, formats string) {
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "Output format: "+formats+".")
}

func (o *options) checkOutput(allowed ...string) error {
	for _, a := range allowed {
		if o.output == a {
			return nil
		}
	}
	return fmt.Errorf("--output %q is not one of %s", o.output, strings.Join(allowed[1:], ", "))
}

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = tenancyv1alpha1.AddToScheme(s)
	return s
}

// config is the REST config the flags describe, impersonation included.
func (o *options) config() (*rest.Config, error) {
	cfg, err := o.flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg, nil
}

// client acts as the flags say: as --as when given.
func (o *options) client() (client.Client, error) {
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme()})
}

// ownClient acts as the caller, without --as: to read what the
// impersonated identity may not (its Tenant, other tenants' namespaces).
func (o *options) ownClient() (client.Client, *rest.Config, error) {
	cfg, err := o.config()
	if err != nil {
		return nil, nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Impersonate = rest.ImpersonationConfig{}
	c, err := client.New(cfg, client.Options{Scheme: scheme()})
	return c, cfg, err
}

// whoAmI asks the API server who c is (SelfSubjectReview).
func whoAmI(ctx context.Context, c client.Client) (audit.Identity, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return audit.Identity{}, fmt.Errorf("asking the API server who you are: %w", err)
	}
	u := review.Status.UserInfo
	return audit.Identity{User: u.Username, Groups: u.Groups}, nil
}

// printData writes v as JSON or YAML.
func printData(w io.Writer, format string, v any) error {
	var data []byte
	var err error
	if format == "json" {
		data, err = json.MarshalIndent(v, "", "    ")
		data = append(data, '\n')
	} else {
		data, err = yaml.Marshal(v)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// table writes rows under a header, tab-aligned as kubectl's tables are.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
