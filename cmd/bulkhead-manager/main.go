// Command bulkhead-manager runs Bulkhead's controllers and its admission
// webhooks. See --help.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bulkhead-manager:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bulkhead-manager", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `bulkhead-manager keeps every Tenant's namespaces, RBAC, quotas and network
policies as the Tenant says, and serves Bulkhead's admission webhooks: the one
that lets tenant owners create their own namespaces within limits, and those
for Ingress hostnames, volume claims, tenant-wide quota and new Tenants.

In a cluster it runs as the Deployment in config/default (two replicas, leader
election) and is reached through a Service. Outside a cluster, as in the dev
cluster, give --webhook-url so the API server calls it at that address:

  bulkhead-manager --kubeconfig .dev/kubeconfig --webhook-url https://localhost:9443 \
    --webhook-client-ca-file .dev/pki/ca.crt --webhook-client-names kube-apiserver-webhook-client

The webhook answers only the API server. It refuses the TLS handshake of any
caller without a client certificate signed by --webhook-client-ca-file (and,
with --webhook-client-names, carrying one of those names), so a tenant pod
cannot post a forged admission review. Give the API server that certificate
for webhook calls with its --admission-control-config-file:

  # admission.yaml
  apiVersion: apiserver.config.k8s.io/v1
  kind: AdmissionConfiguration
  plugins:
  - name: ValidatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: /etc/kubernetes/admission/webhook-client.kubeconfig
  - name: MutatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: /etc/kubernetes/admission/webhook-client.kubeconfig

  # webhook-client.kubeconfig: the user is picked by the webhook's address,
  # <service>.<namespace>.svc (or host:port of a URL); "*" matches any.
  apiVersion: v1
  kind: Config
  users:
  - name: bulkhead-webhook.bulkhead-system.svc
    user:
      client-certificate: /etc/kubernetes/admission/webhook-client.crt
      client-key: /etc/kubernetes/admission/webhook-client.key

Use a CA of its own for that certificate. If the CA also signs other
certificates (the cluster CA signs every user's and kubelet's), list the
certificate's name in --webhook-client-names, or they could all call the
webhook. Where the API server's flags cannot be set (some managed clusters),
--insecure-webhook-any-client serves anyone who reaches the port: then only the
NetworkPolicy in config/manager protects it. See README, "Installing on a real
cluster".

