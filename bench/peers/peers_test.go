package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// renderedSample is a shortened rendering of Capsule's chart: a hook, a
// Service, a CRD, the Deployment and objects to install.
const renderedSample = `---
# Source: capsule/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: capsule
  namespace: capsule-system
---
# Source: capsule/templates/webhook-service.yaml
apiVersion: v1
kind: Service
metadata:
  name: capsule-webhook-service
---
# Source: capsule/templates/hooks/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: capsule-post-install
  annotations:
    helm.sh/hook: post-install
---
# Source: capsule/templates/crds.tpl
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: tenants.capsule.clastix.io
spec:
  group: capsule.clastix.io
  names: {kind: Tenant, plural: tenants}
  scope: Cluster
---
# Source: capsule/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: capsule-controller-manager
spec:
  template:
    spec:
      serviceAccountName: capsule
      containers:
      - name: manager
        args: [--webhook-port=9443, --workers=1]
        env:
        - name: NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        - name: SERVICE_ACCOUNT
          valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}
        - name: PLAIN
          value: "yes"
`

func TestParseChart(t *testing.T) {
	r, err := parseChart([]byte(renderedSample))
	if err != nil {
		t.Fatal(err)
	}
	var installed []string
	for _, u := range r.objects {
		installed = append(installed, u.GetKind()+"/"+u.GetName())
	}
	if diff := cmp.Diff([]string{"ServiceAccount/capsule"}, installed); diff != "" {
		t.Errorf("installed objects (-want +got):\n%s", diff)
	}
	if len(r.crds) != 1 || r.crds[0].Name != "tenants.capsule.clastix.io" {
		t.Errorf("CRDs: got %d, want tenants.capsule.clastix.io alone", len(r.crds))
	}
	if diff := cmp.Diff([]string{"--webhook-port=9443", "--workers=1"}, r.manager.Args); diff != "" {
		t.Errorf("manager args (-want +got):\n%s", diff)
	}
	wantSkipped := map[string]int{"Service": 1, "Job (hook)": 1, "Deployment (run as a process)": 1}
	if diff := cmp.Diff(wantSkipped, r.skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	env, err := containerEnv(r.manager, r.serviceAccount)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"NAMESPACE=capsule-system", "SERVICE_ACCOUNT=capsule", "PLAIN=yes"}, env); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

func TestParseChartWantsOneDeployment(t *testing.T) {
	manifests := strings.Replace(renderedSample, "kind: Deployment", "kind: StatefulSet", 1)
	_, err := parseChart([]byte(manifests))
	if err == nil || !strings.Contains(err.Error(), "rendered 0 Deployments") {
		t.Errorf("got %v, want an error saying no Deployment was rendered", err)
	}
}

func TestContainerEnvRefusesUnknownSources(t *testing.T) {
	ctr := corev1.Container{Env: []corev1.EnvVar{{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}}}
	_, err := containerEnv(ctr, "capsule")
	if err == nil || !strings.Contains(err.Error(), "POD_IP") {
		t.Errorf("got %v, want an error naming POD_IP", err)
	}
}

