package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// GatewayAPICRDs are the files of the Gateway API's standard channel CRDs,
// from the module go.mod pins (its version is the release's), so that the
// dev cluster serves the API a cluster with the Gateway API would.
func GatewayAPICRDs() ([]string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Dir = RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("finding the Gateway API module (go mod download fetches it): %w", err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard", "gateway.networking.k8s.io_*.yaml"))
	if err != nil {
		return nil, err
	}
	var crds []string
	for _, f := range files {
		// The channel also ships an admission policy beside its CRDs.
		if !strings.Contains(filepath.Base(f), "_vap_") {
			crds = append(crds, f)
		}
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("no Gateway API CRDs under %s", strings.TrimSpace(string(out)))
	}
	return crds, nil
}

// Prepare makes a fresh dev cluster ready for Bulkhead, as an installation
// would: the CRDs, the manager's namespace, its service account and RBAC
// from config/rbac, and the sandbox RuntimeClass Hard tenants default to. It
// returns an admin client. Tests, the demo and the benchmarks all start
// here, so that they run Bulkhead on the same cluster.
func Prepare(ctx context.Context, cluster *devcluster.Cluster, s render.Settings) (client.Client, error) {
	gatewayCRDs, err := GatewayAPICRDs()
	if err != nil {
		return nil, err
	}
	if _, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{
		Paths: append([]string{filepath.Join(RepoRoot(), "config", "crd", "bases")}, gatewayCRDs...), ErrorIfPathMissing: true,
	}); err != nil {
		return nil, fmt.Errorf("installing CRDs: %w", err)
	}
	c, err := client.New(cluster.Config, client.Options{Scheme: setup.Scheme()})
	if err != nil {
		return nil, err
	}
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
	// The RuntimeClass admission plugin refuses pods naming a class that
	// does not exist; kwok runs pods of any class.
	rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: s.SandboxRuntimeClass}, Handler: "runsc"}
	if err := c.Create(ctx, rc); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	return c, nil
}

// ManagerConfig is how Bulkhead's manager runs on a dev cluster, whether in
// this process (Env.StartManager) or as bin/bulkhead-manager
// (StartManagerProcess): both derive their settings from it, so the tests,
// the demo and the benchmarks cannot drift apart.
type ManagerConfig struct {
	// Settings are Bulkhead's settings; render.DefaultSettings when zero.
	Settings render.Settings
	// WebhookPort is where the webhook listens on 127.0.0.1; 0 picks a free port.
	WebhookPort int
	// CertDir holds the webhook's serving certificate; a temporary
	// directory when empty.
	CertDir string
	// QuotaRecount is how often tenant-wide quota is recounted; the
	// manager's default when zero.
	QuotaRecount time.Duration
	// UsageSampleInterval and RightsizingMinSamples set the usage
	// sampler's pace; the manager's defaults when zero.
	UsageSampleInterval   time.Duration
	RightsizingMinSamples int
	// LeaderElection runs the manager as one of several replicas, as
	// config/default does: only the elected one reconciles, every one
	// serves the webhook. Only StartManagerProcess honours it: replicas are
	// processes, so that one can be killed.
	LeaderElection bool
}

// complete fills in the defaults.
func (m *ManagerConfig) complete() error {
	if m.Settings.ManagerNamespace == "" {
		m.Settings = render.DefaultSettings()
	}
	if m.WebhookPort == 0 {
		port, err := devcluster.FreePort()
		if err != nil {
			return err
		}
		m.WebhookPort = port
	}
	return nil
}

func (m *ManagerConfig) webhookURL() string {
	return "https://localhost:" + strconv.Itoa(m.WebhookPort)
}

// identity is the manager's service account, as the API server sees it.
func (m *ManagerConfig) identity() (user string, groups []string) {
	return m.Settings.ManagerUser(), []string{"system:serviceaccounts", "system:serviceaccounts:" + m.Settings.ManagerNamespace}
}

// options are the setup.Options for the manager in this process.
func (m *ManagerConfig) options(cluster *devcluster.Cluster) setup.Options {
	return setup.Options{
		Settings:        m.Settings,
		WebhookHost:     "127.0.0.1",
		WebhookPort:     m.WebhookPort,
		WebhookEndpoint: bwebhook.Endpoint{URL: m.webhookURL()},
		CertHosts:       []string{"localhost", "127.0.0.1"},
		CertDir:         m.CertDir,
		// The webhook verifies its callers, as in production: only the API
		// server's certificate is accepted, not every certificate of the
		// cluster's CA.
		WebhookClientAuth:     bwebhook.ClientAuth{CA: cluster.WebhookClientCA, Names: []string{devcluster.WebhookClientName}},
		QuotaRecount:          m.QuotaRecount,
		UsageSampleInterval:   m.UsageSampleInterval,
		RightsizingMinSamples: m.RightsizingMinSamples,
		// Probes and metrics stay off: readiness is the webhook answering.
		MetricsAddr: "0",
		ProbeAddr:   "0",
	}
}

