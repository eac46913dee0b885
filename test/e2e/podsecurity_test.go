package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	psaapi "k8s.io/pod-security-admission/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestPodSecurityFixtures is an oracle nobody here wrote: the fixtures that
// ship with k8s.io/pod-security-admission. In a tenant at each level, every
// pod the fixtures say passes is admitted and every pod they say fails is
// refused, by Pod Security. The tenants are Soft with the level set
// explicitly: Bulkhead's Soft defaults touch no field Pod Security checks,
// so no fixture is repaired before it is judged (Hard's hostUsers default
// is tested in TestPodRules).
func TestPodSecurityFixtures(t *testing.T) {
	ctx := context.Background()
	root := fixtureRoot(t)
	pinned, err := psaapi.ParseVersion(env.Settings.PodSecurityVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []psaapi.Level{psaapi.LevelBaseline, psaapi.LevelRestricted} {
		t.Run(string(level), func(t *testing.T) {
			dir := fixtureDir(t, filepath.Join(root, string(level)), pinned)
			name := "psa-" + string(level)
			tn := testutil.Tenant(name).Owner(name + "-owner").Member(name + "-dev").Soft().
				SecurityLevel(tenancyv1alpha1.SecurityLevel(level)).Obj()
			ns := name + "-a"
			env.TenantWithNamespace(t, tn, ns)
			dev := env.As(name + "-dev")
			want := `violates PodSecurity "` + string(level) + ":" + env.Settings.PodSecurityVersion + `"`
			var passed, failed, invalid int
			for _, outcome := range []string{"pass", "fail"} {
				files, err := filepath.Glob(filepath.Join(dir, outcome, "*.yaml"))
				if err != nil || len(files) == 0 {
					t.Fatalf("no %s fixtures in %s: %v", outcome, dir, err)
				}
				for _, f := range files {
					pod := readFixture(t, f, ns)
					err := dev.Create(ctx, pod, client.DryRunAll)
					switch {
					case outcome == "pass" && err != nil:
						t.Errorf("%s/%s: a passing fixture was refused: %v", outcome, filepath.Base(f), err)
					case outcome == "fail" && err == nil:
						t.Errorf("%s/%s: a failing fixture was admitted", outcome, filepath.Base(f))
					case outcome == "fail" && apierrors.IsInvalid(err) && strings.Contains(err.Error(), "procMount"):
						// The API server's own validation, which runs before
						// any validating admission, refuses some fixtures first
						// (procMount Unmasked without a user namespace).
						invalid++
					case outcome == "fail" && !strings.Contains(err.Error(), want):
						t.Errorf("%s/%s: refused, but not by Pod Security %s: %v", outcome, filepath.Base(f), level, err)
					case outcome == "pass":
						passed++
					default:
						failed++
					}
				}
			}
			t.Logf("%s: %d passing fixtures admitted; of the failing, %d refused by Pod Security and %d invalid before admission (fixtures %s)",
				level, passed, failed, invalid, filepath.Base(dir))
			if failed == 0 || passed == 0 {
				t.Errorf("the oracle judged nothing")
			}
		})
	}
}

// fixtureRoot finds the fixtures in the module cache through the go tool.
func fixtureRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatalf("locating k8s.io/pod-security-admission: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "test", "testdata")
}

// fixtureDir picks the newest fixture version not newer than pinned: a
// version directory exists only where the checks changed.
func fixtureDir(t *testing.T, levelDir string, pinned psaapi.Version) string {
	t.Helper()
	entries, err := os.ReadDir(levelDir)
	if err != nil {
		t.Fatal(err)
	}
	best, bestDir := psaapi.Version{}, ""
	for _, e := range entries {
		v, err := psaapi.ParseVersion(e.Name())
		if err != nil || v.Older(best) || pinned.Older(v) {
			continue
		}
		best, bestDir = v, filepath.Join(levelDir, e.Name())
	}
	if bestDir == "" {
		t.Fatalf("no fixtures for %s in %s", pinned, levelDir)
	}
	return bestDir
}

func readFixture(t *testing.T, file, namespace string) *corev1.Pod {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{}
	if err := yaml.UnmarshalStrict(raw, pod); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	pod.Namespace = namespace
	pod.Name = strings.ReplaceAll(pod.Name, "_", "-")
	return pod
}
