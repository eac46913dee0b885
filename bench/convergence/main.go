// Command convergence measures how fast Bulkhead brings N Hard tenants with
// two namespaces each to Ready on a dev cluster, and, in the same run and on
// an identical fresh cluster, how fast a plain client creates the very same
// objects directly. The ratio shows how close Bulkhead gets to the API
// server's own limit. It prints figures; it never passes or fails on time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
	"github.com/bulkhead-dev/bulkhead/bench/internal/workers"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

const namespacesPerTenant = 2

// managerArgs are extra flags for bulkhead-manager.
var managerArgs string

// applies are the last Bulkhead run's server-side apply requests by
// resource.
var applies map[string]float64

// idleWrites are the last Bulkhead run's writes during -idle, by resource,
// verb and field manager; idleRSS the manager's peak RSS at its end.
var (
	idleWrites map[string]int
	idleRSS    int64
)

// requestsOf are the last Bulkhead run's requests by resource, verb and
// field manager, from the API server's audit log.
var requestsOf map[string]int

// idle is how long to watch the manager after convergence, counting what
// it still writes; 0 for not at all.
var idle time.Duration

// profile is how long to record the API server's CPU profile from the
// first write of each run, 0 for not at all.
var profile time.Duration

// bound is how long a run may take to converge before it stops with a
// diagnosis; 0 is defaultBound.
var bound time.Duration

// defaultBound gives n tenants a minute plus a second each: several times
// what they take on two cores, so that only a run that is stuck hits it.
func defaultBound(n int) time.Duration { return time.Minute + time.Duration(n)*time.Second }

func main() {
	sizes := flag.String("n", "100,500", "Comma-separated tenant counts.")
	runs := flag.Int("runs", 3, "Runs per size; medians are printed.")
	workers := flag.Int("workers", 16, "Concurrent writers, for both the setup of Bulkhead's run and the plain client.")
	flag.StringVar(&managerArgs, "manager-args", "", "Extra bulkhead-manager flags, space-separated (such as --kube-api-qps=500).")
	flag.DurationVar(&idle, "idle", 0, "After convergence, leave Bulkhead idle this long and count its writes per minute, which should be near zero; the manager resyncs every object twice meanwhile (--sync-period of a third of it), so a resync that rewrote unchanged objects would show.")
	flag.DurationVar(&profile, "apiserver-profile", 0, "Record the API server's CPU profile for this long from the first write of each run, into bench/results/apiserver-<side>-<N>.pprof (go tool pprof -top reads it): where the control plane's CPU goes.")
	flag.DurationVar(&bound, "bound", 0, "How long a run may take to converge before it stops and says which Tenants, conditions and objects are missing (default a minute plus a second per tenant).")
	flag.Parse()
	ctrl.SetLogger(logr.Discard())
	rep := report.New("convergence", map[string]any{"n": *sizes, "runs": *runs, "workers": *workers, "managerArgs": managerArgs, "bound": bound.String()})
	if err := run(context.Background(), rep, *sizes, *runs, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "convergence:", err)
		os.Exit(1)
	}
}

type result struct {
	bulkhead, baseline time.Duration
	objects            int
	peakRSS            int64 // bytes
	cpu                time.Duration
}

// measurement is what one side of a run measured.
type measurement struct {
	elapsed time.Duration
	// objects is, for the baseline, how many objects Bulkhead renders.
	objects int
	// peakRSS and cpu are the manager's; zero for the baseline.
	peakRSS int64
	cpu     time.Duration
	// controlPlaneCPU is what etcd, the API server and the controller
	// manager used meanwhile.
	controlPlaneCPU time.Duration
	requests        map[string]float64
}

// coresBusy is how many of the machine's cores the side kept busy, on
// average: near the core count, the machine bounds the figure.
func (m measurement) coresBusy() float64 {
	return (m.controlPlaneCPU + m.cpu).Seconds() / m.elapsed.Seconds()
}

