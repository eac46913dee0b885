package devcluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/bulkhead-dev/bulkhead/internal/pki"
)

// Node is a kwok-simulated node: the scheduler places pods on it and kwok
// reports them running, with no kubelet or container runtime.
type Node struct {
	Name   string
	Labels map[string]string
	Taints []corev1.Taint
}

// Options choose what Start runs.
type Options struct {
	// BinDir holds etcd, kube-apiserver, kube-controller-manager,
	// kube-scheduler, kwok and metrics-server. Defaults to $BULKHEAD_K8S_BIN.
	BinDir string
	// Dir holds certificates, data, logs and the kubeconfig. It is created
	// if missing; a temporary directory when empty.
	Dir string
	// APIServerPort is the secure port; 0 picks a free one.
	APIServerPort int
	// ControllerManager and Scheduler start those components; Nodes > 0 starts kwok.
	ControllerManager bool
	Scheduler         bool
	Nodes             []Node
	// TenantView configures the API server's authorization chain with
	// bulkhead-proxy's authorization webhook (see TenantView), which whoever
	// runs the proxy serves.
	TenantView bool
	// Metrics serves metrics.k8s.io: metrics-server scrapes the usage kwok
	// simulates for each node and container (see UsageCPUAnnotation) and the
	// API server's aggregation layer serves it; WaitMetrics waits for the
	// first figures. It needs Nodes.
	Metrics bool
	// ExtraAPIServerArgs are appended to kube-apiserver's flags (for example
	// --runtime-config to turn an API off); one naming a flag the cluster
	// sets replaces it (--enable-admission-plugins= turns NodeRestriction
	// off, --audit-log-path= the audit log).
	ExtraAPIServerArgs []string
}

// Cluster is a running control plane.
type Cluster struct {
	// Config is an admin rest.Config (group system:masters, which may impersonate).
	Config *rest.Config
	// Kubeconfig is the path of the admin kubeconfig.
	Kubeconfig string
	// Dir is the cluster's directory.
	Dir string
	// WebhookClientCA is the PEM of the CA that signed the client
	// certificate the API server presents to every admission webhook (its
	// admission kubeconfig); a webhook server verifies its callers with it.
	WebhookClientCA []byte
	// WebhookClientCAFile holds WebhookClientCA, for a webhook server run as
	// a process of its own.
	WebhookClientCAFile string
	// TenantView is set when Options.TenantView is.
	TenantView *TenantView
	// WebhookClientCert and WebhookClientKey are that certificate and key
	// (PEM), for tests that must call a webhook exactly as the API server
	// does. Its common name is WebhookClientName.
	WebhookClientCert, WebhookClientKey []byte

	// ca signs the cluster's certificates (IssueUser).
	ca      *pki.CA
	procs   []*process
	tempDir bool
	// metrics is set when Options.Metrics is.
	metrics *metricsPipeline
	// apiServer is how kube-apiserver was started, so that RestartAPIServer
	// can start it again exactly so.
	apiServer struct {
		binary, logDir string
		args           []string
	}
}

// Full returns options for a complete cluster: controller-manager, scheduler
// and n kwok nodes named node-1..n.
func Full(dir string, n int) Options {
	o := Options{Dir: dir, ControllerManager: true, Scheduler: true}
	for i := 1; i <= n; i++ {
		o.Nodes = append(o.Nodes, Node{Name: fmt.Sprintf("node-%d", i)})
	}
	return o
}

// Start brings the control plane up and waits until it serves. On error it
// stops whatever it had started.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.BinDir == "" {
		o.BinDir = os.Getenv("BULKHEAD_K8S_BIN")
	}
	if o.BinDir == "" {
		return nil, errors.New("devcluster: no binaries: set BULKHEAD_K8S_BIN or run through make, which builds them into bin/k8s/<version>")
	}
	if o.Metrics && len(o.Nodes) == 0 {
		return nil, errors.New("devcluster: Options.Metrics needs Options.Nodes: metrics-server scrapes kwok's nodes")
	}
	for _, b := range o.binaries() {
		if _, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil {
			return nil, fmt.Errorf("devcluster: %s not found in %s; build the control plane with `make k8s`", b, o.BinDir)
		}
	}
	c := &Cluster{}
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "bulkhead-devcluster-"); err != nil {
			return nil, err
		}
		c.tempDir = true
	}
	c.Dir = o.Dir
	for _, sub := range []string{"pki", "etcd", "logs"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if err := c.start(ctx, o); err != nil {
		return nil, err
	}
	return c, nil
}

