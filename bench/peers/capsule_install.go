package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/pki"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// The chart's release, as `helm install capsule -n capsule-system` makes it.
const (
	capsuleRelease   = "capsule"
	capsuleNamespace = "capsule-system"
	// capsuleProbePort is where Capsule serves its health probes: its
	// main.go fixes it at :10080 whatever its flags, so only one Capsule
	// runs on a machine at a time.
	capsuleProbePort = 10080
)

// Start renders Capsule's chart for a manager reached at
// https://localhost:<port>, installs what the chart installs but the
// Deployment and the Services, and runs the manager as a process with the
// Deployment's arguments and environment, as the chart's ServiceAccount.
func (c *capsuleSystem) Start(ctx context.Context, cluster *devcluster.Cluster) (*running, error) {
	if err := checkPortFree(capsuleProbePort); err != nil {
		return nil, fmt.Errorf("capsule binds :%d for its health probes whatever its flags, and it is taken (is another Capsule running?): %w", capsuleProbePort, err)
	}
	admin, err := client.New(cluster.Config, client.Options{Scheme: setup.Scheme()})
	if err != nil {
		return nil, fmt.Errorf("admin client: %w", err)
	}
	port, err := devcluster.FreePort()
	if err != nil {
		return nil, fmt.Errorf("choosing Capsule's webhook port: %w", err)
	}
	certDir := filepath.Join(cluster.Dir, "capsule-webhook-certs")
	chart, err := c.prepare(cluster.Dir, certDir, port)
	if err != nil {
		return nil, err
	}
	if err := chart.install(ctx, cluster, admin); err != nil {
		return nil, err
	}
	p, err := c.run(cluster, chart, certDir)
	if err != nil {
		return nil, err
	}
	if err := testenv.WaitForTLS(port, time.Minute, nil, p.failed); err != nil {
		p.stop()
		return nil, fmt.Errorf("capsule's webhook server: %w", err)
	}
	return &running{admin: admin, pid: p.cmd.Process.Pid, log: p.log, failed: p.failed, stop: p.stop, installed: chart.summary()}, nil
}

// prepare writes the webhook's serving certificate into certDir and
// renders the chart for a webhook at port with its CA, in dir.
func (c *capsuleSystem) prepare(dir, certDir string, port int) (*renderedChart, error) {
	ca, err := writeServingCert(certDir)
	if err != nil {
		return nil, err
	}
	manifests, err := c.renderChart(dir, port, ca)
	if err != nil {
		return nil, err
	}
	return parseChart(manifests)
}

