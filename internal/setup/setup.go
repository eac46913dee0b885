// Package setup wires Bulkhead's controllers and webhooks into a manager. It
// is the one wiring function: bulkhead-manager and every test suite call it
// (through internal/testenv), so tests run exactly what production runs.
package setup

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	webhookadmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/claims"
	"github.com/bulkhead-dev/bulkhead/internal/controller/admission"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/controller/copies"
	"github.com/bulkhead-dev/bulkhead/internal/controller/fairness"
	"github.com/bulkhead-dev/bulkhead/internal/controller/hostclaims"
	"github.com/bulkhead-dev/bulkhead/internal/controller/keeper"
	"github.com/bulkhead-dev/bulkhead/internal/controller/namespaces"
	"github.com/bulkhead-dev/bulkhead/internal/controller/network"
	posturectl "github.com/bulkhead-dev/bulkhead/internal/controller/posture"
	"github.com/bulkhead-dev/bulkhead/internal/controller/quota"
	"github.com/bulkhead-dev/bulkhead/internal/controller/rbac"
	"github.com/bulkhead-dev/bulkhead/internal/controller/status"
	tenantquotactl "github.com/bulkhead-dev/bulkhead/internal/controller/tenantquota"
	usagectl "github.com/bulkhead-dev/bulkhead/internal/controller/usage"
	"github.com/bulkhead-dev/bulkhead/internal/discovery"
	"github.com/bulkhead-dev/bulkhead/internal/observe"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/defaults"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/grants"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/ingress"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/namespace"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenantquota"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenants"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/volumes"
)

// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch

// Options configure a Bulkhead manager.
type Options struct {
	Settings render.Settings
	// WebhookPort and WebhookHost are where the webhook server listens.
	WebhookHost string
	WebhookPort int
	// WebhookEndpoint is how the API server reaches the webhooks.
	WebhookEndpoint bwebhook.Endpoint
	// CertHosts are the names the serving certificate covers.
	CertHosts []string
	// CertDir holds the serving certificate files; a temporary directory when empty.
	CertDir string
	// WebhookClientAuth says which callers the webhook server accepts: only
	// those presenting a client certificate its CA signed (the API server's,
	// given to it by its admission kubeconfig), and named in its Names when
	// set. Required unless InsecureWebhookAnyClient: requiring it by default
	// means a forgotten setting stops the manager at start, where an operator
	// sees it, instead of leaving a port that believes anyone.
	WebhookClientAuth bwebhook.ClientAuth
	// InsecureWebhookAnyClient serves the webhook to whoever reaches its
	// port, for clusters whose API server admission configuration cannot be
	// set (some managed offerings). Only the network then stands between a
	// tenant pod and a forged AdmissionReview: the NetworkPolicy in
	// config/manager must admit the control plane alone. It is logged at
	// start and exported as bulkhead_webhook_client_verification 0.
	InsecureWebhookAnyClient bool
	// MetricsAddr and ProbeAddr; "0" turns them off.
	MetricsAddr string
	ProbeAddr   string
	// PprofAddr serves Go's profiles (/debug/pprof/); "" or "0" turns it off.
	PprofAddr string
	// LeaderElection makes only one replica reconcile at a time.
	LeaderElection bool
	// ConcurrentReconciles is how many Tenants each controller reconciles at
	// once; 0 means 4.
	ConcurrentReconciles int
	// Restartable lets a process build a second manager after stopping the
	// first (tests that stop Bulkhead and start it again): controller names
	// are otherwise unique per process, for their metrics.
	Restartable bool
	// QuotaRecount is how often tenant-wide quota usage is recounted from
	// the tenant's pods and claims; 0 means 15 seconds.
	QuotaRecount time.Duration
	// SyncPeriod is how often every cached object is handed to the
	// controllers again, changed or not; 0 is controller-runtime's default
	// (about ten hours).
	SyncPeriod time.Duration
	// UsageSampleInterval is how often tenants' pods' usage is read from
	// metrics.k8s.io (0 means a minute); UsageWindow how far back the
	// figures reach (0 means a day); RightsizingMinSamples in how many passes
	// a workload container must have been sampled before it gets a
	// recommendation or a resize (0 means 30).
	UsageSampleInterval   time.Duration
	UsageWindow           time.Duration
	RightsizingMinSamples int
}

// Scheme is the scheme Bulkhead's clients use.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = tenancyv1alpha1.AddToScheme(s)
	_ = gatewayv1.Install(s)
	return s
}

