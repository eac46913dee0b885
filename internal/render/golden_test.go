package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the code")

// TestPoliciesGolden keeps the compiled admission policies, with the
// default settings, in testdata/policies.golden.yaml, so that a change to a
// rule shows in review as the CEL the API server will run. After changing
// the compiler: go test ./internal/render -run TestPoliciesGolden -update
func TestPoliciesGolden(t *testing.T) {
	var out bytes.Buffer
	for _, obj := range Policies(DefaultSettings()) {
		gvk, err := apiutil.GVKForObject(obj, clientgoscheme.Scheme)
		if err != nil {
			t.Fatal(err)
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		u["apiVersion"], u["kind"] = gvk.GroupVersion().String(), gvk.Kind
		// The API server writes these; they are not the compiler's.
		delete(u, "status")
		unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
		b, err := yaml.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	path := filepath.Join("testdata", "policies.golden.yaml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s (run with -update to write it): %v", path, err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("compiled policies differ from %s; if the change is meant, rerun with -update and review the diff (-golden +code):\n%s", path, diff)
	}
}
