// Command dns measures bulkhead-dns: the queries per second it answers
// against the same binary without the tenant plugin (same cluster, same
// query mix, same client, one after the other in each run); a quiet
// tenant's latency while another tenant floods, against the same tenant
// with nobody flooding; and the memory of both servers once their caches
// hold a large cluster (Tenants, namespaces, Services, and pods that kwok
// runs with loopback IPs). Each server runs as a process of its own. It
// prints figures and writes them as JSON; it never passes or fails on
// time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
	"github.com/bulkhead-dev/bulkhead/bench/internal/workers"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/dns/probe"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

type params struct {
	tenants, namespaces, services, pods int
	runs, workers                       int
	measure                             time.Duration
	floodQPS                            []int
	flood                               time.Duration
	quietEvery                          time.Duration
}

func main() {
	var p params
	flag.IntVar(&p.tenants, "tenants", 1000, "Tenants in the cluster.")
	flag.IntVar(&p.namespaces, "namespaces", 3000, "Namespaces, spread over the tenants.")
	flag.IntVar(&p.services, "services", 10000, "Services, spread over the namespaces.")
	flag.IntVar(&p.pods, "pods", 30000, "Pods, spread over the namespaces; kwok runs them and gives each a loopback IP.")
	flag.IntVar(&p.runs, "runs", 4, "Runs of each measurement; medians are printed.")
	flag.IntVar(&p.workers, "workers", 4, "Queries in flight while measuring throughput.")
	flag.DurationVar(&p.measure, "measure", 5*time.Second, "How long each throughput run asks.")
	floodQPS := flag.String("flood-qps", "5000,20000", "Queries per second the flooding tenant sends (to loopback only), one fairness measurement each.")
	flag.DurationVar(&p.flood, "flood", 10*time.Second, "How long each flood (and each quiet run) lasts.")
	flag.DurationVar(&p.quietEvery, "quiet-every", 20*time.Millisecond, "How often the quiet tenant asks, one query at a time.")
	flag.Parse()
	for _, f := range strings.Split(*floodQPS, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "dns: -flood-qps: %q is not a positive number\n", f)
			os.Exit(2)
		}
		p.floodQPS = append(p.floodQPS, n)
	}
	if err := run(p); err != nil {
		fmt.Fprintln(os.Stderr, "dns:", err)
		os.Exit(1)
	}
}

// The measured tenants: bench asks the throughput mix (its bucket set out
// of the way), loud floods, quiet asks steadily. Each has one namespace and
// one client pod besides the crowd.
const (
	benchTenant = "bench"
	loud        = "loud"
	quiet       = "quiet"
)