// NewManager builds a manager running every Bulkhead controller and its
// admission webhooks. It must be started with Start.
func NewManager(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if o.CertDir == "" {
		dir, err := os.MkdirTemp("", "bulkhead-webhook-")
		if err != nil {
			return nil, err
		}
		o.CertDir = dir
	}
	webhookOptions, guard, err := webhookServerOptions(o)
	if err != nil {
		return nil, err
	}
	managed := labels.SelectorFromSet(labels.Set{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue})
	byObject := keeper.CacheByObject(o.Settings)
	// Cache only the objects Bulkhead renders, not every RoleBinding or
	// NetworkPolicy in the cluster: memory stays proportional to tenants.
	for _, obj := range []client.Object{&rbacv1.RoleBinding{}, &rbacv1.ClusterRoleBinding{}, &corev1.ResourceQuota{}, &corev1.LimitRange{}, &networkingv1.NetworkPolicy{}, &tenancyv1alpha1.TenantPolicy{}} {
		byObject[obj] = cache.ByObject{Label: managed}
	}
	// Nothing Bulkhead does reads managedFields, and on a Tenant, which
	// a field manager per controller writes, they are much of the object.
	cacheOptions := cache.Options{ByObject: byObject, DefaultTransform: cache.TransformStripManagedFields()}
	if o.SyncPeriod > 0 {
		cacheOptions.SyncPeriod = &o.SyncPeriod
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: Scheme(),
		Cache:  cacheOptions,
		// The cache holds only the webhook's Secret (see keeper.CacheByObject):
		// read any other live rather than find it missing from the cache.
		Client:                  client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		Metrics:                 metricsserver.Options{BindAddress: defaultAddr(o.MetricsAddr)},
		HealthProbeBindAddress:  defaultAddr(o.ProbeAddr),
		PprofBindAddress:        defaultAddr(o.PprofAddr),
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "bulkhead-manager.tenancy.bulkhead.dev",
		Controller:              config.Controller{MaxConcurrentReconciles: concurrency(o.ConcurrentReconciles), SkipNameValidation: ptr.To(o.Restartable)},
		LeaderElectionNamespace: o.Settings.ManagerNamespace,
		WebhookServer:           webhook.NewServer(webhookOptions),
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	s := o.Settings
	if err := concern.IndexNamespaces(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	sources := []ingress.Source{ingress.Ingresses()}
	gatewayAPI, err := discovery.GatewayAPIServed(mgr.GetRESTMapper())
	if err != nil {
		return nil, fmt.Errorf("asking the API server whether it serves the Gateway API: %w", err)
	}
	if gatewayAPI {
		sources = append(sources, ingress.GatewaySources()...)
	}
	if err := ingress.IndexSources(context.Background(), mgr.GetFieldIndexer(), sources); err != nil {
		return nil, err
	}
	for _, add := range []func() error{
		func() error { return namespaces.Setup(mgr, s) },
		func() error { return namespaces.SetupRetained(mgr, s) },
		func() error { return rbac.Setup(mgr, s) },
		func() error { return quota.Setup(mgr, s) },
		func() error { return network.Setup(mgr, s) },
		func() error { return admission.Setup(mgr, s) },
		func() error { return fairness.Setup(mgr, s) },
		func() error { return status.Setup(mgr, s) },
		func() error { return tenantquotactl.Setup(mgr, o.QuotaRecount) },
		func() error { return hostclaims.Setup(mgr, sources) },
		func() error { return copies.Setup(mgr) },
	} {
		if err := add(); err != nil {
			return nil, err
		}
	}

	observe.CollectTenants(mgr.GetClient())
	// The posture checks read live: they must not start informers over
	// every node or namespace of the cluster.
	live, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(&posturectl.Keeper{Config: mgr.GetConfig(), Client: live, Settings: s, Interval: 10 * time.Minute}); err != nil {
		return nil, err
	}
	if err := addUsageSampler(mgr, live, o); err != nil {
		return nil, err
	}
	if err := mgr.Add(&observe.ConditionEvents{Cache: mgr.GetCache(), Recorder: mgr.GetEventRecorder("bulkhead-status")}); err != nil {
		return nil, err
	}
	webhookEvents := mgr.GetEventRecorder("bulkhead-webhook")
	observed := func(name string, h webhookadmission.Handler) *webhook.Admission {
		return &webhook.Admission{Handler: &observe.Decisions{Webhook: name, Handler: h, Reader: mgr.GetClient(), Recorder: webhookEvents}}
	}
	handler := &namespace.Handler{Reader: mgr.GetClient(), Ledgers: &claims.NamespaceLedgers{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}, Settings: s}
	mgr.GetWebhookServer().Register(namespace.MutatePath, observed("namespaces-mutate", handler))
	mgr.GetWebhookServer().Register(namespace.ValidatePath, observed("namespaces", handler))
	mgr.GetWebhookServer().Register(volumes.Path, observed("volumes", &volumes.Handler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}))
	mgr.GetWebhookServer().Register(ingress.Path, observed("hostnames", &ingress.Handler{Client: mgr.GetClient(), Claims: &claims.Hostnames{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}, Sources: sources}))
	mgr.GetWebhookServer().Register(grants.Path, observed("referencegrants", &grants.Handler{Client: mgr.GetClient()}))
	mgr.GetWebhookServer().Register(tenants.Path, observed("tenants", &tenants.Handler{Cache: mgr.GetClient(), Live: mgr.GetAPIReader(), Settings: s}))
	mgr.GetWebhookServer().Register(defaults.Path, observed("defaults", &defaults.Handler{Reader: mgr.GetClient()}))
	mgr.GetWebhookServer().Register(tenantquota.Path, observed("quota", &tenantquota.Handler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
	}))

	// The webhook server needs certificate files before it starts, and
	// before any replica is elected to issue them: give it the Secret's, or
	// a placeholder until the leader's keeper issues the Secret. Only reads.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	files, err := keeper.WriteInitialFiles(ctx, mgr.GetAPIReader(), keeper.SecretKey(s), o.CertDir, o.CertHosts)
	if err != nil {
		return nil, err
	}
	if err := keeper.Setup(mgr, keeper.Options{Settings: s, Endpoint: o.WebhookEndpoint, Hosts: o.CertHosts}, files); err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	ready := mgr.GetWebhookServer().StartedChecker()
	if guard != nil {
		ready = guard.ReadyChecker(net.JoinHostPort(webhookOptions.Host, strconv.Itoa(webhookOptions.Port)))
	}
	if err := mgr.AddReadyzCheck("webhook", ready); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("webhook-certificate", files.Checker); err != nil {
		return nil, err
	}
	return mgr, nil
}

