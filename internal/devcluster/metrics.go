package devcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed" // the kwok configuration is a file of its own, for review
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/bulkhead-dev/bulkhead/internal/pki"
)

// UsageCPUAnnotation on a pod sets the CPU each of its containers uses on a
// kwok node, as a quantity ("200m"); UsageMemoryAnnotation sets the memory
// ("300Mi"). Each read is the annotation less up to a fifth, drawn afresh;
// without them a container uses 1m and 1Mi. They take effect only in a
// cluster started with Options.Metrics.
const (
	UsageCPUAnnotation    = "kwok.x-k8s.io/usage-cpu"
	UsageMemoryAnnotation = "kwok.x-k8s.io/usage-memory"
)

// resourceMetricsPathAnnotation tells metrics-server where on a node's
// kubelet port the resource metrics are; kwok serves every node's at a path
// of its own on one port.
const resourceMetricsPathAnnotation = "metrics.k8s.io/resource-metrics-path"

// resourceMetricsPath is where kwok serves a node's resource metrics; the same
// template, with {nodeName}, is the Metric's path in kwok-metrics.yaml.
func resourceMetricsPath(node string) string {
	return "/metrics/nodes/" + node + "/metrics/resource"
}

// kwokMetricsConfig is kwok's --config: the resource metrics it serves for
// each node and the usage of each container, from UsageCPUAnnotation and
// UsageMemoryAnnotation.
//
//go:embed kwok-metrics.yaml
var kwokMetricsConfig []byte

// frontProxyClientName is the common name of the client certificate with
// which kube-apiserver forwards requests to aggregated APIs (metrics.k8s.io)
// on behalf of their callers; only it may assert a caller in the
// X-Remote-User and X-Remote-Group headers.
const frontProxyClientName = "front-proxy-client"

// metricsResolution is how often metrics-server scrapes, its minimum. A rate
// needs two scrapes, so a node or pod is listed about that long after
// metrics-server first sees it.
const metricsResolution = 10 * time.Second

// metricsServerService is the Service, an ExternalName for the loopback,
// through which the aggregator reaches metrics-server. The aggregator checks
// metrics-server's certificate for <name>.<namespace>.svc.
const metricsServerService, metricsServerNamespace = "metrics-server", "kube-system"

// metricsPipeline is what Options.Metrics adds to the cluster.
type metricsPipeline struct {
	// kwokPort serves every node's kubelet endpoints, over TLS.
	kwokPort int
	// port is metrics-server's secure port on 127.0.0.1.
	port int
	// proc is metrics-server, once started.
	proc *process
	// files under the cluster's pki directory.
	kwokCert, kwokKey, kwokConfig, servingCert, servingKey, frontProxyCert, frontProxyKey string
}

