// Package testenv is the one way to run Bulkhead on a dev cluster. Prepare
// readies a cluster as an installation would (CRDs, the manager's namespace
// and RBAC, the sandbox RuntimeClass); the manager then runs as its service
// account, either in this process through setup.NewManager, the same wiring
// as production (Start, for the test suites and bench/admission), or as
// bin/bulkhead-manager (StartManagerProcess, for make demo,
// bench/convergence and the leader-elected replicas test/crash kills), both
// configured from one ManagerConfig. Its webhook is
// reached by URL and verifies that its caller is the API server.
//
// It also holds the helpers the integration and end-to-end suites share:
// waiting on the state of the world, and checking why a request was refused.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/discovery"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
)

// Env is a running cluster with Bulkhead on it.
type Env struct {
	Cluster  *devcluster.Cluster
	Client   client.Client
	Settings render.Settings
	// ControllerManager says whether kube-controller-manager runs: without
	// it namespaces get no default ServiceAccount and Kubernetes' aggregated
	// roles (edit, view: those of members and viewers) stay empty.
	ControllerManager bool
	stop              context.CancelFunc
	done              chan error
	// webhookPort is kept across restarts of the manager, as a Service's
	// address is: the API server's webhook configurations name it.
	webhookPort int
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Start starts a cluster per o, prepares it and runs the manager in this
// process. With no controller-manager, scheduler or nodes in o it is the
// integration tier's cluster: an API server and etcd.
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
	env.ControllerManager = o.ControllerManager
	return env, nil
}

func startOn(ctx context.Context, cluster *devcluster.Cluster) (*Env, error) {
	s := render.DefaultSettings()
	c, err := Prepare(ctx, cluster, s)
	if err != nil {
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
			// Several validating policies match a Service; whichever the
			// API server asks first refuses it.
			if err != nil && policy == render.ServicesPolicy && strings.Contains(err.Error(), "ValidatingAdmissionPolicy 'bulkhead-") {
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
				return fmt.Errorf("admission policy %s not enforced after a minute (last: %w)", policy, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// StartManager runs the manager in this process, as its service account,
// and waits until its webhook answers.
func (e *Env) StartManager() error {
	m := ManagerConfig{
		Settings: e.Settings,
		// Tests wait for freed tenant quota; recount it often.
		QuotaRecount: 2 * time.Second,
		WebhookPort:  e.webhookPort,
		// Tests wait for resizes: sample as often as metrics-server
		// refreshes, and resize on the third sample.
		UsageSampleInterval:   5 * time.Second,
		RightsizingMinSamples: 3,
	}
	if err := m.complete(); err != nil {
		return err
	}
	e.webhookPort = m.WebhookPort
	user, groups := m.identity()
	o := m.options(e.Cluster)
	o.Restartable = true
	mgr, err := setup.NewManager(devcluster.ImpersonateConfig(e.Cluster.Config, user, groups...), o)
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.Background())
	e.stop, e.done = stop, make(chan error, 1)
	go func() { e.done <- mgr.Start(runCtx) }()
	// Wait until the webhook answers, so that the first test does not race it.
	err = waitForWebhook(e.Cluster, m.WebhookPort, 30*time.Second, func() error {
		select {
		case err := <-e.done:
			e.done <- err
			return fmt.Errorf("manager stopped before its webhook answered: %v", err) //nolint:errorlint // err may be nil
		default:
			return nil
		}
	})
	if err != nil {
		e.StopManager()
	}
	return err
}

// StopManager stops the in-process manager, leaving the cluster running.
func (e *Env) StopManager() {
	if e.stop == nil {
		return
	}
	e.stop()
	select {
	case err := <-e.done:
		// Asked to stop, the manager ends without error; whatever else it
		// hit has already failed the tests that needed it.
		_ = err
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

// RestartManagerWith stops the in-process manager and starts it again with
// settings s, as a rollout of a release with other settings would (the
// render version, say); the webhook keeps its address. Later restarts keep
// s: a test that changes the settings restores them when it ends.
func (e *Env) RestartManagerWith(s render.Settings) error {
	e.StopManager()
	e.Settings = s
	return e.StartManager()
}