func run(ctx context.Context, rep *report.Report, sizes string, runs, workers int) error {
	fmt.Printf("Convergence: N Hard tenants, %d namespaces each; %d runs per size, %d concurrent writers.\n", namespacesPerTenant, runs, workers)
	fmt.Println("bulkhead: time from the first write until every Tenant is Ready and every object Bulkhead renders exists.")
	fmt.Println("baseline: a plain client creating the same Tenants, namespaces and objects itself, on a fresh cluster.")
	fmt.Println()
	// Fixed widths rather than a tabwriter: rows print as runs finish.
	const row = "%5s %4s %8s %9s %9s %6s %15s %15s %17s %12s\n"
	fmt.Printf(row, "N", "run", "objects", "bulkhead", "baseline", "ratio", "bulkhead obj/s", "baseline obj/s", "manager peak RSS", "manager CPU")
	var summary []string
	for _, field := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return fmt.Errorf("bad size %q: %w", field, err)
		}
		var results []result
		for r := 1; r <= runs; r++ {
			baseM, err := measureBaseline(ctx, n, workers)
			if err != nil {
				return err
			}
			bhM, err := measureBulkhead(ctx, n, workers, baseM.objects)
			if err != nil {
				return err
			}
			base, bh, objects, rss, cpu := baseM.elapsed, bhM.elapsed, baseM.objects, bhM.peakRSS, bhM.cpu
			requests, baseRequests := bhM.requests, baseM.requests
			res := result{bulkhead: bh, baseline: base, objects: objects, peakRSS: rss, cpu: cpu}
			results = append(results, res)
			rep.Row("n", n, "run", r, "objects", objects, "bulkheadSeconds", bh.Seconds(), "baselineSeconds", base.Seconds(),
				"ratio", bh.Seconds()/base.Seconds(), "managerPeakRSSBytes", rss, "managerCPUSeconds", cpu.Seconds(),
				"controlPlaneCPUSeconds", bhM.controlPlaneCPU.Seconds(), "baselineControlPlaneCPUSeconds", baseM.controlPlaneCPU.Seconds(),
				"coresBusy", bhM.coresBusy(), "baselineCoresBusy", baseM.coresBusy(),
				"requestsByVerb", requests, "baselineRequestsByVerb", baseRequests, "bulkheadRequests", requestsOf)
			fmt.Printf(row, strconv.Itoa(n), strconv.Itoa(r), strconv.Itoa(objects),
				round(bh), round(base), fmt.Sprintf("%.2f", bh.Seconds()/base.Seconds()),
				fmt.Sprintf("%.0f", float64(objects)/bh.Seconds()), fmt.Sprintf("%.0f", float64(objects)/base.Seconds()),
				fmt.Sprintf("%d MiB", rss>>20), round(cpu))
			fmt.Printf("      control plane CPU: bulkhead %s, baseline %s; cores busy on average (control plane and manager): bulkhead %.2f, baseline %.2f of %d\n",
				round(bhM.controlPlaneCPU), round(baseM.controlPlaneCPU), bhM.coresBusy(), baseM.coresBusy(), runtime.NumCPU())
			fmt.Printf("      API requests by verb, bulkhead: %s\n", report.ByCount(requests, 0))
			fmt.Printf("      API requests by verb, baseline: %s\n", report.ByCount(baseRequests, 0))
			fmt.Printf("      bulkhead's APPLY requests by resource: %s\n", report.ByCount(applies, 0))
			fmt.Printf("      bulkhead's requests by resource, verb and field manager: %s\n", report.ByCount(requestsOf, 16))
			if idle > 0 {
				total := 0
				for _, v := range idleWrites {
					total += v
				}
				perMinute := float64(total) / idle.Minutes()
				fmt.Printf("      idle %s after convergence, resyncing every %s: %.1f writes per minute (%s); manager peak RSS %d MiB\n",
					idle, idle/3, perMinute, report.ByCount(idleWrites, 8), idleRSS>>20)
				rep.Row("n", n, "run", r, "idleSeconds", idle.Seconds(), "idleWrites", total, "idleWritesPerMinute", perMinute, "idleWritesBy", idleWrites, "idlePeakRSSBytes", idleRSS)
			}
		}
		bh := median(results, func(r result) float64 { return r.bulkhead.Seconds() })
		base := median(results, func(r result) float64 { return r.baseline.Seconds() })
		rss := median(results, func(r result) float64 { return float64(r.peakRSS >> 20) })
		cpu := median(results, func(r result) float64 { return r.cpu.Seconds() })
		summary = append(summary, fmt.Sprintf("N=%d: median bulkhead %.1fs, baseline %.1fs, ratio %.2f, %.0f obj/s vs %.0f obj/s, manager peak RSS %.0f MiB (%.0f KiB per tenant), manager CPU %.1fs",
			n, bh, base, bh/base, float64(results[0].objects)/bh, float64(results[0].objects)/base, rss, rss*1024/float64(n), cpu))
	}
	fmt.Println()
	for _, s := range summary {
		fmt.Println(s)
	}
	rep.Summary = summary
	path, err := rep.Write()
	if err != nil {
		return err
	}
	fmt.Println("Figures written to", path)
	return nil
}

