package reserved

import (
	"os"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"
	"sigs.k8s.io/yaml"
)

// keys is the one table both the Go predicates and their CEL twins answer.
var keys = []struct {
	key                                 string
	reserved, annotation, setByBulkhead bool
}{
	{key: "team"},
	{key: "kubernetes.io"}, // a name without prefix, however it reads
	{key: "example.com/team"},
	{key: "app/kubernetes.io"},
	{key: "kubernetes.io/metadata.name", reserved: true, annotation: true},
	{key: "k8s.io/anything", reserved: true, annotation: true},
	{key: "pod-security.kubernetes.io/enforce", reserved: true, annotation: true, setByBulkhead: true},
	{key: "pod-security.kubernetes.io/warn-version", reserved: true, annotation: true, setByBulkhead: true},
	{key: "POD-SECURITY.kubernetes.io/enforce", reserved: true, annotation: true, setByBulkhead: true},
	{key: "resource.kubernetes.io/admin-access", reserved: true, annotation: true},
	{key: "app.kubernetes.io/managed-by", reserved: true, annotation: true},
	{key: "scheduler.alpha.kubernetes.io/node-selector", reserved: true, annotation: true},
	{key: "node-restriction.kubernetes.io/pool", reserved: true, annotation: true},
	{key: "networking.k8s.io/anything", reserved: true, annotation: true},
	{key: "a.b.c.k8s.io/x", reserved: true, annotation: true},
	{key: "Kubernetes.IO/x", reserved: true, annotation: true},
	{key: "kubectl.kubernetes.io/last-applied-configuration", reserved: true},
	{key: "kubectl.kubernetes.io/restartedAt", reserved: true, annotation: true},
	{key: "tenancy.bulkhead.dev/tenant", reserved: true, annotation: true, setByBulkhead: true},
	{key: "tenancy.bulkhead.dev/tenant-quota", reserved: true, annotation: true, setByBulkhead: true},
	{key: "bulkhead.dev/x", reserved: true, annotation: true, setByBulkhead: true},
	{key: "proxy.bulkhead.dev/x", reserved: true, annotation: true, setByBulkhead: true},
	// Look-alikes outside the reserved domains.
	{key: "notkubernetes.io/x"},
	{key: "kubernetes.io.example.com/x"},
	{key: "k8s.io.evil/x"},
	{key: "evilbulkhead.dev/tenant"},
	{key: "example.com/pod-security.kubernetes.io/enforce"},
	{key: "example.com/kubernetes.io/x"},
	{key: "pod-security.kubernetes.io"},
	// Malformed keys the API server refuses later; both predicates must
	// still agree on them, since a mutating webhook sees them first.
	{key: "/x"},
	{key: ""},
	{key: ".kubernetes.io/x", reserved: true, annotation: true},
	{key: "kubernetes.io/a/b", reserved: true, annotation: true},
	// The Kelvin sign folds to "k" in Unicode but not in ASCII: both sides
	// must lower ASCII only.
	{key: "\u212Aubernetes.io/x"},
}

func TestKeyPredicates(t *testing.T) {
	for _, tc := range keys {
		if got := IsKey(tc.key); got != tc.reserved {
			t.Errorf("IsKey(%q) = %t, want %t", tc.key, got, tc.reserved)
		}
		if got := IsAnnotationKey(tc.key); got != tc.annotation {
			t.Errorf("IsAnnotationKey(%q) = %t, want %t", tc.key, got, tc.annotation)
		}
		if got := IsSetByBulkhead(tc.key); got != tc.setByBulkhead {
			t.Errorf("IsSetByBulkhead(%q) = %t, want %t", tc.key, got, tc.setByBulkhead)
		}
	}
}

// TestCELAgreesWithGo compiles each CEL twin in an environment with what
// the API server's has for it (the standard string extension, version 2)
// and evaluates it on the same table: the policies must refuse exactly what
// the webhook refuses.
func TestCELAgreesWithGo(t *testing.T) {
	env, err := cel.NewEnv(cel.Variable("k", cel.StringType), ext.Strings(ext.StringsVersion(2)))
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string]struct {
		expr string
		goFn func(string) bool
	}{
		"KeyCEL":           {KeyCEL("k"), IsKey},
		"AnnotationKeyCEL": {AnnotationKeyCEL("k"), IsAnnotationKey},
		"SetByBulkheadCEL": {SetByBulkheadCEL("k"), IsSetByBulkhead},
	} {
		ast, iss := env.Compile(pair.expr)
		if iss.Err() != nil {
			t.Fatalf("%s does not compile: %v\n%s", name, iss.Err(), pair.expr)
		}
		if ast.OutputType() != cel.BoolType {
			t.Fatalf("%s is of type %v, want bool", name, ast.OutputType())
		}
		prg, err := env.Program(ast)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range keys {
			out, _, err := prg.Eval(map[string]any{"k": tc.key})
			if err != nil {
				t.Fatalf("%s on %q: %v", name, tc.key, err)
			}
			if got, want := out.Value(), pair.goFn(tc.key); got != want {
				t.Errorf("%s(%q) = %v, but the Go predicate says %t", name, tc.key, got, want)
			}
		}
	}
}

// TestCELTakesAnyExpression: the twins wrap their argument, so an
// expression with operators of its own keeps its meaning.
func TestCELTakesAnyExpression(t *testing.T) {
	env, err := cel.NewEnv(cel.Variable("a", cel.StringType), cel.Variable("b", cel.StringType), ext.Strings(ext.StringsVersion(2)))
	if err != nil {
		t.Fatal(err)
	}
	ast, iss := env.Compile(KeyCEL("a + b"))
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := prg.Eval(map[string]any{"a": "resource.kubernetes.io/", "b": "admin-access"})
	if err != nil || out.Value() != true {
		t.Fatalf("KeyCEL(a + b) = %v, %v; want true", out, err)
	}
}

// TestTenantCRDRefusesBulkheadKeys: the Tenant CRD's rule on
// namespaces.labels and .annotations is SetByBulkheadCEL, so that a
// Tenant cannot ask Bulkhead to stamp keys Bulkhead alone decides.
func TestTenantCRDRefusesBulkheadKeys(t *testing.T) {
	crd, err := os.ReadFile("../../config/crd/bases/tenancy.bulkhead.dev_tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(crd, &doc); err != nil {
		t.Fatal(err)
	}
	want := "self.all(k, !" + SetByBulkheadCEL("k") + ")"
	if n := countRules(doc, want); n != 2 {
		t.Errorf("the Tenant CRD has %d rules %q, want 2 (namespaces.labels and .annotations); run make manifests after changing the markers", n, want)
	}
}

// countRules counts the validation rules equal to rule anywhere in doc.
func countRules(doc any, rule string) int {
	n := 0
	switch d := doc.(type) {
	case map[string]any:
		for k, v := range d {
			if s, ok := v.(string); ok && k == "rule" && s == rule {
				n++
			}
			n += countRules(v, rule)
		}
	case []any:
		for _, v := range d {
			n += countRules(v, rule)
		}
	}
	return n
}

func TestIsKubernetesNamespace(t *testing.T) {
	for name, want := range map[string]bool{"kube-system": true, "kube-": true, "kube": false, "kubeflow": false, "acme-kube-x": false} {
		if got := IsKubernetesNamespace(name); got != want {
			t.Errorf("IsKubernetesNamespace(%q) = %t, want %t", name, got, want)
		}
	}
}