func (o Options) binaries() []string {
	out := []string{"etcd", "kube-apiserver"}
	if o.ControllerManager {
		out = append(out, "kube-controller-manager")
	}
	if o.Scheduler {
		out = append(out, "kube-scheduler")
	}
	if len(o.Nodes) > 0 {
		out = append(out, "kwok")
	}
	if o.Metrics {
		out = append(out, "metrics-server")
	}
	return out
}

func (c *Cluster) start(ctx context.Context, o Options) error {
	dir, pkiDir, logs := o.Dir, filepath.Join(o.Dir, "pki"), filepath.Join(o.Dir, "logs")
	bin := func(n string) string { return filepath.Join(o.BinDir, n) }

	now := time.Now()
	ca, err := pki.NewCA("bulkhead-devcluster-ca", now, 10*365*24*time.Hour)
	if err != nil {
		return err
	}
	servingCert, servingKey, err := ca.Issue(pki.Leaf{
		CommonName: "kube-apiserver", Hosts: []string{"127.0.0.1", "localhost", "kubernetes.default.svc"}, Lifetime: 365 * 24 * time.Hour,
	}, now)
	if err != nil {
		return err
	}
	// system:masters may impersonate: tests and the demo act as tenant users.
	adminCert, adminKey, err := ca.Issue(pki.Leaf{
		CommonName: "bulkhead-admin", Organizations: []string{"system:masters"}, Lifetime: 365 * 24 * time.Hour,
	}, now)
	if err != nil {
		return err
	}
	// The API server's identity towards webhooks. The same CA signs the
	// admin's certificate, so a webhook server must accept this name only,
	// not any certificate of the CA.
	webhookClientCert, webhookClientKey, err := ca.Issue(pki.Leaf{
		CommonName: WebhookClientName, Lifetime: 365 * 24 * time.Hour,
	}, now)
	if err != nil {
		return err
	}
	saKey, saPub, err := serviceAccountKey(pkiDir)
	if err != nil {
		return err
	}
	p := func(n string) string { return filepath.Join(pkiDir, n) }
	// The admission configuration must name the kubeconfig by an absolute
	// path; the cluster's directory may be relative (the demo's .dev).
	webhookKubeconfig, err := filepath.Abs(p("webhook-client.kubeconfig"))
	if err != nil {
		return err
	}
	webhookKubeconfigData, err := webhookClientKubeconfig(webhookClientCert, webhookClientKey)
	if err != nil {
		return err
	}
	if err := writeFiles(map[string][]byte{
		p("ca.crt"): ca.CertPEM, p("apiserver.crt"): servingCert, p("apiserver.key"): servingKey,
		p("admin.crt"): adminCert, p("admin.key"): adminKey,
		p("webhook-client.crt"): webhookClientCert, p("webhook-client.key"): webhookClientKey,
		webhookKubeconfig:      webhookKubeconfigData,
		p("admission.yaml"):    admissionConfig(webhookKubeconfig),
		p("encryption.yaml"):   encryptionConfig(),
		p("audit-policy.yaml"): []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"),
	}); err != nil {
		return err
	}
	c.WebhookClientCA, c.WebhookClientCAFile = ca.CertPEM, p("ca.crt")
	c.ca = ca
	authorization := "--authorization-mode=Node,RBAC"
	if o.TenantView {
		if authorization, err = c.tenantView(ca, pkiDir, webhookClientCert, webhookClientKey, now); err != nil {
			return err
		}
	}
	c.WebhookClientCert, c.WebhookClientKey = webhookClientCert, webhookClientKey
	if o.Metrics {
		if c.metrics, err = newMetricsPipeline(ca, pkiDir, now); err != nil {
			return err
		}
	}

	etcdPort, err := FreePort()
	if err != nil {
		return err
	}
	peerPort, err := FreePort()
	if err != nil {
		return err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	etcd, err := startProcess("etcd", bin("etcd"), []string{
		"--name=devcluster", "--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + etcdURL, "--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=devcluster=" + peerURL,
		// A throwaway cluster: durability is not worth the fsync latency.
		"--unsafe-no-fsync", "--log-level=warn",
	}, logs)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, etcd)

	port := o.APIServerPort
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return err
		}
	} else if err := checkPortFree(port); err != nil {
		return err
	}
	apiArgs := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + p("apiserver.crt"), "--tls-private-key-file=" + p("apiserver.key"),
		"--client-ca-file=" + p("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + saPub, "--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		authorization,
		"--enable-admission-plugins=NodeRestriction",
		"--admission-control-config-file=" + p("admission.yaml"),
		"--enable-priority-and-fairness=true",
		"--encryption-provider-config=" + p("encryption.yaml"),
		"--audit-policy-file=" + p("audit-policy.yaml"),
		"--audit-log-path=" + filepath.Join(logs, "audit.log"),
		"--audit-log-maxsize=100", "--audit-log-maxbackup=1",
		"--allow-privileged=true",
		"--profiling=false",
	}
	if c.metrics != nil {
		apiArgs = append(apiArgs, c.metrics.apiServerArgs(p("ca.crt"))...)
	}
	apiArgs = mergeArgs(apiArgs, o.ExtraAPIServerArgs)
	c.apiServer.binary, c.apiServer.args, c.apiServer.logDir = bin("kube-apiserver"), apiArgs, logs
	apiserver, err := startProcess("kube-apiserver", c.apiServer.binary, apiArgs, logs)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, apiserver)

	host := "https://127.0.0.1:" + strconv.Itoa(port)
	c.Config = &rest.Config{
		Host: host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: ca.CertPEM, CertData: adminCert, KeyData: adminKey,
		},
		QPS: 200, Burst: 400,
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(c.Kubeconfig, host, ca.CertPEM, adminCert, adminKey); err != nil {
		return err
	}
	if err := c.waitReady(ctx, apiserver); err != nil {
		return err
	}

	if o.ControllerManager {
		kcmPort, err := FreePort()
		if err != nil {
			return err
		}
		kcm, err := startProcess("kube-controller-manager", bin("kube-controller-manager"), []string{
			"--kubeconfig=" + c.Kubeconfig,
			"--authentication-kubeconfig=" + c.Kubeconfig, "--authorization-kubeconfig=" + c.Kubeconfig,
			"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(kcmPort),
			"--leader-elect=false",
			"--service-account-private-key-file=" + saKey, "--root-ca-file=" + p("ca.crt"),
			"--use-service-account-credentials=true",
			// Every controller but those that need a cloud or node IPAM.
			"--controllers=*,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller,-node-ipam-controller",
			"--concurrent-namespace-syncs=10", "--concurrent-gc-syncs=20",
			"--kube-api-qps=200", "--kube-api-burst=400",
		}, logs)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, kcm)
	}
	if o.Scheduler {
		schedPort, err := FreePort()
		if err != nil {
			return err
		}
		sched, err := startProcess("kube-scheduler", bin("kube-scheduler"), []string{
			"--kubeconfig=" + c.Kubeconfig,
			"--authentication-kubeconfig=" + c.Kubeconfig, "--authorization-kubeconfig=" + c.Kubeconfig,
			"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(schedPort),
			"--leader-elect=false",
		}, logs)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, sched)
	}
	if len(o.Nodes) > 0 {
		kwokPort, err := FreePort()
		if err != nil {
			return err
		}
		kwokArgs := []string{
			"--kubeconfig=" + c.Kubeconfig,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + KwokAnnotation + "=fake",
			"--server-address=127.0.0.1:" + strconv.Itoa(kwokPort),
			"--node-ip=10.0.0.1",
			// Pod IPs on the loopback network: a test can send from a pod's
			// own address and so act as that pod (the tenant DNS attributes
			// queries by source address).
			"--cidr=" + PodCIDR,
		}
		if c.metrics != nil {
			kwokArgs = mergeArgs(kwokArgs, c.metrics.kwokArgs(kwokPort))
		}
		kwok, err := startProcess("kwok", bin("kwok"), kwokArgs, logs)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, kwok)
		if err := c.createNodes(ctx, o.Nodes); err != nil {
			return err
		}
		if c.metrics != nil {
			if err := c.startMetrics(ctx, kwok, o.Nodes, bin("metrics-server"), logs); err != nil {
				return err
			}
		}
	}
	return c.writePIDs()
}

// RestartAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after ten
// seconds, as a kubelet stops a static pod; with kube-controller-manager
// connected it does not finish its graceful shutdown in thirty), starts it
// again with the same flags and waits until it serves. etcd keeps running,
// and with it every object: clients see connections refused, then watches
// resumed or relisted, as when a real cluster's API server restarts.
func (c *Cluster) RestartAPIServer(ctx context.Context) error {
	i := slices.IndexFunc(c.procs, func(p *process) bool { return p.name == "kube-apiserver" })
	if i < 0 {
		return errors.New("devcluster: no kube-apiserver to restart")
	}
	c.procs[i].stop(10 * time.Second)
	// The previous log is kept beside the new one: startProcess truncates.
	old := c.procs[i].logPath
	_ = os.Rename(old, old+".previous")
	p, err := startProcess("kube-apiserver", c.apiServer.binary, c.apiServer.args, c.apiServer.logDir)
	if err != nil {
		return err
	}
	c.procs[i] = p
	if err := c.writePIDs(); err != nil {
		return err
	}
	return c.waitReady(ctx, p)
}

// PodCIDR is where kwok gives pods their IPs: loopback addresses, which
// any process on the machine can bind, so a test can speak as a pod.
const PodCIDR = "127.1.0.1/16"

// KwokAnnotation marks the nodes kwok simulates.
const KwokAnnotation = "kwok.x-k8s.io/node"