// writeServingCert writes a serving certificate for localhost and
// 127.0.0.1 into dir as tls.crt and tls.key, where controller-runtime's
// webhook server reads them, and returns the PEM of the CA that signed it.
func writeServingCert(dir string) ([]byte, error) {
	now := time.Now()
	ca, err := pki.NewCA("capsule-webhook-ca", now, 24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("making the CA of Capsule's webhook: %w", err)
	}
	cert, key, err := ca.Issue(pki.Leaf{CommonName: "capsule-webhook", Hosts: []string{"localhost", "127.0.0.1"}, Lifetime: 24 * time.Hour}, now)
	if err != nil {
		return nil, fmt.Errorf("issuing the serving certificate of Capsule's webhook: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	for name, data := range map[string][]byte{"tls.crt": cert, "tls.key": key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return ca.CertPEM, nil
}

// values are the chart values: the chart's defaults but for what running
// outside the cluster needs (webhooks and the CRDs' conversion webhook
// reached by URL with our CA; CRDs rendered inline rather than applied by a
// hook Job; no cert-manager, no TLS controller, no hook Jobs), leader
// election off (one process, as Bulkhead's manager runs here), and the
// tuning.
func (c *capsuleSystem) values(port int, ca []byte) map[string]any {
	options := map[string]any{"leaderElection": map[string]any{"enabled": false}}
	if c.tuning.workers > 0 {
		options["workers"] = c.tuning.workers
		options["clientConnectionQPS"] = c.tuning.qps
		options["clientConnectionBurst"] = c.tuning.burst
	}
	off := map[string]any{"enabled": false}
	return map[string]any{
		"crds":        map[string]any{"install": true, "inline": true},
		"certManager": map[string]any{"generateCertificates": false},
		"tls":         map[string]any{"enableController": false, "create": false},
		"global":      map[string]any{"jobs": map[string]any{"postInstall": off, "preDelete": off}},
		"webhooks": map[string]any{"service": map[string]any{
			"url":      "https://localhost:" + strconv.Itoa(port),
			"caBundle": base64.StdEncoding.EncodeToString(ca),
		}},
		"manager": map[string]any{"webhookPort": port, "options": options},
	}
}

// renderChart writes the values into dir and renders the chart with them.
func (c *capsuleSystem) renderChart(dir string, port int, ca []byte) ([]byte, error) {
	data, err := yaml.Marshal(c.values(port, ca))
	if err != nil {
		return nil, fmt.Errorf("encoding chart values: %w", err)
	}
	valuesFile := filepath.Join(dir, "capsule-values.yaml")
	if err := os.WriteFile(valuesFile, data, 0o600); err != nil {
		return nil, fmt.Errorf("writing %s: %w", valuesFile, err)
	}
	cmd := exec.Command(c.chartRenderer, "-chart", c.chartDir, "-values", valuesFile,
		"-release", capsuleRelease, "-namespace", capsuleNamespace,
		"-kube-version", filepath.Base(os.Getenv("BULKHEAD_K8S_BIN")), "-version", strings.TrimPrefix(c.version, "v"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("rendering Capsule's chart: %w: %s", err, stderr.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "capsule-chart.yaml"), out, 0o600); err != nil {
		return nil, fmt.Errorf("keeping the rendered chart: %w", err)
	}
	return out, nil
}

// renderedChart is what the chart renders, sorted for installing.
type renderedChart struct {
	crds    []*apiextensionsv1.CustomResourceDefinition
	objects []*unstructured.Unstructured
	// manager is the Deployment's manager container, which runs as a
	// process instead, with serviceAccount its pod's ServiceAccount.
	manager        corev1.Container
	serviceAccount string
	// skipped counts what is not installed, by kind.
	skipped map[string]int
}

// parseChart sorts the rendered manifests: CRDs, the Deployment's
// container, what is not needed outside a cluster (Services, which
// webhooks reached by URL do not use; hooks), and everything else.
func parseChart(manifests []byte) (*renderedChart, error) {
	docs, err := decodeManifests(manifests)
	if err != nil {
		return nil, err
	}
	r := &renderedChart{skipped: map[string]int{}}
	deployments := 0
	for _, u := range docs {
		switch {
		case u.GetAnnotations()["helm.sh/hook"] != "":
			r.skipped[u.GetKind()+" (hook)"]++
		case u.GetKind() == "Service":
			r.skipped[u.GetKind()]++
		case u.GetKind() == "CustomResourceDefinition":
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
				return nil, fmt.Errorf("decoding the CRD %s: %w", u.GetName(), err)
			}
			r.crds = append(r.crds, crd)
		case u.GetKind() == "Deployment":
			deployments++
			if err := r.takeManager(u); err != nil {
				return nil, err
			}
		default:
			r.objects = append(r.objects, u)
		}
	}
	if deployments != 1 {
		return nil, fmt.Errorf("the chart rendered %d Deployments; expected Capsule's manager alone", deployments)
	}
	return r, nil
}

// decodeManifests splits a YAML stream into objects, dropping empty documents.
func decodeManifests(manifests []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decoding the rendered chart: %w", err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// takeManager keeps the Deployment's one container and its ServiceAccount.
func (r *renderedChart) takeManager(u *unstructured.Unstructured) error {
	spec, found, err := unstructured.NestedMap(u.Object, "spec", "template", "spec")
	if err != nil {
		return fmt.Errorf("reading the pod spec of deployment %s: %w", u.GetName(), err)
	}
	if !found {
		return fmt.Errorf("deployment %s has no pod spec", u.GetName())
	}
	pod := &corev1.PodSpec{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(spec, pod); err != nil {
		return fmt.Errorf("deployment %s: %w", u.GetName(), err)
	}
	if len(pod.Containers) != 1 {
		return fmt.Errorf("deployment %s has %d containers; expected the manager alone", u.GetName(), len(pod.Containers))
	}
	r.manager, r.serviceAccount = pod.Containers[0], pod.ServiceAccountName
	r.skipped["Deployment (run as a process)"]++
	return nil
}

// install creates the release namespace, the CRDs (waiting until they are
// served) and every other object, as a cluster admin.
func (r *renderedChart) install(ctx context.Context, cluster *devcluster.Cluster, admin client.Client) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: capsuleNamespace}}
	if err := admin.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", capsuleNamespace, err)
	}
	if _, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{CRDs: r.crds, MaxTime: time.Minute}); err != nil {
		return fmt.Errorf("installing Capsule's CRDs: %w", err)
	}
	for _, u := range r.objects {
		if err := admin.Create(ctx, u); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s %s from Capsule's chart: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}

// summary says what was installed and what was not, by kind.
func (r *renderedChart) summary() string {
	installed := map[string]int{"CustomResourceDefinition": len(r.crds)}
	for _, u := range r.objects {
		installed[u.GetKind()]++
	}
	return "installed " + countKinds(installed) + "; not installed " + countKinds(r.skipped)
}

// countKinds prints counts by kind in the order of the kinds' names.
func countKinds(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

// run starts the manager with the container's arguments, plus the
// directory of its serving certificate (the chart mounts a Secret at the
// flag's default) and its metrics off (as Bulkhead's are here); its
// environment with the values the chart takes from the pod; and a
// kubeconfig that acts as the chart's ServiceAccount.
func (c *capsuleSystem) run(cluster *devcluster.Cluster, r *renderedChart, certDir string) (*process, error) {
	user := "system:serviceaccount:" + capsuleNamespace + ":" + r.serviceAccount
	kubeconfig := filepath.Join(cluster.Dir, "capsule.kubeconfig")
	if err := cluster.WriteImpersonatingKubeconfig(kubeconfig, user, "system:serviceaccounts", "system:serviceaccounts:"+capsuleNamespace); err != nil {
		return nil, fmt.Errorf("writing Capsule's kubeconfig: %w", err)
	}
	env, err := containerEnv(r.manager, r.serviceAccount)
	if err != nil {
		return nil, err
	}
	args := append(append([]string{}, r.manager.Args...), "--webhook-cert-path="+certDir, "--metrics-addr=0")
	args = append(args, c.extraArgs...)
	return startProcess(c.binary, args, append(env, "KUBECONFIG="+kubeconfig), filepath.Join(cluster.Dir, "logs", c.name+".log"))
}

// containerEnv resolves the container's environment as the kubelet would,
// for the downward-API fields the chart uses.
func containerEnv(ctr corev1.Container, serviceAccount string) ([]string, error) {
	var out []string
	for _, e := range ctr.Env {
		switch {
		case e.ValueFrom == nil:
			out = append(out, e.Name+"="+e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			out = append(out, e.Name+"="+capsuleNamespace)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.serviceAccountName":
			out = append(out, e.Name+"="+serviceAccount)
		default:
			return nil, fmt.Errorf("the chart's manager takes %s from a source this benchmark cannot provide", e.Name)
		}
	}
	return out, nil
}