// startProfile records the API server's CPU profile for -apiserver-profile
// in the background, if asked; the returned function waits for it to be
// written.
func startProfile(ctx context.Context, cluster *devcluster.Cluster, side string, n int) func() error {
	if profile == 0 {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	path := filepath.Join(report.Dir, fmt.Sprintf("apiserver-%s-%d.pprof", side, n))
	go func() { done <- report.ProfileAPIServer(ctx, cluster.Config, profile, path) }()
	return func() error { return <-done }
}

// tenantsFor builds the N Hard tenants of a run.
func tenantsFor(n int) []*tenancyv1alpha1.Tenant {
	out := make([]*tenancyv1alpha1.Tenant, n)
	for i := range out {
		out[i] = testutil.Tenant(fmt.Sprintf("t%04d", i)).Hard().Owner(fmt.Sprintf("owner-%04d", i)).Obj()
	}
	return out
}

func namespaceNames(t *tenancyv1alpha1.Tenant) []string {
	return testutil.NamespaceNames(t.Name, namespacesPerTenant)
}

func startCluster(ctx context.Context) (*devcluster.Cluster, client.Client, error) {
	// controller-manager runs as in a real cluster: it creates a service
	// account and token per namespace, load Bulkhead competes with.
	o := devcluster.Options{ControllerManager: true}
	if profile > 0 {
		// The dev cluster turns profiling off, as a hardened one would.
		o.ExtraAPIServerArgs = []string{"--profiling=true"}
	}
	cluster, err := devcluster.Start(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	c, err := testenv.Prepare(ctx, cluster, render.DefaultSettings())
	if err != nil {
		cluster.Stop()
		return nil, nil, err
	}
	return cluster, c, nil
}

// measureBaseline creates, as a plain client, everything Bulkhead would
// create for n tenants, and returns the time and how many objects Bulkhead
// itself renders (the figure its own run must reach).
func measureBaseline(ctx context.Context, n, workers int) (measurement, error) {
	cluster, c, err := startCluster(ctx)
	if err != nil {
		return measurement{}, err
	}
	before, err := report.ScrapeAPIServer(ctx, cluster.Config)
	if err != nil {
		return measurement{}, err
	}
	controlPlane := report.CPUMeter(cluster.PIDs())
	cpuBefore := controlPlane.Total()
	defer cluster.Stop()
	s := render.DefaultSettings()
	tenants := tenantsFor(n)
	var rendered sync.Map // tenant index -> object count
	profiled := startProfile(ctx, cluster, "baseline", n)
	start := time.Now()
	err = parallel(n, workers, func(i int) error {
		t := tenants[i].DeepCopy()
		if err := c.Create(ctx, t); err != nil {
			return err
		}
		names := namespaceNames(t)
		meta := render.Namespace(render.NewScope(t, nil, s))
		for _, name := range names {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: meta.Labels, Annotations: meta.Annotations}}
			if err := c.Create(ctx, ns); err != nil {
				return err
			}
		}
		objs := expectedObjects(t, s)
		for _, o := range objs {
			if err := c.Create(ctx, o); err != nil {
				return fmt.Errorf("creating %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
			}
		}
		rendered.Store(i, len(objs))
		return nil
	})
	elapsed := time.Since(start)
	cpu := controlPlane.Total() - cpuBefore
	if err != nil {
		return measurement{}, fmt.Errorf("baseline: %w", err)
	}
	after, err := report.ScrapeAPIServer(ctx, cluster.Config)
	if err != nil {
		return measurement{}, err
	}
	if err := profiled(); err != nil {
		return measurement{}, err
	}
	total := 0
	rendered.Range(func(_, v any) bool { total += v.(int); return true })
	return measurement{elapsed: elapsed, objects: total, controlPlaneCPU: cpu, requests: report.RequestsByVerb(before, after)}, nil
}

// expectedObjects are the objects Bulkhead renders in t's namespaces, which
// the baseline creates itself and Bulkhead's run must reach: bindings,
// quotas, limit ranges, NetworkPolicies, and each namespace's TenantPolicy
// as it stands once the namespace is protected.
func expectedObjects(t *tenancyv1alpha1.Tenant, s render.Settings) []client.Object {
	names := namespaceNames(t)
	sc := render.NewScope(t, names, s)
	objs := append(render.RBAC(t, names), render.Quota(sc)...)
	objs = append(objs, render.Network(sc, nil)...)
	in := render.PolicyInputs{
		// As testenv.Prepare creates it.
		RuntimeClasses: map[string]*nodev1.RuntimeClass{s.SandboxRuntimeClass: {ObjectMeta: metav1.ObjectMeta{Name: s.SandboxRuntimeClass}, Handler: "runsc"}},
		Protected:      map[string]bool{},
	}
	for _, ns := range names {
		in.Protected[ns] = true
	}
	return append(objs, render.TenantPolicies(sc, in)...)
}

// measureBulkhead runs bulkhead-manager as its own process, creates the
// Tenants and labelled namespaces, and waits for convergence.
func measureBulkhead(ctx context.Context, n, workers, wantObjects int) (measurement, error) {
	cluster, c, err := startCluster(ctx)
	if err != nil {
		return measurement{}, err
	}
	defer cluster.Stop()
	args := strings.Fields(managerArgs)
	if idle > 0 {
		args = append(args, "--sync-period="+(idle/3).String())
	}
	mgr, err := testenv.StartManagerProcess(cluster, testenv.ManagerConfig{}, testenv.ProcessOptions{ExtraArgs: args})
	if err != nil {
		return measurement{}, err
	}
	defer mgr.Stop()

	tenants := tenantsFor(n)
	watched, stopWatch, err := watchTenants(ctx, cluster, c)
	if err != nil {
		return measurement{}, err
	}
	defer stopWatch()
	before, err := report.ScrapeAPIServer(ctx, cluster.Config)
	if err != nil {
		return measurement{}, err
	}
	controlPlane := report.CPUMeter(cluster.PIDs())
	cpuBefore := controlPlane.Total()
	profiled := startProfile(ctx, cluster, "bulkhead", n)
	start := time.Now()
	err = parallel(n, workers, func(i int) error {
		t := tenants[i].DeepCopy()
		if err := c.Create(ctx, t); err != nil {
			return err
		}
		// A cluster admin adopts namespaces by labelling them; owners going
		// through the webhook are measured by the test suites.
		for _, name := range namespaceNames(t) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{tenancyv1alpha1.TenantLabel: t.Name}}}
			if err := c.Create(ctx, ns); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return measurement{}, fmt.Errorf("creating tenants: %w", err)
	}
	limit := bound
	if limit == 0 {
		limit = defaultBound(n)
	}
	deadline := time.Now().Add(limit)
	for {
		ready, objects, err := progress(ctx, watched, c, n)
		if err != nil {
			return measurement{}, err
		}
		if ready == n && objects >= wantObjects {
			break
		}
		if time.Now().After(deadline) {
			return measurement{}, fmt.Errorf("not converged within %s (-bound): %d/%d Tenants Ready, %d/%d objects; the manager's log is %s\n%s",
				limit, ready, n, objects, wantObjects, mgr.Log, diagnose(ctx, c, tenants))
		}
		if err := mgr.Failed(); err != nil {
			return measurement{}, err
		}
		time.Sleep(250 * time.Millisecond)
	}
	elapsed := time.Since(start)
	controlPlaneCPU := controlPlane.Total() - cpuBefore
	rss, err := report.PeakRSS(mgr.Cmd.Process.Pid)
	if err != nil {
		return measurement{}, err
	}
	cpu, err := report.CPUTime(mgr.Cmd.Process.Pid)
	if err != nil {
		return measurement{}, err
	}
	after, err := report.ScrapeAPIServer(ctx, cluster.Config)
	if err != nil {
		return measurement{}, err
	}
	applies = report.RequestsByResource(before, after, "APPLY")
	if err := profiled(); err != nil {
		return measurement{}, err
	}
	user := render.DefaultSettings().ManagerUser()
	if requestsOf, err = report.RequestsOf(filepath.Join(cluster.Dir, "logs"), user, start, time.Now()); err != nil {
		return measurement{}, err
	}
	if idle > 0 {
		if err := measureIdle(cluster, mgr, user); err != nil {
			return measurement{}, err
		}
	}
	return measurement{elapsed: elapsed, peakRSS: rss, cpu: cpu, controlPlaneCPU: controlPlaneCPU, requests: report.RequestsByVerb(before, after)}, nil
}