// newMetricsPipeline issues the certificates of the metrics pipeline, writes
// them and kwok's configuration, and picks its ports.
func newMetricsPipeline(ca *pki.CA, pkiDir string, now time.Time) (*metricsPipeline, error) {
	p := func(n string) string { return filepath.Join(pkiDir, n) }
	m := &metricsPipeline{
		kwokCert: p("kwok.crt"), kwokKey: p("kwok.key"), kwokConfig: p("kwok-metrics.yaml"),
		servingCert: p("metrics-server.crt"), servingKey: p("metrics-server.key"),
		frontProxyCert: p("front-proxy-client.crt"), frontProxyKey: p("front-proxy-client.key"),
	}
	var err error
	if m.port, err = FreePort(); err != nil {
		return nil, err
	}
	// metrics-server reaches every node at its InternalIP, 127.0.0.1.
	kwokCert, kwokKey, err := ca.Issue(pki.Leaf{
		CommonName: "kwok", Hosts: []string{"127.0.0.1", "localhost"}, Lifetime: 365 * 24 * time.Hour,
	}, now)
	if err != nil {
		return nil, err
	}
	servingCert, servingKey, err := ca.Issue(pki.Leaf{
		CommonName: "metrics-server",
		Hosts: []string{
			"127.0.0.1", "localhost",
			metricsServerService + "." + metricsServerNamespace + ".svc",
		},
		Lifetime: 365 * 24 * time.Hour,
	}, now)
	if err != nil {
		return nil, err
	}
	frontProxyCert, frontProxyKey, err := ca.Issue(pki.Leaf{
		CommonName: frontProxyClientName, Lifetime: 365 * 24 * time.Hour,
	}, now)
	if err != nil {
		return nil, err
	}
	if err := writeFiles(map[string][]byte{
		m.kwokCert: kwokCert, m.kwokKey: kwokKey, m.kwokConfig: kwokMetricsConfig,
		m.servingCert: servingCert, m.servingKey: servingKey,
		m.frontProxyCert: frontProxyCert, m.frontProxyKey: frontProxyKey,
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// apiServerArgs turn on the aggregation layer: the API server forwards
// metrics.k8s.io to metrics-server with the front-proxy certificate and the
// caller's identity in headers, which metrics-server trusts from that
// certificate only (it reads these flags back from the
// extension-apiserver-authentication ConfigMap).
func (m *metricsPipeline) apiServerArgs(caFile string) []string {
	return []string{
		"--requestheader-client-ca-file=" + caFile,
		"--requestheader-allowed-names=" + frontProxyClientName,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + m.frontProxyCert,
		"--proxy-client-key-file=" + m.frontProxyKey,
	}
}

// kwokArgs make kwok, serving on port, a kubelet metrics-server can scrape:
// its server speaks TLS with a certificate of the cluster's CA, and every
// node's status gives 127.0.0.1 and that port as the kubelet's address.
func (m *metricsPipeline) kwokArgs(port int) []string {
	m.kwokPort = port
	return []string{
		"--node-ip=127.0.0.1",
		"--node-port=" + strconv.Itoa(m.kwokPort),
		"--tls-cert-file=" + m.kwokCert, "--tls-private-key-file=" + m.kwokKey,
		"--config=" + m.kwokConfig,
	}
}

func (m *metricsPipeline) metricsServerArgs(kubeconfig, caFile string) []string {
	return []string{
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(m.port),
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig,
		"--tls-cert-file=" + m.servingCert, "--tls-private-key-file=" + m.servingKey,
		// A node's kubelet is kwok at the node's InternalIP and status port,
		// and its certificate is checked against the cluster's CA.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-use-node-status-port",
		"--kubelet-certificate-authority=" + caFile,
		"--metric-resolution=" + metricsResolution.String(),
		// It must be shorter than the resolution; kwok answers in milliseconds.
		"--kubelet-request-timeout=5s",
	}
}

// startMetrics starts metrics-server once kwok serves every node's resource
// metrics, and registers it as metrics.k8s.io once it serves. Started
// earlier, its first scrape would find nodes without an address and a node
// would be listed a scrape later; registered earlier, the aggregated API
// would be unavailable for a while, and with it discovery, which stalls the
// namespace controller's deletions.
func (c *Cluster) startMetrics(ctx context.Context, kwok *process, nodes []Node, binary, logs string) error {
	m := c.metrics
	caFile := filepath.Join(c.Dir, "pki", "ca.crt")
	client, err := tlsClient(c.Config.CAData)
	if err != nil {
		return err
	}
	if err := c.waitKwokMetrics(ctx, m, nodes, kwok, client); err != nil {
		return err
	}
	proc, err := startProcess("metrics-server", binary, m.metricsServerArgs(c.Kubeconfig, caFile), logs)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, proc)
	m.proc = proc
	// Any answer on the secure port, over TLS checked against the CA, means
	// it serves: /livez answers before the first scrape.
	livez := "https://127.0.0.1:" + strconv.Itoa(m.port) + "/livez"
	if err := poll(ctx, 60*time.Second, proc, func() error {
		return get(ctx, client, livez, nil)
	}); err != nil {
		return fmt.Errorf("devcluster: metrics-server does not serve on %s: %w%s", livez, err, logTail(proc))
	}
	return c.registerMetricsServer(ctx, m.port)
}

// waitKwokMetrics waits until kwok has given every node its kubelet address
// and serves each node's resource metrics.
func (c *Cluster) waitKwokMetrics(ctx context.Context, m *metricsPipeline, nodes []Node, kwok *process, client *http.Client) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	err = poll(ctx, 60*time.Second, kwok, func() error {
		for _, n := range nodes {
			node, err := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !slices.Contains(node.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}) ||
				int(node.Status.DaemonEndpoints.KubeletEndpoint.Port) != m.kwokPort {
				return fmt.Errorf("node %s has no kubelet address 127.0.0.1:%d yet", n.Name, m.kwokPort)
			}
			url := "https://127.0.0.1:" + strconv.Itoa(m.kwokPort) + resourceMetricsPath(n.Name)
			if err := get(ctx, client, url, func(body []byte) error {
				if !strings.Contains(string(body), "node_memory_working_set_bytes") {
					return fmt.Errorf("%s serves no node_memory_working_set_bytes", url)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("devcluster: kwok does not serve the nodes' resource metrics: %w%s", err, logTail(kwok))
	}
	return nil
}

// registerMetricsServer makes the API server serve metrics.k8s.io from
// metrics-server. Applied, not created: a cluster started again in the same
// directory finds the objects with metrics-server's previous port.
func (c *Cluster) registerMetricsServer(ctx context.Context, port int) error {
	dc, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	service := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": metricsServerService, "namespace": metricsServerNamespace},
		"spec": map[string]any{
			// The aggregator dials <externalName>:<APIService port>, and
			// localhost is where metrics-server listens, on 127.0.0.1.
			"type":         string(corev1.ServiceTypeExternalName),
			"externalName": "localhost",
			"ports":        []any{map[string]any{"name": "https", "port": int64(port), "protocol": "TCP"}},
		},
	}}
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1beta1.metrics.k8s.io"},
		"spec": map[string]any{
			"group": "metrics.k8s.io", "version": "v1beta1",
			"groupPriorityMinimum": int64(100), "versionPriority": int64(100),
			"service": map[string]any{
				"name": metricsServerService, "namespace": metricsServerNamespace, "port": int64(port),
			},
			"caBundle": base64.StdEncoding.EncodeToString(c.Config.CAData),
		},
	}}
	apply := metav1.ApplyOptions{FieldManager: "bulkhead-devcluster", Force: true}
	if _, err := dc.Resource(schema.GroupVersionResource{Version: "v1", Resource: "services"}).
		Namespace(metricsServerNamespace).Apply(ctx, metricsServerService, service, apply); err != nil {
		return fmt.Errorf("applying Service %s/%s: %w", metricsServerNamespace, metricsServerService, err)
	}
	if _, err := dc.Resource(schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}).
		Apply(ctx, apiService.GetName(), apiService, apply); err != nil {
		return fmt.Errorf("applying APIService %s: %w", apiService.GetName(), err)
	}
	return nil
}

