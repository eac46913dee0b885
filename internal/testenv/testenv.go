// Package testenv starts what integration and end-to-end suites run against:
// a dev cluster from the pinned binaries, Bulkhead's CRD, and the manager
// wired by setup.NewManager (the same wiring as production) running
// in-process, its webhook reached by URL.
package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/discovery"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// Env is a running cluster with Bulkhead on it.
type Env struct {
	Cluster  *devcluster.Cluster
	Client   client.Client
	Settings render.Settings
	stop     context.CancelFunc
	done     chan error
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Start starts a cluster per o, installs the CRDs and runs the manager.
func Start(o devcluster.Options) (*Env, error) {
	if os.Getenv("BULKHEAD_TEST_VERBOSE") != "" {
		ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, err := devcluster.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	env, err := startOn(ctx, cluster)
	if err != nil {
		cluster.Stop()
		return nil, err
	}
	return env, nil
}

func startOn(ctx context.Context, cluster *devcluster.Cluster) (*Env, error) {
	if _, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(RepoRoot(), "config", "crd", "bases")}, ErrorIfPathMissing: true,
	}); err != nil {
		return nil, fmt.Errorf("installing CRDs: %w", err)
	}
	c, err := client.New(cluster.Config, client.Options{Scheme: setup.Scheme()})
	if err != nil {
		return nil, err
	}
	s := render.DefaultSettings()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.ManagerNamespace}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	// The manager runs as its own service account with exactly the RBAC that
	// config/rbac installs, so a missing permission fails the tests as it
	// would fail a real installation.
	if out, err := Kubectl(cluster, "apply", "--server-side", "-k", filepath.Join(RepoRoot(), "config", "rbac")); err != nil {
		return nil, fmt.Errorf("applying config/rbac: %w: %s", err, out)
	}
	// The sandbox RuntimeClass Hard tenants default to; the RuntimeClass
	// admission plugin refuses pods naming a class that does not exist.
	rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: s.SandboxRuntimeClass}, Handler: "runsc"}
	if err := c.Create(ctx, rc); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	env := &Env{Cluster: cluster, Client: c, Settings: s}
	if err := env.StartManager(); err != nil {
		env.Cluster.Stop()
		return nil, err
	}
	if err := env.waitForPolicies(ctx); err != nil {
		env.Stop()
		return nil, err
	}
	return env, nil
}

// waitForPolicies waits until the API server enforces the admission
// policies the manager installed: it loads them asynchronously, and a
// namespace created before then would get, say, a default ServiceAccount
// without the tenant's defaults. The probe is a namespace labelled for a
// tenant that has no TenantPolicy: once the policies hold, every pod and
// Service and ServiceAccount there is refused for want of parameters.
func (e *Env) waitForPolicies(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bulkhead-policy-probe", Labels: map[string]string{tenancyv1alpha1.TenantLabel: "bulkhead-policy-probe"}}}
	if err := e.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	defer func() { _ = e.Client.Delete(context.Background(), ns) }()
	probes := map[string]client.Object{
		render.ServicesPolicy: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "probe"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
		render.ServiceAccountsPolicy: &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "probe"}},
	}
	deadline := time.Now().Add(time.Minute)
	for policy, obj := range probes {
		for {
			err := e.Client.Create(ctx, obj.DeepCopyObject().(client.Object), client.DryRunAll)
			if err != nil && strings.Contains(err.Error(), policy) {
				break
			}
			// With MutatingAdmissionPolicy not served, the webhook fallback
			// defaults ServiceAccounts instead: nothing to wait for.
			if policy == render.ServiceAccountsPolicy {
				if served, _ := discovery.MutatingPoliciesServed(e.Client.RESTMapper()); !served {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("admission policy %s not enforced after a minute (last: %v)", policy, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// StartManager runs the manager in-process, as its service account, and
// waits until its webhook answers.
func (e *Env) StartManager() error {
	managerConfig := devcluster.ImpersonateConfig(e.Cluster.Config, e.Settings.ManagerUser(),
		"system:serviceaccounts", "system:serviceaccounts:"+e.Settings.ManagerNamespace)
	port, err := devcluster.FreePort()
	if err != nil {
		return err
	}
	mgr, err := setup.NewManager(managerConfig, setup.Options{
		Settings:        e.Settings,
		WebhookHost:     "127.0.0.1",
		WebhookPort:     port,
		WebhookEndpoint: bwebhook.Endpoint{URL: "https://localhost:" + strconv.Itoa(port)},
		CertHosts:       []string{"localhost", "127.0.0.1"},
		// Every test runs with the webhook verifying its callers, as in
		// production: only the API server's certificate is accepted, not
		// every certificate of the cluster's CA.
		WebhookClientAuth: bwebhook.ClientAuth{CA: e.Cluster.WebhookClientCA, Names: []string{devcluster.WebhookClientName}},
		// Tests wait for freed tenant quota; recount it often.
		QuotaRecount: 2 * time.Second,
		Restartable:  true,
	})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.Background())
	e.stop, e.done = stop, make(chan error, 1)
	go func() { e.done <- mgr.Start(runCtx) }()
	apiServer, err := tls.X509KeyPair(e.Cluster.WebhookClientCert, e.Cluster.WebhookClientKey)
	if err != nil {
		return err
	}
	// Wait until the webhook answers, so that the first test does not race it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		// A full TLS handshake, as the API server: a bare TCP probe, or one
		// without the certificate, makes the server log a failed one.
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(port),
			&tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{apiServer}}) //nolint:gosec // a liveness probe of our own server; nothing is sent
		if err == nil {
			_ = conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			e.StopManager()
			return fmt.Errorf("webhook server did not start: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StopManager stops the in-process manager, leaving the cluster running.
func (e *Env) StopManager() {
	if e.stop == nil {
		return
	}
	e.stop()
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
	}
	e.stop = nil
}

// Kubectl runs the pinned kubectl against the cluster as admin.
func Kubectl(cluster *devcluster.Cluster, args ...string) ([]byte, error) {
	bin := filepath.Join(os.Getenv("BULKHEAD_K8S_BIN"), "kubectl")
	cmd := exec.Command(bin, append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	return cmd.CombinedOutput()
}

// Stop stops the manager, then the cluster.
func (e *Env) Stop() {
	e.StopManager()
	e.Cluster.Stop()
}

// As returns a client acting as user in groups, through impersonation.
func (e *Env) As(user string, groups ...string) client.Client {
	c, err := client.New(e.Cluster.Impersonate(user, groups...), client.Options{Scheme: setup.Scheme()})
	if err != nil {
		panic(err)
	}
	return c
}

// Config is the admin rest config.
func (e *Env) Config() *rest.Config { return e.Cluster.Config }