// measureIdle leaves the converged manager idle for -idle and records what
// it wrote meanwhile (reads aside) and its peak RSS at the end.
func measureIdle(cluster *devcluster.Cluster, mgr *testenv.ManagerProcess, user string) error {
	from := time.Now()
	time.Sleep(idle)
	all, err := report.RequestsOf(filepath.Join(cluster.Dir, "logs"), user, from, time.Now())
	if err != nil {
		return err
	}
	idleWrites = map[string]int{}
	for k, v := range all {
		if !strings.Contains(k, " get ") && !strings.Contains(k, " list ") {
			idleWrites[k] = v
		}
	}
	idleRSS, err = report.PeakRSS(mgr.Cmd.Process.Pid)
	return err
}

// watchTenants starts a cache of the cluster's Tenants, fed by a watch,
// and returns it once synced, with the function that stops it.
func watchTenants(ctx context.Context, cluster *devcluster.Cluster, c client.Client) (client.Reader, func(), error) {
	tc, err := cache.New(cluster.Config, cache.Options{Scheme: c.Scheme(), ByObject: map[client.Object]cache.ByObject{&tenancyv1alpha1.Tenant{}: {}}})
	if err != nil {
		return nil, nil, err
	}
	if _, err := tc.GetInformer(ctx, &tenancyv1alpha1.Tenant{}); err != nil {
		return nil, nil, err
	}
	ctx, stop := context.WithCancel(ctx)
	go func() { _ = tc.Start(ctx) }()
	if !tc.WaitForCacheSync(ctx) {
		stop()
		return nil, nil, errors.New("the Tenant cache did not sync")
	}
	return tc, stop, nil
}