func (c *Cluster) waitReady(ctx context.Context, apiserver *process) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if err := apiserver.failed(); err != nil {
			return err
		}
		if err := c.procs[0].failed(); err != nil {
			return err
		}
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && strings.TrimSpace(string(body)) == "ok" {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("devcluster: kube-apiserver not ready after 90s (%w): %s", last, tail(apiserver.logPath, 15))
}

func (c *Cluster) createNodes(ctx context.Context, nodes []Node) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		labels := map[string]string{"type": "kwok", corev1.LabelHostname: n.Name}
		for k, v := range n.Labels {
			labels[k] = v
		}
		annotations := map[string]string{KwokAnnotation: "fake"}
		if c.metrics != nil {
			annotations[resourceMetricsPathAnnotation] = resourceMetricsPath(n.Name)
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels, Annotations: annotations},
			Spec:       corev1.NodeSpec{Taints: n.Taints},
			// kwok reports what the node declares; ephemeral storage must be
			// declared, or pods with a LimitRange's default request never fit.
			Status: corev1.NodeStatus{Capacity: nodeCapacity(), Allocatable: nodeCapacity()},
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating node %s: %w", n.Name, err)
		}
	}
	return nil
}

func nodeCapacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("64"),
		corev1.ResourceMemory:           resource.MustParse("256Gi"),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
		corev1.ResourcePods:             resource.MustParse("250"),
	}
}

// Stop stops every process (SIGTERM, then SIGKILL) and removes a temporary directory.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop(10 * time.Second)
	}
	c.procs = nil
	_ = os.Remove(filepath.Join(c.Dir, pidFile))
	if c.tempDir {
		_ = os.RemoveAll(c.Dir)
	}
}

// PIDs are the process IDs of the cluster's processes (etcd, the API
// server and whatever else it runs), for a benchmark that measures what
// they cost.
func (c *Cluster) PIDs() []int {
	out := make([]int, 0, len(c.procs))
	for _, p := range c.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

const pidFile = "pids"

func (c *Cluster) writePIDs() error {
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "%s %d\n", p.name, p.cmd.Process.Pid)
	}
	return os.WriteFile(filepath.Join(c.Dir, pidFile), []byte(b.String()), 0o600)
}

