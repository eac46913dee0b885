package integration

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coredns/caddy/caddyfile"
	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/dns/probe"
	"github.com/bulkhead-dev/bulkhead/internal/dns/server"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// TestDNSInstallManifests dry-runs Bulkhead with the DNS component on the
// real API server, strictly validated, and checks that the component also
// points the manager's NetworkPolicies at bulkhead-dns.
func TestDNSInstallManifests(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "config", "samples", "with-dns")
	out, err := testenv.Kubectl(env.Cluster, "apply", "--server-side", "--dry-run=server", "--force-conflicts",
		"--field-manager=bulkhead-install", "--validate=strict", "-k", dir)
	if err != nil {
		t.Fatalf("kubectl apply --dry-run=server -k config/samples/with-dns: %v\n%s", err, out)
	}
	for _, want := range []string{
		"serviceaccount/bulkhead-dns", "clusterrole.rbac.authorization.k8s.io/bulkhead-dns",
		"clusterrolebinding.rbac.authorization.k8s.io/bulkhead-dns", "configmap/bulkhead-dns",
		"deployment.apps/bulkhead-dns", "service/bulkhead-dns", "deployment.apps/bulkhead-manager",
	} {
		if !strings.Contains(string(out), want+" serverside-applied (server dry run)") {
			t.Errorf("dry run output lacks %s:\n%s", want, out)
		}
	}
	rendered, err := testenv.Kubectl(env.Cluster, "kustomize", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"--dns-namespace=kube-system", "--dns-pod-labels=app.kubernetes.io/name=bulkhead-dns"} {
		if !strings.Contains(string(rendered), "- "+arg+"\n") {
			t.Errorf("the manager is not given %s", arg)
		}
	}
}

// TestDNSCorefileShipped: the Corefile in the manifests uses only plugins
// the binary has, and the tenant plugin.
func TestDNSCorefileShipped(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "components", "dns", "corefile.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict(raw, cm); err != nil {
		t.Fatal(err)
	}
	blocks, err := caddyfile.Parse("Corefile", strings.NewReader(cm.Data["Corefile"]), server.Directives)
	if err != nil {
		t.Fatalf("the shipped Corefile: %v", err)
	}
	if len(blocks) != 1 || blocks[0].Tokens["tenant"] == nil || blocks[0].Tokens["kubernetes"] == nil {
		t.Errorf("the shipped Corefile has no tenant and kubernetes plugins: %+v", blocks)
	}
}

// TestDNSServesWithItsRBAC runs bulkhead-dns as the ServiceAccount the
// manifests create, with exactly their ClusterRole, so that a verb or a
// resource missing from it fails here: its caches must sync and it must
// answer. The Corefile lists another zone than the kubernetes plugin's for
// tenant, and the tenant's namespace is hidden all the same: tenant scopes
// every zone the kubernetes plugin serves.
func TestDNSServesWithItsRBAC(t *testing.T) {
	rbac := filepath.Join(testenv.RepoRoot(), "config", "components", "dns", "rbac.yaml")
	if out, err := testenv.Kubectl(env.Cluster, "apply", "--server-side", "--field-manager=bulkhead-install", "-f", rbac); err != nil {
		t.Fatalf("applying the DNS RBAC: %v\n%s", err, out)
	}
	cfg, err := clientcmd.LoadFromFile(env.Cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, ai := range cfg.AuthInfos {
		ai.Impersonate = "system:serviceaccount:kube-system:bulkhead-dns"
		ai.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	port, err := devcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := server.Start(fmt.Sprintf(`.:%d {
    bind 127.0.0.1
    tenant example.invalid {
        kubeconfig %s
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s
        pods verified
    }
}
`, port, kubeconfig, kubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = inst.Stop() }()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dnsz-a", Labels: map[string]string{tenancyv1alpha1.TenantLabel: "dnsz"}}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	from := netip.MustParseAddr("127.3.0.1") // no pod's: it sees namespaces of no tenant only
	for name, want := range map[string]int{
		"kubernetes.default.svc.cluster.local.": dns.RcodeSuccess,
		"default.svc.cluster.local.":            dns.RcodeSuccess,
		"dnsz-a.svc.cluster.local.":             dns.RcodeNameError,
	} {
		testenv.Eventually(t, "bulkhead-dns answers "+name+" as its ServiceAccount", func() error {
			m, _, err := probe.Ask(from, fmt.Sprintf("127.0.0.1:%d", port), name, dns.TypeA)
			if err != nil {
				return err
			}
			if m.Rcode != want {
				return fmt.Errorf("answer %s %v, want %s", dns.RcodeToString[m.Rcode], m.Answer, dns.RcodeToString[want])
			}
			return nil
		})
	}
}