// progress counts Ready tenants (at their current generation, with every
// namespace in status) and, once all are Ready, the objects Bulkhead has
// rendered. Tenants are read from tenantsFrom, a watch-fed cache: listing
// them from the API server four times a second would, at 2,000 Tenants,
// cost it more than Bulkhead's own work. Listing objects only at the end
// keeps the probe's own load small too.
func progress(ctx context.Context, tenantsFrom client.Reader, c client.Client, n int) (int, int, error) {
	tenants := &tenancyv1alpha1.TenantList{}
	if err := tenantsFrom.List(ctx, tenants); err != nil {
		return 0, 0, err
	}
	ready := 0
	for _, t := range tenants.Items {
		cond := meta.FindStatusCondition(t.Status.Conditions, tenancyv1alpha1.ConditionReady)
		if cond != nil && cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == t.Generation && len(t.Status.Namespaces) == namespacesPerTenant {
			ready++
		}
	}
	if ready < n {
		return ready, 0, nil
	}
	managed := client.MatchingLabels{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}
	objects := 0
	for _, list := range []client.ObjectList{&rbacv1.RoleBindingList{}, &rbacv1.ClusterRoleBindingList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{}, &networkingv1.NetworkPolicyList{}, &tenancyv1alpha1.TenantPolicyList{}} {
		if err := c.List(ctx, list, managed, client.HasLabels{tenancyv1alpha1.TenantLabel}); err != nil {
			return 0, 0, err
		}
		objects += meta.LenList(list)
	}
	return ready, objects, nil
}