// AddPID records another process (such as the manager the demo runs) so that
// StopDir stops it with the cluster.
func AddPID(dir, name string, pid int) error {
	f, err := os.OpenFile(filepath.Join(dir, pidFile), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s %d\n", name, pid)
	return err
}

// StopDir stops a cluster left running by another process (make demo-down),
// newest process first. It is a no-op when nothing runs.
func StopDir(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, pidFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var stopped []string
	for i := len(lines) - 1; i >= 0; i-- {
		var name string
		var pid int
		if _, err := fmt.Sscanf(lines[i], "%s %d", &name, &pid); err != nil {
			continue
		}
		StopGroup(pid, 10*time.Second, nil)
		stopped = append(stopped, name)
	}
	return stopped, os.Remove(filepath.Join(dir, pidFile))
}

func encryptionConfig() []byte {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: ["secrets"]
  providers:
  - aescbc:
      keys:
      - name: devcluster
        secret: ` + base64.StdEncoding.EncodeToString(key) + `
  - identity: {}
`)
}

// WebhookClientName is the common name of the certificate the API server
// presents to admission webhooks.
const WebhookClientName = "kube-apiserver-webhook-client"

// webhookClientKubeconfig gives the API server its client certificate for
// every webhook server. The API server picks a user by the webhook's
// address: the exact host:port of a URL webhook (or <service>.<namespace>.svc:<port>
// of a Service webhook, also without :443), then "*.<domain>" wildcards, and
// "*" last; only "*" is needed here, since every webhook of the dev cluster
// is served by a process that verifies this certificate.
func webhookClientKubeconfig(cert, key []byte) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.AuthInfos["*"] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
	return clientcmd.Write(*cfg)
}

// admissionConfig points the webhook admission plugins at the kubeconfig
// that holds the API server's webhook client certificate.
func admissionConfig(webhookKubeconfig string) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n")
	for _, plugin := range []string{"ValidatingAdmissionWebhook", "MutatingAdmissionWebhook"} {
		fmt.Fprintf(&b, `- name: %s
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %q
`, plugin, webhookKubeconfig)
	}
	return []byte(b.String())
}

func writeKubeconfig(path, host string, ca, cert, key []byte) error {
	return writeKubeconfigAs(path, host, ca, &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key})
}

func writeKubeconfigAs(path, host string, ca []byte, user *clientcmdapi.AuthInfo) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["devcluster"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: ca}
	cfg.AuthInfos["admin"] = user
	cfg.Contexts["devcluster"] = &clientcmdapi.Context{Cluster: "devcluster", AuthInfo: "admin"}
	cfg.CurrentContext = "devcluster"
	return clientcmd.WriteToFile(*cfg, path)
}

// WriteImpersonatingKubeconfig writes a kubeconfig at path with which a
// process acts as user in groups, through the admin's impersonation; for a
// program run as a process of its own with some identity's permissions.
func (c *Cluster) WriteImpersonatingKubeconfig(path, user string, groups ...string) error {
	return writeKubeconfigAs(path, c.Config.Host, c.Config.CAData, &clientcmdapi.AuthInfo{
		ClientCertificateData: c.Config.CertData, ClientKeyData: c.Config.KeyData,
		Impersonate: user, ImpersonateGroups: append(groups, "system:authenticated"),
	})
}

// Impersonate returns a copy of the admin config acting as user in groups,
// exactly as the API server would see that identity (plus system:authenticated).
func (c *Cluster) Impersonate(user string, groups ...string) *rest.Config {
	return ImpersonateConfig(c.Config, user, groups...)
}

// ImpersonateConfig returns a copy of cfg acting as user in groups.
func ImpersonateConfig(cfg *rest.Config, user string, groups ...string) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append(groups, "system:authenticated")}
	return out
}

// mergeArgs is base with extra appended, each extra --flag=value replacing
// base's --flag: repeated, a list flag would add to the base value, not
// replace it.
func mergeArgs(base, extra []string) []string {
	name := func(arg string) string {
		n, _, _ := strings.Cut(arg, "=")
		return n
	}
	replaced := map[string]bool{}
	for _, e := range extra {
		replaced[name(e)] = true
	}
	out := make([]string, 0, len(base)+len(extra))
	for _, b := range base {
		if !replaced[name(b)] {
			out = append(out, b)
		}
	}
	return append(out, extra...)
}
