// Command demo starts a dev cluster with three kwok nodes, runs
// bulkhead-manager on it, creates two tenants and shows, call by call, what
// each identity may and may not do. `demo down` stops it all.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/cli"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/dns/probe"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

const dir = ".dev"

func main() {
	var err error
	switch {
	case len(os.Args) == 2 && os.Args[1] == "up":
		err = up(context.Background(), os.Stdout)
	case len(os.Args) == 2 && os.Args[1] == "down":
		err = down(os.Stdout)
	default:
		err = errors.New("usage: demo up|down")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func down(out io.Writer) error {
	stopped, err := devcluster.StopDir(dir)
	if err != nil {
		return err
	}
	if len(stopped) == 0 {
		fmt.Fprintln(out, "Nothing was running.")
		return nil
	}
	fmt.Fprintf(out, "Stopped %s.\n", strings.Join(stopped, ", "))
	return os.RemoveAll(dir)
}

func up(ctx context.Context, out io.Writer) error {
	if err := down(io.Discard); err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintln(out, "Starting the dev cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok with 3 nodes)...")
	o := devcluster.Full(dir, 3)
	o.TenantView = true
	o.Metrics = true
	cluster, err := devcluster.Start(ctx, o)
	if err != nil {
		return err
	}
	admin, err := testenv.Prepare(ctx, cluster, render.DefaultSettings())
	if err != nil {
		return err
	}
	if err := startManager(cluster); err != nil {
		return err
	}

	fmt.Fprintln(out, "Creating tenants acme (Soft; owner alice, member bob; 2 pods and 1 Service tenant-wide) and globex (Hard; owner carol)...")
	acme := testutil.Tenant("acme").Soft().Owner("alice").Member("bob").
		TenantQuota(corev1.ResourceList{corev1.ResourcePods: resource.MustParse("2"), "count/services": resource.MustParse("1")}).Obj()
	globex := testutil.Tenant("globex").Hard().Owner("carol").Obj()
	// Both may attach routes to the platform's shared Gateway infra/public;
	// globex serves its own names only.
	shared := []tenancyv1alpha1.GatewayParent{{Namespace: "infra", Name: "public"}}
	acme.Spec.Gateway.Parents, globex.Spec.Gateway.Parents = shared, shared
	globex.Spec.Ingress.Hostnames = []string{"*.globex.example"}
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "infra"}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := admin.Create(ctx, testutil.Gateway("infra", "public", "platform", "*.example")); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the shared Gateway infra/public: %w", err)
	}
	for _, t := range []*tenancyv1alpha1.Tenant{acme, globex} {
		if err := admin.Create(ctx, t); err != nil {
			return fmt.Errorf("creating tenant %s: %w", t.Name, err)
		}
	}
	for _, name := range []string{"acme", "globex"} {
		if err := waitReady(ctx, admin, name); err != nil {
			return err
		}
	}

	as := func(user string) client.Client {
		c, err := client.New(cluster.Impersonate(user), client.Options{Scheme: setup.Scheme()})
		if err != nil {
			panic(err)
		}
		return c
	}
	// Usage is measured over time: start the workloads now, show them last.
	if err := startUsageWorkloads(ctx, out, admin, as); err != nil {
		return err
	}
	alice, bob, carol := as("alice"), as("bob"), as("carol")
	ns := func(name string, labels map[string]string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	}
	var rows []row
	try := func(who, what string, call func() error) error {
		err := call()
		rows = append(rows, row{who: who, what: what, err: err})
		return err
	}
	// RBAC is eventually consistent: wait until the API server's authorizer
	// knows the bindings Bulkhead wrote before trying what they allow.
	for _, who := range []client.Client{alice, carol} {
		if err := waitAllowed(ctx, who, "create", "namespaces", ""); err != nil {
			return err
		}
	}
	if err := try("alice (acme owner)", "kubectl create namespace acme-dev", func() error { return alice.Create(ctx, ns("acme-dev", nil)) }); err != nil {
		return err
	}
	if err := try("carol (globex owner)", "kubectl create namespace globex-prod", func() error { return carol.Create(ctx, ns("globex-prod", nil)) }); err != nil {
		return err
	}
	if err := waitFor(ctx, admin, "globex-prod", render.QuotaName, &corev1.ResourceQuota{}); err != nil {
		return err
	}
	if err := waitAllowed(ctx, bob, "create", "configmaps", "acme-dev"); err != nil {
		return err
	}
	if err := waitFor(ctx, admin, "globex-prod", "default", &corev1.ServiceAccount{}); err != nil {
		return err
	}
	_ = try("alice (acme owner)", "create namespace dev (no acme- prefix)", func() error { return alice.Create(ctx, ns("dev", nil)) })
	_ = try("alice (acme owner)", "create namespace labelled for globex", func() error {
		return alice.Create(ctx, ns("globex-mine", map[string]string{tenancyv1alpha1.TenantLabel: "globex"}))
	})
	_ = try("alice (acme owner)", "create namespace with DRA admin access", func() error {
		return alice.Create(ctx, ns("acme-ops", map[string]string{"resource.kubernetes.io/admin-access": "true"}))
	})
	_ = try("bob (acme member)", "create namespace acme-bob", func() error { return bob.Create(ctx, ns("acme-bob", nil)) })
	_ = try("bob (acme member)", "create ConfigMap in acme-dev", func() error {
		return bob.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "acme-dev"}})
	})
	_ = try("bob (acme member)", "list Secrets in globex-prod", func() error {
		return bob.List(ctx, &corev1.SecretList{}, client.InNamespace("globex-prod"))
	})
	_ = try("alice (acme owner)", "delete namespace globex-prod", func() error { return alice.Delete(ctx, ns("globex-prod", nil)) })
	_ = try("carol (globex owner)", "raise pods in her ResourceQuota", func() error {
		q := &corev1.ResourceQuota{}
		if err := carol.Get(ctx, client.ObjectKey{Namespace: "globex-prod", Name: render.QuotaName}, q); err != nil {
			return err
		}
		q.Spec.Hard[corev1.ResourcePods] = resource.MustParse("1000")
		return carol.Update(ctx, q)
	})
	_ = try("carol (globex owner)", "run a privileged pod in globex-prod", func() error {
		return carol.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "root", Namespace: "globex-prod"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/app",
				SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}},
		})
	})
	_ = try("carol (globex owner)", "remove the tenant label from globex-prod", func() error {
		return carol.Patch(ctx, ns("globex-prod", nil), client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"tenancy.bulkhead.dev/tenant":null}}}`)))
	})

	// Pods wait for a namespace's protections (its NetworkPolicies).
	for _, n := range []string{"globex-prod", "acme-dev"} {
		if err := waitProtected(ctx, admin, n); err != nil {
			return err
		}
	}
	if err := waitFor(ctx, admin, "acme-dev", "default", &corev1.ServiceAccount{}); err != nil {
		return err
	}
	const image = "registry.example/app:1"
	gpod := func(name string, edit ...func(*corev1.Pod)) *corev1.Pod {
		return testutil.Pod("globex-prod", name, image, edit...)
	}
	web := gpod("web")
	if try("carol (globex owner)", "run a pod in globex-prod", func() error { return carol.Create(ctx, web) }) == nil {
		rows[len(rows)-1].note = fmt.Sprintf("got runtimeClassName=%s, hostUsers=%t, automountServiceAccountToken=%t, imagePullPolicy=%s",
			ptr.Deref(web.Spec.RuntimeClassName, ""), ptr.Deref(web.Spec.HostUsers, true),
			ptr.Deref(web.Spec.AutomountServiceAccountToken, true), web.Spec.Containers[0].ImagePullPolicy)
	}
	_ = try("carol (globex owner)", "run a pod tolerating every taint", func() error {
		return carol.Create(ctx, gpod("anywhere", func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}} }))
	})
	_ = try("carol (globex owner)", "run a pod on node-1 by nodeName", func() error {
		return carol.Create(ctx, gpod("pinned", func(p *corev1.Pod) { p.Spec.NodeName = "node-1" }))
	})
	_ = try("carol (globex owner)", "run a pod with hostUsers: true", func() error {
		return carol.Create(ctx, gpod("hostusers", func(p *corev1.Pod) { p.Spec.HostUsers = ptr.To(true) }))
	})
	_ = try("carol (globex owner)", "keep other tenants' pods off her nodes", func() error {
		return carol.Create(ctx, gpod("steer", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey: corev1.LabelHostname, NamespaceSelector: &metav1.LabelSelector{}, LabelSelector: &metav1.LabelSelector{}}}}}
		}))
	})
	_ = try("carol (globex owner)", "a NetworkPolicy to the metadata address", func() error {
		return carol.Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "md", Namespace: "globex-prod"},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "169.254.169.254/32"}}}}}}})
	})
	_ = try("carol (globex owner)", "expose a NodePort Service", func() error {
		return carol.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "np", Namespace: "globex-prod"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}})
	})
	_ = try("carol (globex owner)", "a Service with externalIPs", func() error {
		return carol.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "eip", Namespace: "globex-prod"},
			Spec: corev1.ServiceSpec{ExternalIPs: []string{"10.0.0.10"}, Ports: []corev1.ServicePort{{Port: 80}}}})
	})
	_ = try("carol (globex owner)", "delete RoleBinding bulkhead-owners", func() error {
		return carol.Delete(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: render.OwnersBinding, Namespace: "globex-prod"}})
	})
	_ = try("carol (globex owner)", "Ingress for shop.globex.example", func() error {
		return carol.Create(ctx, demoIngress("globex-prod", "shop.globex.example"))
	})
	_ = try("alice (acme owner)", "Ingress for shop.globex.example", func() error {
		return alice.Create(ctx, demoIngress("acme-dev", "shop.globex.example"))
	})
	public := []gatewayv1.ParentReference{testutil.Parent("infra", "public", "")}
	_ = try("carol (globex owner)", "HTTPRoute for www.globex.example on infra/public", func() error {
		return carol.Create(ctx, testutil.HTTPRoute("globex-prod", "www", public, "www.globex.example"))
	})
	_ = try("alice (acme owner)", "HTTPRoute for www.globex.example on infra/public", func() error {
		return alice.Create(ctx, testutil.HTTPRoute("acme-dev", "www", public, "www.globex.example"))
	})
	_ = try("alice (acme owner)", "HTTPRoute without hostnames on infra/public (*.example)", func() error {
		return alice.Create(ctx, testutil.HTTPRoute("acme-dev", "all", public))
	})
	for _, name := range []string{"site", "api"} {
		_ = try("bob (acme member)", fmt.Sprintf("create Service %s in acme-dev (tenant-wide count/services: 1)", name), func() error {
			return bob.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "acme-dev"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
		})
	}
	// The platform's pull secret, copied into every tenant namespace.
	if err := shareSecret(ctx, admin); err != nil {
		return err
	}
	_ = try("carol (globex owner)", "read the copied Secret registry-pull", func() error {
		return carol.Get(ctx, client.ObjectKey{Namespace: "globex-prod", Name: "registry-pull"}, &corev1.Secret{})
	})
	_ = try("carol (globex owner)", "edit the copied Secret registry-pull", func() error {
		return carol.Patch(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "registry-pull", Namespace: "globex-prod"}},
			client.RawPatch("application/merge-patch+json", []byte(`{"stringData":{"token":"mine"}}`)))
	})
	_ = try("carol (globex owner)", "read Secret registry-pull in infra", func() error {
		return carol.Get(ctx, client.ObjectKey{Namespace: "infra", Name: "registry-pull"}, &corev1.Secret{})
	})
	for i := 1; i <= 3; i++ {
		_ = try("bob (acme member)", fmt.Sprintf("run pod %d of acme (tenant-wide limit: 2)", i), func() error {
			return bob.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("job-%d", i), Namespace: "acme-dev"},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}}})
		})
	}
	// An admin freezes globex: what runs keeps running, nothing new starts.
	if err := admin.Patch(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "globex"}},
		client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"state":"Frozen"}}`))); err != nil {
		return fmt.Errorf("freezing globex: %w", err)
	}
	if err := waitFrozen(ctx, admin, "globex-prod", image, true); err != nil {
		return err
	}
	_ = try("carol (globex owner)", "run a pod while globex is Frozen", func() error { return carol.Create(ctx, gpod("frozen")) })
	_ = try("carol (globex owner)", "create namespace globex-more while Frozen", func() error { return carol.Create(ctx, ns("globex-more", nil)) })
	if err := admin.Patch(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "globex"}},
		client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"state":"Active"}}`))); err != nil {
		return fmt.Errorf("unfreezing globex: %w", err)
	}
	if err := waitFrozen(ctx, admin, "globex-prod", image, false); err != nil {
		return err
	}

	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "WHO\tTRIED\tRESULT\tWHY")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.who, r.what, r.result(), r.why())
	}
	_ = w.Flush()
	if err := showFairness(ctx, out, cluster, admin); err != nil {
		return err
	}
	if err := showAudit(ctx, out, cluster); err != nil {
		return err
	}
	showPosture(ctx, out, cluster)
	if err := showProxy(ctx, out, cluster); err != nil {
		return err
	}
	dnsServer, err := showDNS(ctx, out, cluster, admin)
	if err != nil {
		return err
	}
	if err := showUsage(ctx, out, admin); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThe dev cluster is running (ready in %s). Try:\n", time.Since(start).Round(time.Second))
	// bin/ holds kubectl-bulkhead, which kubectl finds on PATH as a plugin.
	fmt.Fprintf(out, "  export KUBECONFIG=%s PATH=%s:$PWD/bin:$PATH\n", cluster.Kubeconfig, os.Getenv("BULKHEAD_K8S_BIN"))
	fmt.Fprintln(out, "  kubectl get tenants")
	fmt.Fprintln(out, "  kubectl bulkhead describe globex")
	fmt.Fprintln(out, "  kubectl top pods -n initech-web; kubectl bulkhead usage initech -o wide")
	fmt.Fprintf(out, "  KUBECONFIG=%s/kubeconfig-alice kubectl get ns,nodes,tenants    # as alice, through bulkhead-proxy\n", dir)
	fmt.Fprintln(out, "  kubectl --as alice create namespace acme-web")
	fmt.Fprintf(out, "  dig -b <a pod's IP> @127.0.0.1 -p %s web.globex-prod.svc.cluster.local    # bulkhead-dns, as that pod (dnsutils)\n", dnsServer)
	fmt.Fprintln(out, "Logs are in .dev/logs. Stop everything with: make demo-down")
	return nil
}

// showProxy starts bulkhead-proxy, writes a kubeconfig per demo user that
// points at it, and shows kubectl get namespaces for both owners side by
// side: each sees only its own.
func showProxy(ctx context.Context, out io.Writer, cluster *devcluster.Cluster) error {
	port, err := devcluster.FreePort()
	if err != nil {
		return err
	}
	cmd, err := testenv.StartProxyProcess(ctx, cluster, port)
	if err != nil {
		return err
	}
	if err := devcluster.AddPID(dir, "bulkhead-proxy", cmd.Process.Pid); err != nil {
		return err
	}
	server := "https://127.0.0.1:" + strconv.Itoa(port)
	kubectl := filepath.Join(os.Getenv("BULKHEAD_K8S_BIN"), "kubectl")
	var columns [][]string
	for _, user := range []string{"alice", "bob", "carol"} {
		path := filepath.Join(dir, "kubeconfig-"+user)
		if err := cluster.WriteUserKubeconfig(path, server, user); err != nil {
			return err
		}
		if user == "bob" {
			continue
		}
		got, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", path, "get", "namespaces").CombinedOutput()
		if err != nil {
			return fmt.Errorf("kubectl get namespaces as %s through bulkhead-proxy: %w: %s", user, err, got)
		}
		lines := append([]string{"$ KUBECONFIG=" + path + " kubectl get ns"}, strings.Split(strings.TrimSpace(string(got)), "\n")...)
		columns = append(columns, lines)
	}
	fmt.Fprintf(out, "\nbulkhead-proxy at %s; a kubeconfig per demo user (client certificates of the cluster's CA):\n", server)
	w := tabwriter.NewWriter(out, 0, 0, 4, ' ', 0)
	for i := 0; i < len(columns[0]) || i < len(columns[1]); i++ {
		cell := func(c []string) string {
			if i < len(c) {
				return c[i]
			}
			return ""
		}
		fmt.Fprintf(w, "  %s\t%s\n", cell(columns[0]), cell(columns[1]))
	}
	return w.Flush()
}

// showDNS starts bulkhead-dns on the dev cluster, gives each tenant a
// Service web, and asks for both as one of acme's pods, from the pod's own
// (loopback) IP: acme's name resolves; globex's gets the NXDOMAIN of a
// name that does not exist. It returns the server's port.
func showDNS(ctx context.Context, out io.Writer, cluster *devcluster.Cluster, admin client.Client) (string, error) {
	for _, ns := range []string{"acme-dev", "globex-prod"} {
		svc := testutil.Service(ns, "web", func(s *corev1.Service) { s.Spec.Selector = nil })
		if err := admin.Create(ctx, svc); err != nil {
			return "", fmt.Errorf("creating Service %s/web: %w", ns, err)
		}
	}
	port, err := devcluster.FreePort()
	if err != nil {
		return "", err
	}
	cmd, err := testenv.StartDNSProcess(cluster, "bulkhead-dns", testenv.DNSBlock(cluster.Kubeconfig, port, true), port)
	if err != nil {
		return "", err
	}
	if err := devcluster.AddPID(dir, "bulkhead-dns", cmd.Process.Pid); err != nil {
		return "", err
	}
	pod := &corev1.Pod{}
	if err := waitFor(ctx, admin, "acme-dev", "job-1", pod); err != nil {
		return "", err
	}
	var from netip.Addr
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if err := admin.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return "", err
		}
		if a, err := netip.ParseAddr(pod.Status.PodIP); err == nil {
			from = a
			break
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("pod acme-dev/job-1 has no IP after a minute")
		}
	}
	server := "127.0.0.1:" + strconv.Itoa(port)
	fmt.Fprintf(out, "\nbulkhead-dns at %s, asked as pod acme-dev/job-1 (from its IP %s):\n", server, from)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  NAME\tANSWER")
	for _, name := range []string{"web.acme-dev.svc.cluster.local.", "web.globex-prod.svc.cluster.local.", "web.no-such-ns.svc.cluster.local."} {
		m, _, err := probe.Ask(from, server, name, dns.TypeA)
		if err != nil {
			return "", err
		}
		answer := dns.RcodeToString[m.Rcode]
		for _, rr := range m.Answer {
			if a, ok := rr.(*dns.A); ok {
				answer += " " + a.A.String()
			}
		}
		fmt.Fprintf(w, "  %s\t%s\n", name, answer)
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	fmt.Fprintln(out, "  (globex's name and a namespace that does not exist get the same answer, byte for byte but the ID)")
	return strconv.Itoa(port), nil
}

// showAudit runs kubectl bulkhead audit as each owner: carol's report in
// full, alice's summary.
// showPosture prints kubectl bulkhead posture: is the dev cluster safe to
// share? A check that fails is shown, not hidden: the demo goes on.
func showPosture(ctx context.Context, out io.Writer, cluster *devcluster.Cluster) {
	fmt.Fprintf(out, "\n$ kubectl bulkhead posture\n")
	var buf bytes.Buffer
	cmd := cli.NewCommand(genericiooptions.IOStreams{Out: &buf, ErrOut: &buf})
	cmd.SetArgs([]string{"--kubeconfig", cluster.Kubeconfig, "posture"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(&buf, "posture: %v\n", err)
	}
	fmt.Fprint(out, buf.String())
}

func showAudit(ctx context.Context, out io.Writer, cluster *devcluster.Cluster) error {
	for _, o := range []struct {
		user string
		full bool
	}{{"carol", true}, {"alice", false}} {
		fmt.Fprintf(out, "\n$ kubectl bulkhead audit --as %s\n", o.user)
		var buf bytes.Buffer
		cmd := cli.NewCommand(genericiooptions.IOStreams{Out: &buf, ErrOut: &buf})
		cmd.SetArgs([]string{"--kubeconfig", cluster.Kubeconfig, "audit", "--as", o.user})
		err := cmd.ExecuteContext(ctx)
		report := buf.String()
		if !o.full {
			lines := strings.Split(strings.TrimSpace(report), "\n")
			report = lines[0] + "\n  ...\n" + lines[len(lines)-1] + "\n"
		}
		fmt.Fprint(out, report)
		if err != nil {
			return fmt.Errorf("audit as %s: %w", o.user, err)
		}
	}
	return nil
}

// showFairness prints how the API server's Priority and Fairness
// classifies each owner's requests: each tenant one flow of its own.
func showFairness(ctx context.Context, out io.Writer, cluster *devcluster.Cluster, admin client.Client) error {
	fmt.Fprintln(out, "\nAPI Priority and Fairness, as the API server classified each owner's requests:")
	for _, o := range []struct{ user, tenant string }{{"alice", "acme"}, {"carol", "globex"}} {
		cfg := cluster.Impersonate(o.user)
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			return err
		}
		want := render.FairnessFlowSchemaName(o.tenant)
		var got string
		// The API server follows FlowSchemas through a watch.
		for deadline := time.Now().Add(time.Minute); got != want && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if got, err = testenv.ClassifiedBy(ctx, hc, strings.TrimSuffix(cfg.Host, "/"), "/version", admin); err != nil {
				return err
			}
		}
		fs := &flowcontrolv1.FlowSchema{}
		if err := admin.Get(ctx, client.ObjectKey{Name: got}, fs); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %-6s -> FlowSchema %s -> priority level %s\n", o.user, got, fs.Spec.PriorityLevelConfiguration.Name)
	}
	return nil
}

type row struct {
	who, what string
	err       error
	note      string // said of an allowed attempt
}

func demoIngress(ns, host string) *networkingv1.Ingress {
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns}, Spec: networkingv1.IngressSpec{
		Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: backend}},
		}}}},
	}}
}

func (r row) result() string {
	if r.err == nil {
		return "allowed"
	}
	return "DENIED"
}

// why shortens a denial to what a reader of the table needs: the rule that
// refused it and the start of its reason.
func (r row) why() string {
	if r.err == nil {
		return r.note
	}
	msg := r.err.Error()
	for _, prefix := range []string{"denied the request: ", "denied request: "} {
		if i := strings.Index(msg, prefix); i >= 0 {
			msg = msg[i+len(prefix):]
		}
	}
	rule := ""
	if i := strings.Index(msg, " [rule "); i >= 0 {
		if j := strings.Index(msg[i:], "]"); j >= 0 {
			rule = msg[i+1 : i+j+1]
		}
		msg = msg[:i]
	}
	if len(msg) > 90 {
		msg = msg[:87] + "..."
	}
	if rule != "" {
		return rule + " " + msg
	}
	return msg
}

// startManager runs bin/bulkhead-manager on the cluster, where it keeps
// running after the demo exits; make demo-down stops it with the cluster.
func startManager(cluster *devcluster.Cluster) error {
	// Usage is sampled as often as metrics-server refreshes it, and
	// recommended from three samples, so that the demo's table fills in
	// within a minute (the defaults: every minute, from 30).
	m, err := testenv.StartManagerProcess(cluster, testenv.ManagerConfig{UsageSampleInterval: 5 * time.Second, RightsizingMinSamples: 3},
		testenv.ProcessOptions{ExtraArgs: []string{"--development"}})
	if err != nil {
		return err
	}
	return devcluster.AddPID(dir, "bulkhead-manager", m.Cmd.Process.Pid)
}

func waitReady(ctx context.Context, c client.Client, name string) error {
	deadline := time.Now().Add(60 * time.Second)
	t := &tenancyv1alpha1.Tenant{}
	for time.Now().Before(deadline) {
		if err := c.Get(ctx, client.ObjectKey{Name: name}, t); err == nil && meta.IsStatusConditionTrue(t.Status.Conditions, tenancyv1alpha1.ConditionReady) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("tenant %s not Ready after 60s; see .dev/logs/bulkhead-manager.log", name)
}

func waitFor(ctx context.Context, c client.Client, namespace, name string, obj client.Object) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s/%s did not appear in 60s; see .dev/logs", namespace, name)
}

// shareSecret has an admin mark the Secret infra/registry-pull as a source
// and copy it into every tenant's namespaces with a TenantResource, and
// waits for the copy in globex-prod.
func shareSecret(ctx context.Context, admin client.Client) error {
	src := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "registry-pull", Namespace: "infra",
			Labels: map[string]string{tenancyv1alpha1.CopyLabel: tenancyv1alpha1.CopySource}},
		StringData: map[string]string{"token": "platform"},
	}
	if err := admin.Create(ctx, src); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating infra/registry-pull: %w", err)
	}
	tr := testutil.TenantResource("registry").From(tenancyv1alpha1.CopiedSecret, "infra", "registry-pull").Obj()
	if err := admin.Create(ctx, tr); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating TenantResource registry: %w", err)
	}
	return waitFor(ctx, admin, "globex-prod", "registry-pull", &corev1.Secret{})
}

// waitProtected waits until namespace's TenantPolicy says its protections
// are in place, so that it takes pods.
// waitFrozen waits until namespace is frozen (want) or not as the API server
// judges it: a dry-run pod of image is refused by rule state, or admitted.
func waitFrozen(ctx context.Context, c client.Client, namespace, image string, want bool) error {
	deadline := time.Now().Add(60 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		err = c.Create(ctx, testutil.Pod(namespace, "freeze-probe", image), client.DryRunAll)
		frozen := err != nil && strings.Contains(err.Error(), "[rule state]")
		if frozen == want && (want || err == nil) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("namespace %s not frozen=%t after 60s (last: %w); see the Tenant's conditions and .dev/logs", namespace, want, err)
}

func waitProtected(ctx context.Context, c client.Client, namespace string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		p := &tenancyv1alpha1.TenantPolicy{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: tenancyv1alpha1.TenantPolicyName}, p); err == nil && p.Spec.Protected {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("namespace %s not protected after 60s; see the Tenant's conditions and .dev/logs", namespace)
}

// waitAllowed waits until c's identity may do verb on resource in namespace.
func waitAllowed(ctx context.Context, c client.Client, verb, resource, namespace string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: resource, Namespace: namespace},
		}}
		if err := c.Create(ctx, review); err == nil && review.Status.Allowed {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s %s was still not allowed after 60s; see .dev/logs/bulkhead-manager.log", verb, resource)
}
