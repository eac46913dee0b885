// Command convergence measures how fast Bulkhead brings N Hard tenants with
// two namespaces each to Ready on a dev cluster, and, in the same run and on
// an identical fresh cluster, how fast a plain client creates the very same
// objects directly. The ratio shows how close Bulkhead gets to the API
// server's own limit. It prints figures; it never passes or fails on time.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

const namespacesPerTenant = 2

// managerArgs are extra flags for bulkhead-manager.
var managerArgs string

func main() {
	sizes := flag.String("n", "100,500", "Comma-separated tenant counts.")
	runs := flag.Int("runs", 3, "Runs per size; medians are printed.")
	workers := flag.Int("workers", 16, "Concurrent writers, for both the setup of Bulkhead's run and the plain client.")
	flag.StringVar(&managerArgs, "manager-args", "", "Extra bulkhead-manager flags, space-separated (such as --kube-api-qps=500).")
	flag.Parse()
	ctrl.SetLogger(logr.Discard())
	if err := run(context.Background(), *sizes, *runs, *workers); err != nil {
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

func run(ctx context.Context, sizes string, runs, workers int) error {
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
			base, objects, err := measureBaseline(ctx, n, workers)
			if err != nil {
				return err
			}
			bh, rss, cpu, err := measureBulkhead(ctx, n, workers, objects)
			if err != nil {
				return err
			}
			res := result{bulkhead: bh, baseline: base, objects: objects, peakRSS: rss, cpu: cpu}
			results = append(results, res)
			fmt.Printf(row, strconv.Itoa(n), strconv.Itoa(r), strconv.Itoa(objects),
				round(bh), round(base), fmt.Sprintf("%.2f", bh.Seconds()/base.Seconds()),
				fmt.Sprintf("%.0f", float64(objects)/bh.Seconds()), fmt.Sprintf("%.0f", float64(objects)/base.Seconds()),
				fmt.Sprintf("%d MiB", rss>>20), round(cpu))
		}
		bh := median(results, func(r result) float64 { return r.bulkhead.Seconds() })
		base := median(results, func(r result) float64 { return r.baseline.Seconds() })
		rss := median(results, func(r result) float64 { return float64(r.peakRSS >> 20) })
		cpu := median(results, func(r result) float64 { return r.cpu.Seconds() })
		summary = append(summary, fmt.Sprintf("N=%d: median bulkhead %.1fs, baseline %.1fs, ratio %.2f, %.0f obj/s vs %.0f obj/s, manager peak RSS %.0f MiB, manager CPU %.1fs",
			n, bh, base, bh/base, float64(results[0].objects)/bh, float64(results[0].objects)/base, rss, cpu))
	}
	fmt.Println()
	for _, s := range summary {
		fmt.Println(s)
	}
	return nil
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
	out := make([]string, namespacesPerTenant)
	for j := range out {
		out[j] = fmt.Sprintf("%s-ns%d", t.Name, j)
	}
	return out
}

func startCluster(ctx context.Context) (*devcluster.Cluster, client.Client, error) {
	// controller-manager runs as in a real cluster: it creates a service
	// account and token per namespace, load Bulkhead competes with.
	cluster, err := devcluster.Start(ctx, devcluster.Options{ControllerManager: true})
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
func measureBaseline(ctx context.Context, n, workers int) (time.Duration, int, error) {
	cluster, c, err := startCluster(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer cluster.Stop()
	s := render.DefaultSettings()
	tenants := tenantsFor(n)
	var rendered sync.Map // tenant index -> object count
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
		objs := append(render.RBAC(t, names), render.Quota(render.NewScope(t, names, s))...)
		objs = append(objs, render.Network(render.NewScope(t, names, s), nil)...)
		for _, o := range objs {
			if err := c.Create(ctx, o); err != nil {
				return fmt.Errorf("creating %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
			}
		}
		rendered.Store(i, len(objs))
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("baseline: %w", err)
	}
	total := 0
	rendered.Range(func(_, v any) bool { total += v.(int); return true })
	return elapsed, total, nil
}

// measureBulkhead runs bulkhead-manager as its own process, creates the
// Tenants and labelled namespaces, and waits for convergence.
func measureBulkhead(ctx context.Context, n, workers, wantObjects int) (time.Duration, int64, time.Duration, error) {
	cluster, c, err := startCluster(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer cluster.Stop()
	mgr, err := testenv.StartManagerProcess(cluster, testenv.ManagerConfig{}, testenv.ProcessOptions{ExtraArgs: strings.Fields(managerArgs)})
	if err != nil {
		return 0, 0, 0, err
	}
	defer mgr.Stop()

	tenants := tenantsFor(n)
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
		return 0, 0, 0, fmt.Errorf("creating tenants: %w", err)
	}
	deadline := time.Now().Add(15 * time.Minute)
	for {
		ready, objects, err := progress(ctx, c, n)
		if err != nil {
			return 0, 0, 0, err
		}
		if ready == n && objects >= wantObjects {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, fmt.Errorf("not converged after 15 minutes: %d/%d Ready, %d/%d objects; see %s", ready, n, objects, wantObjects, mgr.Log)
		}
		if err := mgr.Failed(); err != nil {
			return 0, 0, 0, err
		}
		time.Sleep(250 * time.Millisecond)
	}
	elapsed := time.Since(start)
	rss, err := peakRSS(mgr.Cmd.Process.Pid)
	if err != nil {
		return 0, 0, 0, err
	}
	cpu, err := cpuTime(mgr.Cmd.Process.Pid)
	return elapsed, rss, cpu, err
}

// progress counts Ready tenants (at their current generation, with every
// namespace in status) and, once all are Ready, the objects Bulkhead has
// rendered. Listing objects only at the end keeps the probe's own load on
// the API server small while Bulkhead works.
func progress(ctx context.Context, c client.Client, n int) (int, int, error) {
	tenants := &tenancyv1alpha1.TenantList{}
	if err := c.List(ctx, tenants); err != nil {
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
	for _, list := range []client.ObjectList{&rbacv1.RoleBindingList{}, &rbacv1.ClusterRoleBindingList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{}, &networkingv1.NetworkPolicyList{}} {
		if err := c.List(ctx, list, managed, client.HasLabels{tenancyv1alpha1.TenantLabel}); err != nil {
			return 0, 0, err
		}
		objects += meta.LenList(list)
	}
	return ready, objects, nil
}

// peakRSS reads the high-water resident set size of process pid from /proc.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// cpuTime reads the user and system CPU time of process pid from /proc.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(n, workers int, f func(int) error) error {
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := f(i); err != nil && !apierrors.IsAlreadyExists(err) {
					errs <- err
					return
				}
			}
		}()
	}
	var first error
feed:
	for i := 0; i < n; i++ {
		select {
		case jobs <- i:
		case first = <-errs:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if first == nil {
		first = <-errs
	}
	return first
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func round(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}