// parallel runs f(0..n-1) on workers goroutines and returns the first
// error; objects that exist already (a retried run) are no error.
func parallel(n, k int, f func(int) error) error {
	return workers.Run(n, k, func(i int) error {
		if err := f(i); !apierrors.IsAlreadyExists(err) {
			return err
		}
		return nil
	})
}

func median(rs []result, f func(result) float64) float64 { return report.MedianOf(rs, f) }

func round(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// diagnose says why a run has not converged: the Tenants not Ready with
// each condition that is not True, then the rendered objects missing, at
// most ten of each.
func diagnose(ctx context.Context, c client.Client, tenants []*tenancyv1alpha1.Tenant) string {
	const most = 10
	var b strings.Builder
	list := &tenancyv1alpha1.TenantList{}
	if err := c.List(ctx, list); err != nil {
		return "listing Tenants: " + err.Error()
	}
	notReady := 0
	for _, t := range list.Items {
		ready := meta.FindStatusCondition(t.Status.Conditions, tenancyv1alpha1.ConditionReady)
		if ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == t.Generation && len(t.Status.Namespaces) == namespacesPerTenant {
			continue
		}
		notReady++
		if notReady > most {
			continue
		}
		fmt.Fprintf(&b, "  Tenant %s (generation %d, %d of %d namespaces in status):", t.Name, t.Generation, len(t.Status.Namespaces), namespacesPerTenant)
		if len(t.Status.Conditions) == 0 {
			b.WriteString(" no conditions yet")
		}
		for _, cond := range t.Status.Conditions {
			if cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != t.Generation {
				fmt.Fprintf(&b, " %s=%s (%s, generation %d): %s;", cond.Type, cond.Status, cond.Reason, cond.ObservedGeneration, cond.Message)
			}
		}
		b.WriteString("\n")
	}
	if notReady > most {
		fmt.Fprintf(&b, "  and %d more Tenants not Ready\n", notReady-most)
	}
	missing := 0
	s := render.DefaultSettings()
	for _, t := range tenants {
		for _, want := range expectedObjects(t, s) {
			got := want.DeepCopyObject().(client.Object)
			err := c.Get(ctx, client.ObjectKeyFromObject(want), got)
			if err == nil {
				continue
			}
			missing++
			if missing <= most {
				gvk, _ := apiutil.GVKForObject(want, c.Scheme())
				key := client.ObjectKeyFromObject(want).String()
				fmt.Fprintf(&b, "  missing %s %s of tenant %s: %v\n", gvk.Kind, strings.TrimPrefix(key, "/"), t.Name, err)
			}
		}
	}
	if missing > most {
		fmt.Fprintf(&b, "  and %d more objects missing\n", missing-most)
	}
	if b.Len() == 0 {
		return "  every Tenant is Ready and every object exists: it converged just as the bound passed"
	}
	return b.String()
}
