// Command proxy measures what bulkhead-proxy costs a tenant's `kubectl get
// namespaces`: through the proxy (a plain list, to which the proxy adds the
// tenant selector, forwarded as the caller), against the same identity
// listing the same namespaces straight from the API server with that
// selector, in the same run on the same cluster. The caller is in many
// groups (one of them grants the tenant), the cluster holds many
// namespaces of many tenants, and the proxy runs as a process of its own,
// whose peak memory is printed. Both paths reach the same authorization
// webhook (the proxy's), whose answers the API server caches for a few
// seconds. It prints figures and writes them as JSON; it never passes or
// fails on time.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
	"github.com/bulkhead-dev/bulkhead/bench/internal/workers"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func main() {
	tenants := flag.Int("tenants", 1000, "Tenants in the cluster (the proxy indexes them all).")
	namespaces := flag.Int("namespaces", 5000, "Namespaces in the cluster, spread over the tenants.")
	own := flag.Int("own", 5, "Namespaces of the measured tenant among them.")
	groups := flag.Int("groups", 300, "Groups the caller is in; the last names it in the tenant.")
	requests := flag.Int("requests", 500, "Lists per path per run, one after another.")
	runs := flag.Int("runs", 3, "Runs; the median p50 and p99 are printed.")
	flag.Parse()
	if err := run(*tenants, *namespaces, *own, *groups, *requests, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

const (
	measured = "bench"
	robot    = "robot"
)

func run(tenants, namespaces, own, groups, requests, runs int) error {
	ctx := context.Background()
	cluster, err := devcluster.Start(ctx, devcluster.Options{TenantView: true})
	if err != nil {
		return err
	}
	defer cluster.Stop()
	admin, err := testenv.Prepare(ctx, cluster, render.DefaultSettings())
	if err != nil {
		return err
	}
	// Only the API server and the proxy matter here: no manager runs, so
	// Tenants and namespaces are written as they are.
	fmt.Printf("Creating %d Tenants and %d namespaces (%d of tenant %s)...\n", tenants, namespaces, own, measured)
	var callerGroups []string
	for i := 0; i < groups; i++ {
		callerGroups = append(callerGroups, fmt.Sprintf("team-%03d", i))
	}
	name := func(i int) string {
		if i == 0 {
			return measured
		}
		return fmt.Sprintf("t%04d", i)
	}
	if err := workers.Run(tenants, 8, func(i int) error {
		t := testutil.Tenant(name(i)).Owner(name(i) + "-owner").Group(name(i) + "-admins").Obj()
		if i == 0 {
			t = testutil.Tenant(measured).Owner("someone-else").Group(callerGroups[groups-1]).
				ServiceAccount(measured+"-ns-00000", robot).Obj()
		}
		return admin.Create(ctx, t)
	}); err != nil {
		return fmt.Errorf("creating Tenants: %w", err)
	}
	if err := workers.Run(namespaces, 8, func(i int) error {
		tenant := name(1 + i%max(tenants-1, 1))
		if i < own {
			tenant = measured
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-ns-%05d", tenant, i), Labels: map[string]string{tenancyv1alpha1.TenantLabel: tenant}}}
		return admin.Create(ctx, ns)
	}); err != nil {
		return fmt.Errorf("creating namespaces: %w", err)
	}

	port, err := devcluster.FreePort()
	if err != nil {
		return err
	}
	proc, err := testenv.StartProxyProcess(ctx, cluster, port)
	if err != nil {
		return err
	}
	defer func() { _ = proc.Process.Kill(); _, _ = proc.Process.Wait() }()

	const user = "bench-user"
	viaProxy, err := testenv.ProxyConfig(cluster, fmt.Sprintf("127.0.0.1:%d", port), user, callerGroups...)
	if err != nil {
		return err
	}
	direct, err := testenv.DirectConfig(cluster, user, callerGroups...)
	if err != nil {
		return err
	}
	// A service account of the tenant, with a token: the proxy forwards
	// the token rather than impersonate.
	if err := admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: measured + "-ns-00000", Name: robot}}); err != nil {
		return err
	}
	tokenDirect, err := testenv.TokenConfig(ctx, cluster, cluster.Config.Host, measured+"-ns-00000", robot, 3600)
	if err != nil {
		return err
	}
	tokenProxy := rest.CopyConfig(tokenDirect)
	tokenProxy.Host = viaProxy.Host
	selected := "/api/v1/namespaces?labelSelector=" + url.QueryEscape(tenancyv1alpha1.TenantLabel+"="+measured)
	paths := []struct {
		name string
		cfg  *rest.Config
		path string
	}{
		{"direct, by label selector", direct, selected},
		{"through bulkhead-proxy", viaProxy, "/api/v1/namespaces"},
		{"token: direct, by selector", tokenDirect, selected},
		{"token: through the proxy", tokenProxy, "/api/v1/namespaces"},
	}
	// Both must see exactly the tenant's namespaces before anything is timed.
	for _, p := range paths {
		n, err := count(ctx, p.cfg, p.path)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		if n != own {
			return fmt.Errorf("%s: %d namespaces; want %d", p.name, n, own)
		}
	}
	rep := report.New("proxy", map[string]any{"tenants": tenants, "namespaces": namespaces, "own": own, "groups": groups, "requests": requests, "runs": runs})
	fmt.Printf("\n`kubectl get ns` as a user in %d groups (a client certificate), and as a service account (a token), %d namespaces in the cluster, %d of its tenant; %d lists per run, %d runs, median:\n", groups, namespaces, own, requests, runs)
	fmt.Printf("%-28s %10s %10s\n", "path", "p50", "p99")
	results := make([][]float64, len(paths)) // p50, p99 per path
	for i, p := range paths {
		var cells []report.Latencies
		for r := 0; r < runs; r++ {
			l, err := measure(ctx, p.cfg, p.path, requests)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			cells = append(cells, l)
		}
		p50 := report.MedianOf(cells, func(l report.Latencies) float64 { return l.Quantile(0.5) })
		p99 := report.MedianOf(cells, func(l report.Latencies) float64 { return l.Quantile(0.99) })
		results[i] = []float64{p50, p99}
		fmt.Printf("%-28s %8.2fms %8.2fms\n", p.name, p50, p99)
		rep.Row("table", "latency", "path", p.name, "p50Ms", p50, "p99Ms", p99)
	}
	r50, r99 := results[1][0]/results[0][0], results[1][1]/results[0][1]
	fmt.Printf("%-28s %10.2f %10.2f   (goal: ≤ 1.2 at p99)\n", "proxy ÷ direct", r50, r99)
	t50, t99 := results[3][0]/results[2][0], results[3][1]/results[2][1]
	fmt.Printf("%-28s %10.2f %10.2f\n", "token: proxy ÷ direct", t50, t99)
	fmt.Printf("A client certificate's %d groups are impersonated one by one, and the API server authorizes each;\n", groups+1)
	fmt.Println("a token is forwarded as it came, so the API server authenticates the caller itself.")
	rep.Row("table", "summary", "kind", "token", "p50Ratio", t50, "p99Ratio", t99)
	rss, err := report.PeakRSS(proc.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("\nbulkhead-proxy peak RSS with %d Tenants indexed: %.1f MiB\n", tenants, float64(rss)/(1<<20))
	rep.Row("table", "summary", "p50Ratio", r50, "p99Ratio", r99, "proxyPeakRSSMiB", float64(rss)/(1<<20))
	path, err := rep.Write()
	if err != nil {
		return err
	}
	fmt.Println("\nwrote", path)
	return nil
}

// measure sends n GETs of path through cfg, one after another, as kubectl
// get does (asking for a table).
func measure(ctx context.Context, cfg *rest.Config, path string, n int) (report.Latencies, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	out := make(report.Latencies, 0, n)
	for i := 0; i < n; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+path, nil)
		req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// count lists path through cfg and counts the namespaces.
func count(ctx context.Context, cfg *rest.Config, path string) (int, error) {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return 0, err
	}
	list := &corev1.NamespaceList{}
	opts := []client.ListOption{}
	if _, sel, ok := strings.Cut(path, "labelSelector="); ok {
		raw, _ := url.QueryUnescape(sel)
		opts = append(opts, client.MatchingLabels{tenancyv1alpha1.TenantLabel: strings.TrimPrefix(raw, tenancyv1alpha1.TenantLabel+"=")})
	}
	if err := c.List(ctx, list, opts...); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}