func run(p params) error {
	ctx := context.Background()
	// Node 0 runs the measured pods; each other node 200 of the crowd.
	nodes := make([]devcluster.Node, 2+p.pods/200)
	for i := range nodes {
		nodes[i] = devcluster.Node{Name: fmt.Sprintf("kwok-%03d", i)}
	}
	cluster, err := devcluster.Start(ctx, devcluster.Options{ControllerManager: true, Nodes: nodes})
	if err != nil {
		return err
	}
	defer cluster.Stop()
	admin, err := testenv.Prepare(ctx, cluster, render.DefaultSettings())
	if err != nil {
		return err
	}

	// The measured tenants first, so that their pods run early.
	clients := map[string]netip.Addr{}
	for _, t := range []string{benchTenant, loud, quiet} {
		tn := testutil.Tenant(t).Owner(t + "-owner").Obj()
		if t == benchTenant {
			tn.Spec.DNS.QueriesPerSecond = 1000000
		}
		if err := admin.Create(ctx, tn); err != nil {
			return err
		}
		ns := t + "-app"
		if err := createNamespace(ctx, admin, ns, t); err != nil {
			return err
		}
		if err := admin.Create(ctx, pod(ns, "client", nodes[0].Name)); err != nil {
			return err
		}
		if err := admin.Create(ctx, testutil.Service(ns, "web", func(s *corev1.Service) { s.Spec.Selector = nil })); err != nil {
			return err
		}
	}
	for _, t := range []string{benchTenant, loud, quiet} {
		ip, err := waitIP(ctx, admin, t+"-app", "client")
		if err != nil {
			return err
		}
		clients[t] = ip
	}

	fmt.Printf("Creating %d Tenants, %d namespaces, %d Services and %d pods...\n", p.tenants, p.namespaces, p.services, p.pods)
	start := time.Now()
	tenantName := func(i int) string { return fmt.Sprintf("t%04d", i) }
	if err := workers.Run(p.tenants, 8, func(i int) error {
		return admin.Create(ctx, testutil.Tenant(tenantName(i)).Owner(tenantName(i)+"-owner").Obj())
	}); err != nil {
		return fmt.Errorf("creating Tenants: %w", err)
	}
	nsName := func(i int) string { return fmt.Sprintf("%s-ns-%05d", tenantName(i%p.tenants), i) }
	if err := workers.Run(p.namespaces, 8, func(i int) error {
		return createNamespace(ctx, admin, nsName(i), tenantName(i%p.tenants))
	}); err != nil {
		return fmt.Errorf("creating namespaces: %w", err)
	}
	if err := workers.Run(p.services, 8, func(i int) error {
		return admin.Create(ctx, testutil.Service(nsName(i%p.namespaces), fmt.Sprintf("svc-%05d", i), func(s *corev1.Service) { s.Spec.Selector = nil }))
	}); err != nil {
		return fmt.Errorf("creating Services: %w", err)
	}
	if err := workers.Run(p.pods, 16, func(i int) error {
		return retry(func() error {
			return admin.Create(ctx, pod(nsName(i%p.namespaces), fmt.Sprintf("pod-%05d", i), nodes[1+i/200].Name))
		})
	}); err != nil {
		return fmt.Errorf("creating pods: %w", err)
	}
	if err := waitRunning(ctx, admin, p.pods+3); err != nil {
		return err
	}
	fmt.Printf("  created and running in %v\n", time.Since(start).Round(time.Second))

	// Both servers, each a process: with the tenant plugin, and without.
	enfPort, err1 := devcluster.FreePort()
	basePort, err2 := devcluster.FreePort()
	if err1 != nil || err2 != nil {
		return errors.Join(err1, err2)
	}
	enf, err := testenv.StartDNSProcess(cluster, "bulkhead-dns", testenv.DNSBlock(cluster.Kubeconfig, enfPort, true), enfPort)
	if err != nil {
		return err
	}
	defer func() { _ = enf.Process.Kill() }()
	base, err := testenv.StartDNSProcess(cluster, "baseline-dns", testenv.DNSBlock(cluster.Kubeconfig, basePort, false), basePort)
	if err != nil {
		return err
	}
	defer func() { _ = base.Process.Kill() }()
	enfAddr, baseAddr := fmt.Sprintf("127.0.0.1:%d", enfPort), fmt.Sprintf("127.0.0.1:%d", basePort)
	// The enforcing server must know the measured pods before anything is
	// timed: their own names answer, a foreign one does not.
	own := "web." + benchTenant + "-app.svc.cluster.local."
	foreign := "web." + loud + "-app.svc.cluster.local."
	if err := until(time.Minute, func() error {
		for name, want := range map[string]int{own: dns.RcodeSuccess, foreign: dns.RcodeNameError} {
			m, _, err := probe.Ask(clients[benchTenant], enfAddr, name, dns.TypeA)
			if err != nil {
				return err
			}
			if m.Rcode != want {
				return fmt.Errorf("%s answers %s, want %s", name, dns.RcodeToString[m.Rcode], dns.RcodeToString[want])
			}
		}
		return nil
	}); err != nil {
		return err
	}

	rep := report.New("dns", map[string]any{"tenants": p.tenants, "namespaces": p.namespaces, "services": p.services, "pods": p.pods,
		"runs": p.runs, "workers": p.workers, "measureSeconds": p.measure.Seconds(), "floodQPS": p.floodQPS, "floodSeconds": p.flood.Seconds()})

	// Throughput: the same mix from the same pod, each server in turn, the
	// order alternating between runs. The visible mix gets the same answers
	// from both; the hidden mix is names of other tenants, which the
	// baseline answers and bulkhead-dns answers as missing.
	svcIP := func(ns string) string {
		s := &corev1.Service{}
		_ = admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, s)
		rev, _ := dns.ReverseAddr(s.Spec.ClusterIP)
		return rev
	}
	question := func(name string, qt uint16) dns.Question {
		return dns.Question{Name: name, Qtype: qt, Qclass: dns.ClassINET}
	}
	mixes := []struct {
		name string
		qs   []dns.Question
	}{
		{"visible names", []dns.Question{
			question(own, dns.TypeA), question("_http._tcp."+own, dns.TypeSRV),
			question("kubernetes.default.svc.cluster.local.", dns.TypeA), question(svcIP(benchTenant+"-app"), dns.TypePTR),
		}},
		{"other tenants' names", []dns.Question{
			question(foreign, dns.TypeA), question("svc-00001."+nsName(1)+".svc.cluster.local.", dns.TypeA),
			question(svcIP(loud+"-app"), dns.TypePTR),
		}},
	}
	fmt.Printf("\nThroughput: %d queries in flight from one tenant pod, %v per run, %d runs (servers in alternating order), median:\n", p.workers, p.measure, p.runs)
	fmt.Printf("%-22s %14s %14s %10s\n", "mix", "without tenant", "bulkhead-dns", "overhead")
	for _, mix := range mixes {
		var enfQPS, baseQPS []float64
		for r := range p.runs {
			order := []string{baseAddr, enfAddr}
			if r%2 == 1 {
				order = []string{enfAddr, baseAddr}
			}
			for _, addr := range order {
				replies, _, err := probe.Load(clients[benchTenant], addr, mix.qs, p.workers, p.measure)
				if err != nil {
					return err
				}
				qps := float64(replies) / p.measure.Seconds()
				if addr == enfAddr {
					enfQPS = append(enfQPS, qps)
				} else {
					baseQPS = append(baseQPS, qps)
				}
			}
		}
		same := func(x float64) float64 { return x }
		mb, me := report.MedianOf(baseQPS, same), report.MedianOf(enfQPS, same)
		fmt.Printf("%-22s %10.0f qps %10.0f qps %9.1f%%\n", mix.name, mb, me, 100*(1-me/mb))
		rep.Row("table", "throughput", "mix", mix.name, "baselineQPS", mb, "tenantQPS", me, "overheadPercent", 100*(1-me/mb))
	}
	fmt.Println("(goal: overhead ≤ 10% on the visible mix)")

	// Fairness: quiet's latency with and without loud flooding.
	quietName := "web." + quiet + "-app.svc.cluster.local."
	for _, rate := range p.floodQPS {
		fmt.Printf("\nA quiet tenant asking every %v for %v, while another floods at %d qps (its bucket %d qps), %d runs:\n",
			p.quietEvery, p.flood, rate, render.SoftDNSQueriesPerSecond, p.runs)
		var calm, flooded []report.Latencies
		var calmOK, floodOK, calmN, floodN int
		var lastFlood probe.FloodResult
		for range p.runs {
			rc, lat, err := probe.Steady(ctx, clients[quiet], enfAddr, quietName, p.quietEvery, p.flood)
			if err != nil {
				return err
			}
			calm = append(calm, lat)
			calmOK, calmN = calmOK+count(rc, dns.RcodeSuccess), calmN+len(rc)
			done := make(chan error, 1)
			go func() {
				var err error
				lastFlood, err = probe.Flood(ctx, clients[loud], enfAddr, "web."+loud+"-app.svc.cluster.local.", rate, p.flood)
				done <- err
			}()
			rc, lat, err = probe.Steady(ctx, clients[quiet], enfAddr, quietName, p.quietEvery, p.flood)
			if ferr := <-done; ferr != nil {
				return ferr
			}
			if err != nil {
				return err
			}
			flooded = append(flooded, lat)
			floodOK, floodN = floodOK+count(rc, dns.RcodeSuccess), floodN+len(rc)
		}
		c50, c99 := report.MedianOf(calm, q(0.5)), report.MedianOf(calm, q(0.99))
		f50, f99 := report.MedianOf(flooded, q(0.5)), report.MedianOf(flooded, q(0.99))
		fmt.Printf("%-22s %9s %9s %12s\n", "", "p50", "p99", "NOERROR")
		fmt.Printf("%-22s %7.3fms %7.3fms %7d/%d\n", "nobody flooding", c50, c99, calmOK, calmN)
		fmt.Printf("%-22s %7.3fms %7.3fms %7d/%d\n", "another tenant floods", f50, f99, floodOK, floodN)
		fmt.Printf("%-22s %9.2f %9.2f   (goal: ≤ 1.5 at p99)\n", "flood ÷ quiet", f50/c50, f99/c99)
		fmt.Printf("the flooding tenant, last run: %s\n", lastFlood)
		rep.Row("table", "fairness", "floodQPS", rate, "calmP50Ms", c50, "calmP99Ms", c99, "floodP50Ms", f50, "floodP99Ms", f99,
			"p99Ratio", f99/c99, "calmNoError", calmOK, "calmQueries", calmN, "floodNoError", floodOK, "floodQueries", floodN)
	}

	for _, s := range []struct {
		name string
		pid  int
	}{{"bulkhead-dns", enf.Process.Pid}, {"without the tenant plugin", base.Process.Pid}} {
		rss, err := report.PeakRSS(s.pid)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s peak RSS, caches holding %d Tenants, %d namespaces, %d Services, %d pods: %.1f MiB", s.name, p.tenants+3, p.namespaces+3, p.services+3, p.pods+3, float64(rss)/(1<<20))
		rep.Row("table", "memory", "server", s.name, "peakRSSMiB", float64(rss)/(1<<20))
	}
	fmt.Println()
	path, err := rep.Write()
	if err != nil {
		return err
	}
	fmt.Println("\nwrote", path)
	return nil
}

