package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// renderCorpus is the seed corpus of render's FuzzRenderTenant, with the
// inputs fuzzing has saved there.
const renderCorpus = "internal/render/testdata/fuzz/FuzzRenderTenant"

// corpusTenant is one entry of the render corpus: a Tenant name and spec.
type corpusTenant struct {
	file string
	name string
	spec []byte
}

// readRenderCorpus reads the corpus files, written in the "go test fuzz v1"
// encoding: one Go literal per line, here string(name), []byte(spec) and
// []byte(settings). The settings are left out: the cluster's policies are
// rendered with the default settings the suite installed.
func readRenderCorpus(t *testing.T) []corpusTenant {
	t.Helper()
	dir := filepath.Join(testenv.RepoRoot(), renderCorpus)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading the render corpus: %v", err)
	}
	var out []corpusTenant
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if len(lines) < 3 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a go test fuzz v1 file", e.Name())
		}
		name, err := unquoteLiteral(lines[1], "string")
		if err != nil {
			t.Fatalf("%s: name: %v", e.Name(), err)
		}
		spec, err := unquoteLiteral(lines[2], "[]byte")
		if err != nil {
			t.Fatalf("%s: spec: %v", e.Name(), err)
		}
		out = append(out, corpusTenant{file: e.Name(), name: name, spec: []byte(spec)})
	}
	return out
}

func unquoteLiteral(line, typ string) (string, error) {
	inner, ok := strings.CutPrefix(line, typ+"(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return "", fmt.Errorf("want %s(...), got %q", typ, line)
	}
	return strconv.Unquote(strings.TrimSuffix(inner, ")"))
}

// TestFuzzCorpusRendersAcceptedObjects replays the render corpus on the API
// server: every Tenant the CRD accepts (a dry-run create succeeds) must
// render only objects the API server accepts too, each checked with a
// dry-run create into a namespace that exists. A Tenant the CRD refuses is
// the CRD's to refuse, and is only counted.
func TestFuzzCorpusRendersAcceptedObjects(t *testing.T) {
	corpus := readRenderCorpus(t)
	accepted, refused, checked := 0, 0, 0
	for i, entry := range corpus {
		t.Run(entry.file, func(t *testing.T) {
			tn := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: entry.name}}
			if err := json.Unmarshal(entry.spec, &tn.Spec); err != nil {
				refused++
				t.Logf("spec does not decode (%v): skipped", err)
				return
			}
			if err := env.Client.Create(ctx, tn, client.DryRunAll); err != nil {
				refused++
				t.Logf("refused at create, as the CRD or webhook may: %v", err)
				return
			}
			accepted++
			// A dry run leaves no Tenant, so its namespace is made for
			// real, outside any tenant: admission then judges the objects
			// as it judges any, and no tenant's rules stand in the way.
			ns := fmt.Sprintf("fuzzreplay-%d", i)
			if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating namespace %s: %v", ns, err)
			}
			t.Cleanup(func() { _ = env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}) })

			sc := render.NewScope(tn, []string{ns}, render.DefaultSettings())
			meta := render.Namespace(sc)
			stamped := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns + "-stamped", Labels: meta.Labels, Annotations: meta.Annotations}}
			if err := env.Client.Create(ctx, stamped, client.DryRunAll); err != nil {
				t.Errorf("namespace metadata of an accepted tenant refused: %v", err)
			}
			checked++
			var objs []client.Object
			objs = append(objs, render.RBAC(tn, []string{ns})...)
			objs = append(objs, render.Quota(sc)...)
			objs = append(objs, render.Network(sc, []string{"other"})...)
			objs = append(objs, render.TenantPolicies(sc, render.PolicyInputs{Protected: map[string]bool{ns: true}})...)
			for _, o := range objs {
				checked++
				if err := env.Client.Create(ctx, o, client.DryRunAll); err != nil {
					t.Errorf("%T %s/%s rendered for an accepted tenant was refused: %v", o, o.GetNamespace(), o.GetName(), err)
				}
			}
		})
	}
	t.Logf("render corpus: %d entries, %d tenants accepted by the CRD, %d refused, %d rendered objects checked", len(corpus), accepted, refused, checked)
	if accepted == 0 {
		t.Error("no corpus tenant was accepted: the replay checked nothing")
	}
}