// WaitMetrics waits until metrics.k8s.io lists every node with its usage,
// which takes metrics-server two scrapes: one resolution (ten seconds) after
// Start, or a little more. A pod is listed two scrapes after it runs. It
// fails at once for a cluster started without Options.Metrics.
func (c *Cluster) WaitMetrics(ctx context.Context) error {
	if c.metrics == nil || c.metrics.proc == nil {
		return errors.New("devcluster: metrics.k8s.io is not served: start the cluster with Options.Metrics")
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	c.metrics.fillKwokPodCache(ctx, c.Config.CAData, nodes.Items)
	const timeout = 90 * time.Second
	err = poll(ctx, timeout, c.metrics.proc, func() error {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/nodes").DoRaw(ctx)
		if err != nil {
			return err
		}
		var list struct {
			Items []struct {
				Metadata metav1.ObjectMeta   `json:"metadata"`
				Usage    corev1.ResourceList `json:"usage"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return fmt.Errorf("decoding NodeMetricsList: %w", err)
		}
		listed := map[string]bool{}
		for _, item := range list.Items {
			_, cpu := item.Usage[corev1.ResourceCPU]
			_, memory := item.Usage[corev1.ResourceMemory]
			listed[item.Metadata.Name] = cpu && memory
		}
		var missing []string
		for _, n := range nodes.Items {
			if !listed[n.Name] {
				missing = append(missing, n.Name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("no usage for nodes %s yet", strings.Join(missing, ", "))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("devcluster: metrics.k8s.io serves no usage for every node: %w%s", err, logTail(c.metrics.proc))
	}
	return nil
}

// fillKwokPodCache reads every node's resource metrics from kwok once. kwok
// fills the pod cache its metrics read from only when a read first finds a
// pod on a node, and that read reports none of the node's pods; were it
// metrics-server's, pods already running would be listed a scrape later.
// Errors are ignored: metrics-server's scrapes do the same a little later.
func (m *metricsPipeline) fillKwokPodCache(ctx context.Context, caPEM []byte, nodes []corev1.Node) {
	client, err := tlsClient(caPEM)
	if err != nil {
		return
	}
	for _, n := range nodes {
		_ = get(ctx, client, "https://127.0.0.1:"+strconv.Itoa(m.kwokPort)+resourceMetricsPath(n.Name), nil)
	}
}

// poll calls check until it succeeds, proc exits, ctx ends or timeout passes,
// and then returns check's last error.
func poll(ctx context.Context, timeout time.Duration, proc *process, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		if err := proc.failed(); err != nil {
			return err
		}
		last := check()
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// logTail is the end of p's log for an error, or nothing when p has exited:
// the error then says so, with the log.
func logTail(p *process) string {
	if p.failed() != nil {
		return ""
	}
	return "; " + p.name + "'s log:" + tail(p.logPath, 15)
}

// tlsClient trusts only the cluster's CA.
func tlsClient(caPEM []byte) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("devcluster: no certificate in the cluster's CA")
	}
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}, nil
}

// get fetches url; a non-nil check is given the body of a 200 answer and
// makes any other status an error, a nil one accepts any answer.
func get(ctx context.Context, client *http.Client, url string, check func(body []byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if check == nil {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return check(body)
}