Flags:
`)
		fs.PrintDefaults()
	}
	s := render.DefaultSettings()
	var (
		o                  = setup.Options{}
		kubeconfig         string
		webhookURL         string
		serviceName        string
		systemNamespaces   string
		qps                float64
		burst              int
		adminGroups        string
		tenantClusterRoles string
		inlineCSIDrivers   string
		schedulers         string
		clusterCIDRs       string
		development        bool
		clientCAFile       string
		clientNames        string
	)
	fs.StringVar(&kubeconfig, "kubeconfig", "", "Path to a kubeconfig; in-cluster config when empty.")
	fs.StringVar(&webhookURL, "webhook-url", "", "Base URL the API server uses to reach the webhook (manager outside the cluster); a Service is used when empty.")
	fs.StringVar(&serviceName, "webhook-service", "bulkhead-webhook", "Service in front of the webhook, in --namespace.")
	fs.StringVar(&o.WebhookHost, "webhook-host", "", "Address the webhook server listens on.")
	fs.IntVar(&o.WebhookPort, "webhook-port", 9443, "Port the webhook server listens on.")
	fs.StringVar(&o.CertDir, "cert-dir", "", "Directory for the webhook serving certificate; a temporary one when empty.")
	fs.StringVar(&clientCAFile, "webhook-client-ca-file", "", "PEM file of the CA that signs the API server's webhook client certificate. Required (unless --insecure-webhook-any-client): the webhook refuses the TLS handshake of callers without a certificate it signed. Read at start; restart the manager after changing it.")
	fs.StringVar(&clientNames, "webhook-client-names", "", "Comma-separated common names or DNS names the API server's webhook client certificate may carry; empty accepts any certificate the CA signed. Set it when the CA signs other certificates too.")
	fs.BoolVar(&o.InsecureWebhookAnyClient, "insecure-webhook-any-client", false, "Serve the webhook to any caller that reaches its port, without client certificates, where the API server's admission configuration cannot be set. Logged at start and exported as bulkhead_webhook_client_verification 0; only the NetworkPolicy then keeps forged admission reviews out.")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint; 0 turns it off.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "Address of /healthz and /readyz; 0 turns them off.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "0", "Address serving Go's CPU and memory profiles at /debug/pprof/ (go tool pprof reads them), such as 127.0.0.1:6060; 0 turns it off. Profiles show internals: bind it where only operators reach.")
	fs.BoolVar(&o.LeaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles.")
	fs.StringVar(&s.ManagerNamespace, "namespace", s.ManagerNamespace, "Namespace Bulkhead runs in (its Secret, lease and Service).")
	fs.StringVar(&systemNamespaces, "system-namespaces", strings.Join(s.SystemNamespaces, ","), "Namespaces never assigned to a tenant nor sent to the webhook.")
	fs.StringVar(&adminGroups, "admin-groups", strings.Join(s.AdminGroups, ","), "Groups of cluster admins, never sent to the webhook.")
	fs.StringVar(&s.PodSecurityVersion, "pod-security-version", s.PodSecurityVersion, "Pod Security Standards version pinned on tenant namespaces.")
	fs.StringVar(&s.SandboxRuntimeClass, "sandbox-runtime-class", s.SandboxRuntimeClass, "RuntimeClass Hard tenants must use.")
	fs.Float64Var(&qps, "kube-api-qps", 500, "Steady requests per second to the API server, a safety net against a runaway loop: the API server's own Priority and Fairness is what shares it out. Bulkhead makes some 30 requests per new two-namespace tenant, so a low limit, not the API server, bounds how fast many tenants converge (at 100, a hundred tenants take half a minute).")
	fs.IntVar(&burst, "kube-api-burst", 1000, "Requests allowed in a burst above --kube-api-qps.")
	fs.IntVar(&o.ConcurrentReconciles, "concurrent-reconciles", 4, "Tenants each controller reconciles at once.")
	fs.DurationVar(&o.SyncPeriod, "sync-period", 10*time.Hour, "How often every watched object is handed to the controllers again, changed or not (a resync). Each controller then finds what drifted unseen, which watches make rare, and writes nothing where nothing did; a short period costs reads, not writes.")
	fs.DurationVar(&o.QuotaRecount, "quota-recount-interval", 15*time.Second, "How often tenant-wide quota usage is recounted from the tenant's pods and claims; freed quota returns then.")
	fs.DurationVar(&o.UsageSampleInterval, "usage-sample-interval", time.Minute, "How often the leader reads tenants' pods' usage from metrics.k8s.io (metrics-server) for TenantUsage, kubectl bulkhead usage and rightsizing. Samples count once per refresh of the metrics pipeline (metrics-server's --metric-resolution), however often they are read.")
	fs.DurationVar(&o.UsageWindow, "usage-window", 24*time.Hour, "How far back usage figures (p95, peak) reach. Samples live in the leader's memory: a new leader starts its window again.")
	fs.IntVar(&o.RightsizingMinSamples, "rightsizing-min-samples", 30, "Passes of the usage sampler that must have sampled a workload container before Bulkhead recommends a request for it or resizes it (rightsizing.mode Resize): with the default interval, half an hour. A workload's pods sampled in one pass count once, as one moment.")
	fs.StringVar(&tenantClusterRoles, "tenant-cluster-roles", strings.Join(s.TenantClusterRoles, ","), "ClusterRoles tenant owners may bind (the owner role grants bind on exactly these), and the only ones besides Bulkhead's own that a RoleBinding inside a Hard tenant may reference.")
	fs.StringVar(&inlineCSIDrivers, "inline-csi-drivers", "", "CSI drivers tenant pods may use as inline volumes (spec.volumes[].csi), such as a secrets-store driver. Empty refuses every inline CSI volume: a driver that mounts a server named in the pod (SMB, NFS) reaches it from the node, past NetworkPolicies. Claims of an allowed StorageClass are not affected.")
	fs.StringVar(&schedulers, "schedulers", strings.Join(s.Schedulers, ","), "schedulerNames tenant pods may use. List only schedulers that honour taints: another could place a tenant's pods on another tenant's node pool.")
	fs.StringVar(&s.DNSNamespace, "dns-namespace", s.DNSNamespace, "Namespace of the cluster DNS pods: the only pods besides a tenant's own that its pods may reach on port 53.")
	var dnsPodLabels string
	fs.StringVar(&dnsPodLabels, "dns-pod-labels", labelsFlag(s.DNSPodLabels), "Labels (k=v,k=v) that select the cluster DNS pods in --dns-namespace. With bulkhead-dns installed beside the cluster's own DNS (config/dns), set app.kubernetes.io/name=bulkhead-dns so that tenant pods reach only the server that scopes names to tenants.")
	fs.StringVar(&clusterCIDRs, "cluster-cidrs", "", "The cluster's pod and Service CIDRs, such as 10.244.0.0/16,10.96.0.0/12. Tenants' own NetworkPolicies may then admit ipBlock sources outside them (a load balancer's clients); empty refuses ipBlock sources where network isolation is on, since many network plugins match pod addresses against ipBlocks.")
	fs.Int64Var(&s.TenantTokenMaxSeconds, "tenant-token-max-seconds", s.TenantTokenMaxSeconds, "Longest ServiceAccount token tenant identities may ask for (TokenRequest); token Secrets, which never expire, are refused. It bounds how long a token minted by a removed owner still acts.")
	var tenantShares int
	fs.IntVar(&tenantShares, "tenant-priority-shares", int(s.TenantPriorityShares), "Nominal concurrency shares of bulkhead-tenants, the API Priority and Fairness level every tenant is one flow of. The API server divides its concurrency among all levels in proportion to their shares (its built-in levels hold 245), so this is the tenants' part together; fair queuing splits it evenly among the tenants sending requests.")
	fs.IntVar(&s.MaxDedicatedPriorityLevels, "max-dedicated-priority-levels", s.MaxDedicatedPriorityLevels, "How many tenants may have a priority level of their own (apiFairness.shares > 0); the oldest get them, the rest stay in the shared level. Each level's shares dilute every other level's, the control plane's included.")
	fs.IntVar(&s.RenderVersion, "render-version", render.CurrentRenderVersion, "Render tenant objects and admission policies as the given render version does: 2 is this release's; 1 names the ingress NetworkPolicy and the tokens policy differently and audits managed-object denials too. Versions never differ in what they refuse. Objects the versions name differently are replaced, new ones first, so no namespace is left unprotected in between; it exists so that upgrades and rollbacks are tested.")
	fs.BoolVar(&development, "development", false, "Human-readable logs.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(development)))
	s.SystemNamespaces = splitList(systemNamespaces)
	s.AdminGroups = splitList(adminGroups)
	s.TenantClusterRoles = splitList(tenantClusterRoles)
	s.InlineCSIDrivers = splitList(inlineCSIDrivers)
	s.Schedulers = splitList(schedulers)
	// The API server stretches a token asked for 3607 seconds (the
	// kubelet's) to a year, unless --service-account-extend-token-expiration
	// is off: a cap at or above it would cap nothing.
	if s.TenantTokenMaxSeconds < 600 || s.TenantTokenMaxSeconds >= 3607 {
		return fmt.Errorf("--tenant-token-max-seconds is %d; it must be at least 600 (the API server's minimum) and below 3607, which the API server extends to a year", s.TenantTokenMaxSeconds)
	}
	s.ClusterCIDRs = splitList(clusterCIDRs)
	dnsLabels, err := parseLabels(dnsPodLabels)
	if err != nil {
		return fmt.Errorf("--dns-pod-labels: %w", err)
	}
	s.DNSPodLabels = dnsLabels
	// The API server refuses a level of more shares than this, and one of
	// none would hold every tenant's request forever.
	if tenantShares < 1 || tenantShares > 1000 {
		return fmt.Errorf("--tenant-priority-shares is %d; it must be between 1 and 1000", tenantShares)
	}
	s.TenantPriorityShares = int32(tenantShares)
	if s.MaxDedicatedPriorityLevels < 0 {
		return fmt.Errorf("--max-dedicated-priority-levels is %d; it must be 0 (no tenant gets a level of its own) or more", s.MaxDedicatedPriorityLevels)
	}
	if s.RenderVersion < render.RenderVersion1 || s.RenderVersion > render.CurrentRenderVersion {
		return fmt.Errorf("--render-version is %d; this release renders versions %d to %d", s.RenderVersion, render.RenderVersion1, render.CurrentRenderVersion)
	}
	o.Settings = s
	switch {
	case clientCAFile != "" && o.InsecureWebhookAnyClient:
		return fmt.Errorf("--webhook-client-ca-file and --insecure-webhook-any-client exclude each other")
	case clientCAFile != "":
		ca, err := os.ReadFile(clientCAFile)
		if err != nil {
			return fmt.Errorf("reading --webhook-client-ca-file: %w", err)
		}
		o.WebhookClientAuth = bwebhook.ClientAuth{CA: ca, Names: splitList(clientNames)}
	case !o.InsecureWebhookAnyClient:
		return fmt.Errorf("--webhook-client-ca-file is required: the webhook must verify that its caller is the API server (see --help); --insecure-webhook-any-client opts out")
	}

	if kubeconfig != "" {
		if err := os.Setenv("KUBECONFIG", kubeconfig); err != nil {
			return err
		}
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(qps), burst
	if webhookURL != "" {
		o.WebhookEndpoint = bwebhook.Endpoint{URL: strings.TrimRight(webhookURL, "/")}
		o.CertHosts = []string{"localhost", "127.0.0.1"}
	} else {
		o.WebhookEndpoint = bwebhook.Endpoint{ServiceNamespace: s.ManagerNamespace, ServiceName: serviceName, ServicePort: 443}
		o.CertHosts = []string{serviceName + "." + s.ManagerNamespace + ".svc", serviceName + "." + s.ManagerNamespace + ".svc.cluster.local"}
	}
	mgr, err := setup.NewManager(cfg, o)
	if err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// labelsFlag writes labels as k=v,k=v, sorted.
func labelsFlag(m map[string]string) string {
	return labels.Set(m).String()
}

// parseLabels reads k=v,k=v: at least one label, each a valid key and value.
func parseLabels(s string) (map[string]string, error) {
	m, err := labels.ConvertSelectorToLabelsMap(s)
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("no labels: the DNS pods must be selected by at least one")
	}
	return m, nil
}