// webhookServerOptions configures the webhook server, verifying its callers
// unless the options opt out explicitly. guard is nil when they do.
func webhookServerOptions(o Options) (webhook.Options, *bwebhook.ClientGuard, error) {
	opts := webhook.Options{Host: o.WebhookHost, Port: o.WebhookPort, CertDir: o.CertDir}
	if opts.Port == 0 {
		opts.Port = webhook.DefaultPort
	}
	verify := len(o.WebhookClientAuth.CA) > 0
	switch {
	case verify && o.InsecureWebhookAnyClient:
		return opts, nil, errors.New("webhook: a client CA is given and InsecureWebhookAnyClient is set; choose one")
	case !verify && !o.InsecureWebhookAnyClient:
		return opts, nil, errors.New("webhook: no client CA to verify the API server with; give the CA that signs the API server's webhook client certificate, or opt out explicitly")
	case !verify:
		bwebhook.RecordClientVerification(false)
		ctrl.Log.WithName("setup").Error(errors.New("webhook client verification is off"),
			"Webhook serves any caller that reaches its port; only a NetworkPolicy admitting the control plane alone keeps forged admission reviews out",
			"port", opts.Port)
		return opts, nil, nil
	}
	guard, err := bwebhook.NewClientGuard(o.WebhookClientAuth, time.Now())
	if err != nil {
		return opts, nil, err
	}
	opts.TLSOpts = []func(*tls.Config){guard.Configure}
	bwebhook.RecordClientVerification(true)
	ctrl.Log.WithName("setup").Info("Webhook accepts only callers with a verified client certificate", "allowedNames", o.WebhookClientAuth.Names)
	return opts, guard, nil
}

func concurrency(n int) int {
	if n <= 0 {
		return 4
	}
	return n
}

func defaultAddr(a string) string {
	if a == "" {
		return "0"
	}
	return a
}

// addUsageSampler adds the leader's sampler of tenants' usage, which keeps
// TenantUsage and resizes pods of tenants in rightsizing mode Resize.
func addUsageSampler(mgr ctrl.Manager, live client.Client, o Options) error {
	cs, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	sampler := &usagectl.Sampler{
		Client: mgr.GetClient(), Live: live, Metrics: cs.Discovery().RESTClient(),
		Recorder: mgr.GetEventRecorder("bulkhead-rightsizing"),
		Interval: cmp.Or(o.UsageSampleInterval, time.Minute), Window: cmp.Or(o.UsageWindow, 24*time.Hour),
		MinSamples: cmp.Or(o.RightsizingMinSamples, 30),
	}
	if err := sampler.Validate(); err != nil {
		return err
	}
	return mgr.Add(sampler)
}
