package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// The Helm chart (charts/bulkhead) against config/default: the same objects,
// so that neither install drifts from the other, and the chart applies to
// the API server as rendered.

// chartOwnedFlags are the manager flags the chart sets itself.
var chartOwnedFlags = []string{
	"cert-dir", "health-probe-bind-address", "kubeconfig", "leader-elect", "metrics-bind-address",
	"namespace", "webhook-client-ca-file", "webhook-port", "webhook-service", "webhook-url",
}

// helmTemplate renders the chart as release bulkhead into namespace, with
// the CRDs, setting each of sets.
func helmTemplate(t *testing.T, namespace string, sets ...string) []byte {
	t.Helper()
	helm := os.Getenv("BULKHEAD_HELM")
	if helm == "" {
		t.Fatal("BULKHEAD_HELM is empty: run the tests through make, which builds the pinned Helm into bin/tools")
	}
	args := []string{"template", "bulkhead", filepath.Join(testenv.RepoRoot(), "charts", "bulkhead"), "--namespace", namespace, "--include-crds"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := exec.Command(helm, args...).Output()
	if err != nil {
		var stderr []byte
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			stderr = exit.Stderr
		}
		t.Fatalf("helm %v: %v\n%s", args, err, stderr)
	}
	return out
}

// decodeAll splits a multi-document YAML stream into objects keyed by
// kind/name.
func decodeAll(t *testing.T, stream []byte) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	for {
		obj := map[string]any{}
		if err := dec.Decode(&obj); err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("decoding: %v", err)
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		out[u.GetKind()+"/"+u.GetName()] = u
	}
}

// comparable is what must agree between the two installs: everything but
// the chart's extra metadata labels.
func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "labels")
	unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
	// Round-trip through JSON so that numbers compare as numbers.
	b, _ := json.Marshal(c.Object)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// TestChartMatchesConfigDefault renders the chart with its default values
// and config/default with kustomize, and requires the same objects with
// the same content, metadata labels aside: the CRDs, the ClusterRole (its
// rules generated from the code), the Deployment (two replicas, leader
// election, the security context), the Service, the NetworkPolicy and the
// PodDisruptionBudget. config/default also creates the namespace; the
// chart installs into the release's.
func TestChartMatchesConfigDefault(t *testing.T) {
	chart := decodeAll(t, helmTemplate(t, "bulkhead-system"))
	kustomized, err := testenv.Kubectl(env.Cluster, "kustomize", filepath.Join(testenv.RepoRoot(), "config", "default"))
	if err != nil {
		t.Fatalf("kubectl kustomize config/default: %v\n%s", err, kustomized)
	}
	config := decodeAll(t, kustomized)
	delete(config, "Namespace/bulkhead-system")

	var chartKeys, configKeys []string
	for k := range chart {
		chartKeys = append(chartKeys, k)
	}
	for k := range config {
		configKeys = append(configKeys, k)
	}
	sort.Strings(chartKeys)
	sort.Strings(configKeys)
	if diff := cmp.Diff(configKeys, chartKeys); diff != "" {
		t.Fatalf("objects (-config/default +chart):\n%s", diff)
	}
	for _, k := range chartKeys {
		if diff := cmp.Diff(comparable(config[k]), comparable(chart[k])); diff != "" {
			t.Errorf("%s differs (-config/default +chart):\n%s", k, diff)
		}
		for key, value := range config[k].GetLabels() {
			if chart[k].GetLabels()[key] != value {
				t.Errorf("%s: the chart's labels %v lack %s=%s", k, chart[k].GetLabels(), key, value)
			}
		}
	}
	for _, k := range []string{"Deployment/bulkhead-manager", "PodDisruptionBudget/bulkhead-manager", "CustomResourceDefinition/tenants.tenancy.bulkhead.dev"} {
		if chart[k] == nil {
			t.Errorf("the chart renders no %s", k)
		}
	}
}