func TestRequiredVersion(t *testing.T) {
	gomod := filepath.Join(t.TempDir(), "go.mod")
	content := "module example.com/m\n\ngo 1.26\n\nrequire example.com/direct v1.2.3\n\nrequire (\n\tgithub.com/projectcapsule/capsule v0.14.0 // indirect\n)\n"
	if err := os.WriteFile(gomod, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"github.com/projectcapsule/capsule", "v0.14.0"},
		{"example.com/direct", "v1.2.3"},
	} {
		got, err := requiredVersion(gomod, tc.path)
		if err != nil || got != tc.want {
			t.Errorf("requiredVersion(%s) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
	if _, err := requiredVersion(gomod, "example.com/absent"); err == nil {
		t.Error("a module not required: got no error")
	}
}

func TestTallyCountsUpToWhatIsExpected(t *testing.T) {
	var got tally
	got.add("a", 3, 2, "RoleBinding in namespace a-ns0")
	got.add("a", 0, 1, "LimitRange in namespace a-ns0")
	got.add("b", 1, 1, "LimitRange in namespace b-ns0")
	if got.objects != 3 {
		t.Errorf("objects: got %d, want 3 (a surplus of one kind does not count for another)", got.objects)
	}
	if diff := cmp.Diff([]string{"1 of 1 LimitRange in namespace a-ns0"}, got.missing); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a"}, got.incomplete); diff != "" {
		t.Errorf("incomplete tenants (-want +got):\n%s", diff)
	}
}

func TestExpectationTotal(t *testing.T) {
	e := expectation{
		perNamespace: map[schema.GroupVersionKind]int{roleBindingKind: 2, networkPolicyKind: 2},
		perTenant:    map[schema.GroupVersionKind]int{{Kind: "ClusterRoleBinding"}: 1},
	}
	if got := e.total(workloadTenants(3)); got != 3*(1+2*4) {
		t.Errorf("total: got %d, want %d", got, 3*(1+2*4))
	}
}

func TestRefusalReasonsLeaveNamesOut(t *testing.T) {
	r := newRefusals()
	for _, tn := range workloadTenants(2) {
		r.add(tn, errors.New(`namespaces is forbidden: User "`+tn.owner+`" cannot create namespace `+tn.namespaces[0]))
	}
	want := map[string]int64{`namespaces is forbidden: User "<owner>" cannot create namespace <tenant>-ns0`: 2}
	if diff := cmp.Diff(want, r.reasons()); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if r.count() != 2 || !strings.Contains(r.lastFor("t0001"), "owner-0001") {
		t.Errorf("count %d, last for t0001 %q: want 2 and the message naming owner-0001", r.count(), r.lastFor("t0001"))
	}
}

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{args: nil},
		{args: []string{"-n", "5,10", "-clients", "", "-systems", "bulkhead"}},
		{args: []string{"-n", "0"}, wantErr: "bad count"},
		{args: []string{"-systems", "kiosk"}, wantErr: "unknown system"},
		{args: []string{"extra"}, wantErr: "unexpected arguments"},
	} {
		_, err := parseOptions(tc.args, &strings.Builder{})
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("parseOptions(%q) = %v; want an error containing %q", tc.args, err, tc.wantErr)
		}
	}
}

func TestBothSystemsCountTheSameKindsOfObjects(t *testing.T) {
	bh, err := bulkheadExpected()
	if err != nil {
		t.Fatal(err)
	}
	hard, err := renderHard()
	if err != nil {
		t.Fatal(err)
	}
	cp := (&capsuleSystem{hard: hard}).Expected()
	wantBulkhead := map[schema.GroupVersionKind]int{roleBindingKind: 1, resourceQuotaKind: 1, limitRangeKind: 1, networkPolicyKind: 2}
	if diff := cmp.Diff(wantBulkhead, bh.perNamespace); diff != "" {
		t.Errorf("Bulkhead per namespace (-want +got):\n%s", diff)
	}
	if n := len(bh.perTenant); n != 1 {
		t.Errorf("Bulkhead per tenant: %d kinds, want the ClusterRoleBinding alone", n)
	}
	wantCapsule := map[schema.GroupVersionKind]int{roleBindingKind: 2, resourceQuotaKind: 1, limitRangeKind: 1, networkPolicyKind: 2}
	if diff := cmp.Diff(wantCapsule, cp.perNamespace); diff != "" {
		t.Errorf("Capsule per namespace (-want +got):\n%s", diff)
	}
}

func TestCapsuleTenantDeclaresWhatBulkheadRenders(t *testing.T) {
	hard, err := renderHard()
	if err != nil {
		t.Fatal(err)
	}
	obj, err := (&capsuleSystem{hard: hard}).Tenant(workloadTenants(1)[0])
	if err != nil {
		t.Fatal(err)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		t.Fatalf("got %T, want an unstructured Tenant", obj)
	}
	scope, _, _ := unstructured.NestedString(u.Object, "spec", "resourceQuotas", "scope")
	quotas, _, _ := unstructured.NestedSlice(u.Object, "spec", "resourceQuotas", "items")
	if scope != "Namespace" || len(quotas) != 1 {
		t.Errorf("resourceQuotas: got scope %q and %d items, want one item scoped per namespace", scope, len(quotas))
	}
	if policies, _, _ := unstructured.NestedSlice(u.Object, "spec", "networkPolicies", "items"); len(policies) != 2 {
		t.Errorf("networkPolicies: got %d items, want Bulkhead's ingress and egress", len(policies))
	}
	labels, _, _ := unstructured.NestedStringMap(u.Object, "spec", "namespaceOptions", "additionalMetadata", "labels")
	if labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace labels: got %v, want Pod Security restricted enforced", labels)
	}
	owners, _, _ := unstructured.NestedSlice(u.Object, "spec", "owners")
	want := []any{map[string]any{"kind": "User", "name": "owner-0000"}}
	if diff := cmp.Diff(want, owners); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}
}
