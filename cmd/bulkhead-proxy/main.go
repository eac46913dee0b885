// Command bulkhead-proxy is a tenant-scoped front of the API server, and
// the authorization webhook that lets the API server serve tenants their
// own namespaces, nodes and Tenants. See --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/bulkhead-dev/bulkhead/internal/proxy"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bulkhead-proxy:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bulkhead-proxy", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `bulkhead-proxy is what tenants' kubeconfigs point at instead of the API server.
A tenant's "kubectl get namespaces" then lists its own namespaces, "get nodes"
the nodes of its pool, "get tenants" its own Tenant, and "get pods -A" its pods
in all of its namespaces; everything else passes through unchanged, exec,
attach, port-forward and logs -f included.

It authenticates callers by client certificate (--client-ca-file) or bearer
token (TokenReview), then forwards every request as the caller, impersonating
it with its own credentials (config/proxy gives it that right and nothing
else), so RBAC decides and the audit log names the real user. It never
widens access: a namespace list gets a selector of the caller's tenants
added, which the API server allows only because the proxy's authorization
webhook (--authorization-listen) says so for exactly that selector; a tenant
going straight to the API server with the same selector sees the same, and
without it, nothing. Point the API server's --authorization-config at the
webhook, after Node and RBAC, with failurePolicy NoOpinion (see the README).

Flags:
`)
		fs.PrintDefaults()
	}
	var o proxy.Options
	var kubeconfig, callers string
	var development bool
	fs.StringVar(&kubeconfig, "kubeconfig", "", "Path to a kubeconfig of the proxy's own identity; in-cluster config when empty.")
	fs.StringVar(&o.Addr, "listen", ":8443", "Address tenants reach the proxy on (HTTPS).")
	fs.StringVar(&o.AuthorizationAddr, "authorization-listen", ":8444", "Address the API server reaches the authorization webhook on (HTTPS, path /authorize); empty serves none, and then tenants' namespace and node lists are refused by RBAC.")
	fs.StringVar(&o.CertFile, "tls-cert-file", "", "Serving certificate of both listeners (PEM); re-read at every handshake, so a renewed file is taken up without a restart.")
	fs.StringVar(&o.KeyFile, "tls-private-key-file", "", "Key of --tls-cert-file.")
	fs.StringVar(&o.ClientCAFile, "client-ca-file", "", "CA that signs tenants' client certificates and the API server's webhook client certificate (usually the cluster's client CA).")
	fs.StringVar(&callers, "authorization-callers", "", "Comma-separated common names the API server's webhook client certificate may carry; the webhook answers no one else.")
	fs.DurationVar(&o.TokenTTL, "token-cache-ttl", 10*time.Second, "How long a TokenReview's answer (good or bad) is reused; a revoked token keeps working through the proxy this long.")
	o.Settings = render.DefaultSettings()
	fs.StringVar(&o.Settings.SandboxRuntimeClass, "sandbox-runtime-class", o.Settings.SandboxRuntimeClass, "RuntimeClass Hard tenants must use, as given to bulkhead-manager: the one runtime class a Hard tenant sees unless its Tenant names others.")
	fs.BoolVar(&development, "development", false, "Human-readable logs.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(development)))
	o.Log = ctrl.Log.WithName("proxy")
	for _, c := range strings.Split(callers, ",") {
		if c = strings.TrimSpace(c); c != "" {
			o.AuthorizationCallers = append(o.AuthorizationCallers, c)
		}
	}
	switch {
	case o.CertFile == "" || o.KeyFile == "":
		return errors.New("--tls-cert-file and --tls-private-key-file are required")
	case o.ClientCAFile == "":
		return errors.New("--client-ca-file is required: without it no client certificate can be verified")
	case o.AuthorizationAddr != "" && len(o.AuthorizationCallers) == 0:
		return errors.New("--authorization-callers is required with --authorization-listen: the webhook must know the API server's client certificate")
	}
	var err error
	if kubeconfig != "" {
		if err := os.Setenv("KUBECONFIG", kubeconfig); err != nil {
			return err
		}
	}
	if o.Config, err = ctrl.GetConfig(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := proxy.Start(ctx, o)
	if err != nil {
		return err
	}
	o.Log.Info("Serving", "tenants", srv.Addr, "authorization", srv.AuthorizationAddr)
	select {
	case <-ctx.Done():
		srv.Stop()
		return nil
	case err := <-srv.Err():
		srv.Stop()
		return err
	}
}