// TestChartValuesCoverEveryManagerFlag: values.yaml's flags are exactly the
// manager's flags the chart does not set itself, and a value given renders
// as the flag (the webhook client CA going away with
// insecure-webhook-any-client).
func TestChartValuesCoverEveryManagerFlag(t *testing.T) {
	bin, err := testenv.BuildManager(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(string(help), -1) {
		if !slices.Contains(chartOwnedFlags, m[1]) {
			flags = append(flags, m[1])
		}
	}
	if len(flags) < 10 {
		t.Fatalf("found only %v in bulkhead-manager --help:\n%s", flags, help)
	}
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "charts", "bulkhead", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Flags map[string]any `json:"flags"`
	}
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k, v := range values.Flags {
		keys = append(keys, k)
		if fmt.Sprint(v) != "" {
			t.Errorf("values.yaml sets flags.%s to %v: defaults are the manager's, keep it empty", k, v)
		}
	}
	sort.Strings(keys)
	sort.Strings(flags)
	if diff := cmp.Diff(flags, keys); diff != "" {
		t.Errorf("values.yaml flags (-bulkhead-manager --help +values.yaml):\n%s", diff)
	}

	set := decodeAll(t, helmTemplate(t, "bulkhead-system", "flags.kube-api-qps=100", "flags.insecure-webhook-any-client=true", "flags.system-namespaces=kube-system\\,infra"))
	d := &appsv1.Deployment{}
	if err := runtimeConvert(set["Deployment/bulkhead-manager"], d); err != nil {
		t.Fatal(err)
	}
	args := d.Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--kube-api-qps=100", "--insecure-webhook-any-client=true", "--system-namespaces=kube-system,infra", "--leader-elect", "--namespace=bulkhead-system"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %v lack %s", args, want)
		}
	}
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--webhook-client-ca-file") }) ||
		len(d.Spec.Template.Spec.Volumes) != 1 {
		t.Errorf("with insecure-webhook-any-client the chart still mounts the client CA: args %v, volumes %v", args, d.Spec.Template.Spec.Volumes)
	}
}

func runtimeConvert(u *unstructured.Unstructured, into any) error {
	if u == nil {
		return fmt.Errorf("not rendered")
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// TestChartApplies applies the rendered chart, with a webhook client CA
// and three replicas in the values, to the API server with server-side
// apply and strict field validation, and reads back what an operator
// relies on. It installs into bulkhead-system, as the dev cluster's
// installation does: the ClusterRoleBinding names the service account of
// the release's namespace, which the manager under test runs as.
func TestChartApplies(t *testing.T) {
	const ns = "bulkhead-system"
	rendered := helmTemplate(t, ns, "webhookClientCA=-----BEGIN CERTIFICATE-----", "replicaCount=3")
	file := filepath.Join(t.TempDir(), "chart.yaml")
	if err := os.WriteFile(file, rendered, 0o600); err != nil {
		t.Fatal(err)
	}
	// The objects config/default installs too: take them over.
	out, err := testenv.Kubectl(env.Cluster, "apply", "--server-side", "--force-conflicts", "--field-manager=bulkhead-helm", "--validate=strict", "-f", file)
	if err != nil {
		t.Fatalf("applying the rendered chart: %v\n%s", err, out)
	}
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bulkhead-manager"}, d); err != nil {
		t.Fatal(err)
	}
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	switch {
	case *d.Spec.Replicas != 3:
		t.Errorf("replicas %d, want 3 from the values", *d.Spec.Replicas)
	case pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot ||
		pod.SecurityContext.SeccompProfile == nil || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("pod security context %+v: want non-root, seccomp RuntimeDefault", pod.SecurityContext)
	case c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem ||
		c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation:
		t.Errorf("container security context %+v: want a read-only root filesystem and no privilege escalation", c.SecurityContext)
	case !slices.Contains(c.Args, "--namespace="+ns) || !slices.Contains(c.Args, "--leader-elect"):
		t.Errorf("args %v: want --namespace=%s and --leader-elect", c.Args, ns)
	}
	pdb := &policyv1.PodDisruptionBudget{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bulkhead-manager"}, pdb); err != nil {
		t.Fatal(err)
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget minAvailable %v, want 1", pdb.Spec.MinAvailable)
	}
	ca := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bulkhead-webhook-client-ca"}, ca); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ca.Data["ca.crt"], "BEGIN CERTIFICATE") {
		t.Errorf("webhook client CA ConfigMap holds %q", ca.Data["ca.crt"])
	}
}