func q(p float64) func(report.Latencies) float64 {
	return func(l report.Latencies) float64 { return l.Quantile(p) }
}

func count(rcodes []int, want int) int {
	n := 0
	for _, rc := range rcodes {
		if rc == want {
			n++
		}
	}
	return n
}

func createNamespace(ctx context.Context, c client.Client, name, tenant string) error {
	return c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{tenancyv1alpha1.TenantLabel: tenant}}})
}

// pod is bound to node already: no scheduler runs, kwok starts it.
func pod(ns, name, node string) *corev1.Pod {
	return testutil.Pod(ns, name, "registry.example.com/app:1", func(p *corev1.Pod) {
		p.Spec.NodeName = node
		p.Spec.AutomountServiceAccountToken = ptr.To(false)
	})
}

// retry retries f while the namespace's default ServiceAccount, which the
// controller-manager makes, does not exist yet.
func retry(f func() error) error {
	var err error
	for range 50 {
		if err = f(); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

func waitIP(ctx context.Context, c client.Client, ns, name string) (netip.Addr, error) {
	var ip netip.Addr
	err := until(2*time.Minute, func() error {
		p := &corev1.Pod{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
			return err
		}
		var err error
		ip, err = netip.ParseAddr(p.Status.PodIP)
		return err
	})
	return ip, err
}

func waitRunning(ctx context.Context, c client.Client, want int) error {
	return until(20*time.Minute, func() error {
		list := &corev1.PodList{}
		if err := c.List(ctx, list); err != nil {
			return err
		}
		n := 0
		for _, p := range list.Items {
			if p.Status.PodIP != "" {
				n++
			}
		}
		if n < want {
			return fmt.Errorf("%d of %d pods have an IP", n, want)
		}
		return nil
	})
}

func until(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Second)
	}
}