// args are the bulkhead-manager flags for the same configuration as options.
func (m *ManagerConfig) args(kubeconfig string, cluster *devcluster.Cluster) []string {
	args := []string{
		"--kubeconfig", kubeconfig,
		"--webhook-url", m.webhookURL(),
		"--webhook-host", "127.0.0.1", "--webhook-port", strconv.Itoa(m.WebhookPort),
		"--webhook-client-ca-file", cluster.WebhookClientCAFile,
		"--webhook-client-names", devcluster.WebhookClientName,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		"--namespace", m.Settings.ManagerNamespace,
	}
	if m.CertDir != "" {
		args = append(args, "--cert-dir", m.CertDir)
	}
	if m.QuotaRecount != 0 {
		args = append(args, "--quota-recount-interval", m.QuotaRecount.String())
	}
	if m.UsageSampleInterval != 0 {
		args = append(args, "--usage-sample-interval", m.UsageSampleInterval.String())
	}
	if m.RightsizingMinSamples != 0 {
		args = append(args, "--rightsizing-min-samples", strconv.Itoa(m.RightsizingMinSamples))
	}
	if m.LeaderElection {
		args = append(args, "--leader-elect")
	}
	return args
}

// waitForWebhook waits until the manager's webhook completes a TLS
// handshake with the API server's client certificate, or failed reports
// that the manager stopped.
func waitForWebhook(cluster *devcluster.Cluster, port int, timeout time.Duration, failed func() error) error {
	apiServer, err := tls.X509KeyPair(cluster.WebhookClientCert, cluster.WebhookClientKey)
	if err != nil {
		return err
	}
	// A full handshake, as the API server makes: a bare TCP probe, or one
	// without the certificate, makes the server log a failed one.
	return WaitForTLS(port, timeout, []tls.Certificate{apiServer}, failed)
}

// WaitForTLS waits until a server on 127.0.0.1:port completes a TLS
// handshake, presenting certs as the client's, or failed reports that the
// server's process stopped.
func WaitForTLS(port int, timeout time.Duration, certs []tls.Certificate, failed func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(port),
			&tls.Config{InsecureSkipVerify: true, Certificates: certs}) //nolint:gosec // a liveness probe of a server the caller started; nothing is sent
		if err == nil {
			_ = conn.Close()
			return nil
		}
		if ferr := failed(); ferr != nil {
			return ferr
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no TLS handshake on port %d after %s: %w", port, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ProcessOptions say how StartManagerProcess runs bin/bulkhead-manager.
type ProcessOptions struct {
	// Binary is the manager's executable; bin/bulkhead-manager of the
	// repository when empty (make build writes it).
	Binary string
	// Log is the file the manager's output goes to; the cluster's
	// logs/bulkhead-manager.log when empty.
	Log string
	// ExtraArgs are appended to the manager's flags.
	ExtraArgs []string
}

// BuildManager builds bulkhead-manager from the repository's sources into
// dir and returns its path, for suites that must run the code under test
// as a process whatever bin/ holds.
func BuildManager(dir string) (string, error) {
	out := filepath.Join(dir, "bulkhead-manager")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/bulkhead-manager")
	cmd.Dir = RepoRoot()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building bulkhead-manager: %w: %s", err, msg)
	}
	return out, nil
}

// ManagerProcess is bin/bulkhead-manager running on a dev cluster, detached
// into a process group of its own so that it can outlive the command that
// started it (make demo) and be stopped with everything it started.
type ManagerProcess struct {
	// Cmd is the running command; Cmd.Process.Pid identifies it.
	Cmd *exec.Cmd
	// Log is the path of its output.
	Log    string
	exited chan struct{}
}

// StartManagerProcess runs bin/bulkhead-manager per m on cluster, which
// Prepare has readied, as the manager's service account, and waits until
// its webhook answers.
func StartManagerProcess(cluster *devcluster.Cluster, m ManagerConfig, o ProcessOptions) (*ManagerProcess, error) {
	if err := m.complete(); err != nil {
		return nil, err
	}
	if o.Binary == "" {
		o.Binary = filepath.Join(RepoRoot(), "bin", "bulkhead-manager")
	}
	if o.Log == "" {
		o.Log = filepath.Join(cluster.Dir, "logs", "bulkhead-manager.log")
	}
	if m.CertDir == "" {
		m.CertDir = filepath.Join(cluster.Dir, "webhook-certs")
	}
	user, groups := m.identity()
	kubeconfig := filepath.Join(cluster.Dir, "bulkhead-manager.kubeconfig")
	if err := cluster.WriteImpersonatingKubeconfig(kubeconfig, user, groups...); err != nil {
		return nil, err
	}
	logFile, err := os.Create(o.Log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(o.Binary, append(m.args(kubeconfig, cluster), o.ExtraArgs...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (make build writes it): %w", o.Binary, err)
	}
	p := &ManagerProcess{Cmd: cmd, Log: o.Log, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	if err := waitForWebhook(cluster, m.WebhookPort, time.Minute, p.Failed); err != nil {
		p.Stop()
		return nil, fmt.Errorf("%w; see %s", err, p.Log)
	}
	return p, nil
}

// Failed reports whether the manager has exited.
func (p *ManagerProcess) Failed() error {
	select {
	case <-p.exited:
		return fmt.Errorf("bulkhead-manager exited; see %s", p.Log)
	default:
		return nil
	}
}

// Exited is closed when the manager has exited.
func (p *ManagerProcess) Exited() <-chan struct{} { return p.exited }

// Kill kills the manager's process group with SIGKILL, as the kernel's OOM
// killer or a lost node would: no deferred cleanup runs and the leader
// election lease is not released. It returns once the manager is reaped.
func (p *ManagerProcess) Kill() {
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// Stop stops the manager: SIGTERM to its process group, SIGKILL after ten
// seconds.
func (p *ManagerProcess) Stop() {
	devcluster.StopGroup(p.Cmd.Process.Pid, 10*time.Second, p.exited)
}
