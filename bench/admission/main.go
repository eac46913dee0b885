// Command admission measures what Bulkhead's admission rules cost a pod
// create: latency at 1, 16 and 64 concurrent clients in a Hard tenant's
// namespace and, in the same run on the same cluster, in a plain namespace
// that no rule applies to (the floor) and in a native one holding what
// Kubernetes gives without Bulkhead (Pod Security restricted, a
// ResourceQuota and a LimitRange: the baseline). It does the same on a
// second cluster whose API server lacks MutatingAdmissionPolicy, where the
// defaults come from Bulkhead's webhook. Then it adds tenants and measures
// again, to show that the cost does not grow with them. Beside each
// latency it prints the CPU time per create, so that a figure bounded by
// the machine shows as such. It prints figures and writes them as JSON; it
// never passes or fails on time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/namespace"
)

func main() {
	clients := flag.String("clients", "1,16,64", "Comma-separated concurrent client counts.")
	pods := flag.Int("pods", 256, "Pods created per measurement.")
	tenants := flag.Int("tenants", 200, "Tenants present for the last measurement (0 skips it).")
	flag.IntVar(&runs, "runs", 3, "Runs per cell; the median p50 and p99 are printed.")
	fallback := flag.Bool("fallback", true, "Also measure on a cluster without MutatingAdmissionPolicy.")
	flag.BoolVar(&podsTable, "pods-table", true, "Measure pod creates.")
	flag.BoolVar(&namespacesTable, "namespaces-table", true, "Measure namespace creates.")
	flag.IntVar(&namespaceCreates, "namespaces", 64, "Namespace creates per cell, all in one tenant: each new namespace of a tenant rewrites every TenantPolicy of the tenant (they list its namespaces), so a large count measures that more than the create.")
	flag.DurationVar(&namespacePace, "namespace-pace", 500*time.Millisecond, "Also measure namespace creates by one client starting one every this long (0: not at all).")
	cpuprofile := flag.String("cpuprofile", "", "Write a CPU profile of this process (the manager and the clients) to this file; go tool pprof reads it.")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "admission:", err)
			os.Exit(1)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	var levels []int
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "admission: bad client count %q\n", f)
			os.Exit(2)
		}
		levels = append(levels, n)
	}
	rep := report.New("admission", map[string]any{"clients": *clients, "pods": *pods, "tenants": *tenants, "runs": runs, "fallback": *fallback})
	if err := run(rep, levels, *pods, *tenants, *fallback); err != nil {
		fmt.Fprintln(os.Stderr, "admission:", err)
		pprof.StopCPUProfile()
		os.Exit(1) //nolint:gocritic // the profile is stopped by hand just above
	}
}

// runs is how many times each cell is measured.
var runs = 3

// podsTable and namespacesTable select the tables measured.
var podsTable, namespacesTable = true, true

// namespacePace spaces the creates of the paced namespace cell;
// namespaceCreates is how many creates a cell makes.
var (
	namespacePace    time.Duration
	namespaceCreates int
)

// stats are the latencies of one measurement, and the CPU time the
// machine's processes (etcd, the API server, the controller-manager, and
// this one, which runs the manager and the clients) spent per create.
type stats struct {
	p50, p99     time.Duration
	cpuPerCreate time.Duration
	// cores is CPU time over wall time: near the machine's core count, the
	// figure is bounded by the machine rather than by what it measures.
	cores float64
}

func (s stats) String() string {
	return fmt.Sprintf("%7.1fms %7.1fms %5.1fms %4.1f", ms(s.p50), ms(s.p99), ms(s.cpuPerCreate), s.cores)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func run(rep *report.Report, levels []int, pods, tenants int, fallback bool) error {
	fmt.Printf("Admission overhead: latency of %d pod creates per cell (after 8 to warm up), compliant pods, unthrottled clients;\n", pods)
	fmt.Printf("each cell the median over %d runs.\n", runs)
	fmt.Println("plain: a namespace no rule applies to (no Pod Security level, no policies, no webhook): the floor.")
	fmt.Println("native: what Kubernetes gives without Bulkhead: Pod Security restricted, and the Hard tenant's ResourceQuota and LimitRange.")
	fmt.Println("hard: a Hard tenant's namespace: Pod Security restricted, every validating and mutating policy, LimitRange and quota.")
	fmt.Println("webhook: the same Hard namespace on an API server without MutatingAdmissionPolicy; defaults come from Bulkhead's webhook.")
	fmt.Println("Each cell: p50, p99, CPU per create (etcd, API server, controller-manager, manager and clients), and cores busy")
	fmt.Printf("(CPU over wall time; near %d, the machine's cores, the cell is bounded by the machine).\n", runtime.NumCPU())
	fmt.Println()

	base, err := newSetup(nil)
	if err != nil {
		return err
	}
	defer base.env.Stop()
	var hook *benchSetup
	if fallback {
		if hook, err = newSetup([]string{
			"--runtime-config=admissionregistration.k8s.io/v1/mutatingadmissionpolicies=false," +
				"admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings=false",
			"--disable-admission-plugins=MutatingAdmissionPolicy",
		}); err != nil {
			return err
		}
		defer hook.env.Stop()
	}

	fmt.Println("x: p99 over the native namespace's p99, what Bulkhead adds to what Kubernetes alone costs.")
	fmt.Println()
	const row = "%7s | %-29s | %-29s | %-29s | %-5s | %-29s | %-5s\n"
	const cols = "p50 p99 cpu/create cores"
	if podsTable {
		fmt.Printf(row, "clients", "plain "+cols, "native "+cols, "hard "+cols, "x", "webhook "+cols, "x")
	}
	for _, c := range levels {
		if !podsTable {
			break
		}
		plain, err := base.measure("plain", c, pods)
		if err != nil {
			return err
		}
		native, err := base.measure("native", c, pods)
		if err != nil {
			return err
		}
		before, err := report.ScrapeAPIServer(context.Background(), base.env.Config())
		if err != nil {
			return err
		}
		hard, err := base.measure("bench-app", c, pods)
		if err != nil {
			return err
		}
		after, err := report.ScrapeAPIServer(context.Background(), base.env.Config())
		if err != nil {
			return err
		}
		policyTimes := perPolicy(before, after, runs*(pods+8))
		hookCell, hookRatio := "-", "-"
		var h stats
		if hook != nil {
			if h, err = hook.measure("bench-app", c, pods); err != nil {
				return err
			}
			hookCell, hookRatio = h.String(), ratio(h.p99, native.p99)
		}
		fmt.Printf(row, strconv.Itoa(c), plain.String(), native.String(), hard.String(), ratio(hard.p99, native.p99), hookCell, hookRatio)
		fmt.Printf("%7s   hard, by admission plugin and policy (evaluations per create x mean ms): %s\n", "", policyTimes)
		rep.Summary = append(rep.Summary, fmt.Sprintf("hard at %d clients, by admission plugin and policy: %s", c, policyTimes))
		for _, cell := range []struct {
			name string
			s    stats
		}{{"plain", plain}, {"native", native}, {"hard", hard}, {"webhook", h}} {
			if cell.name == "webhook" && hook == nil {
				continue
			}
			rep.Row("table", "pods", "clients", c, "column", cell.name, "p50Ms", ms(cell.s.p50), "p99Ms", ms(cell.s.p99),
				"cpuPerCreateMs", ms(cell.s.cpuPerCreate), "coresBusy", cell.s.cores, "p99OverNative", float64(cell.s.p99)/float64(native.p99))
		}
	}

	if namespacesTable {
		if err := namespaceTable(rep, base, levels, namespaceCreates); err != nil {
			return err
		}
	}

	if tenants > 0 {
		fmt.Println()
		c := levels[len(levels)-1]
		before, err := base.measure("bench-app", c, pods)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := base.addTenants(tenants); err != nil {
			return err
		}
		fmt.Printf("Scale: %d more Hard tenants with a namespace each (ready in %s); the bindings stay one per rule family.\n", tenants, time.Since(start).Round(time.Second))
		// Let the manager finish with the new tenants before measuring.
		time.Sleep(10 * time.Second)
		after, err := base.measure("bench-app", c, pods)
		if err != nil {
			return err
		}
		fmt.Printf("%-28s | %-29s\n", fmt.Sprintf("hard, %d clients", c), cols)
		fmt.Printf("%-28s | %s\n", "with 1 tenant", before)
		fmt.Printf("%-28s | %s   (p99 x%s)\n", fmt.Sprintf("with %d tenants", tenants+1), after, ratio(after.p99, before.p99))
		rep.Summary = append(rep.Summary, fmt.Sprintf("hard at %d clients with 1 tenant: p50 %.1fms p99 %.1fms; with %d tenants: p50 %.1fms p99 %.1fms (p99 x%s)",
			c, ms(before.p50), ms(before.p99), tenants+1, ms(after.p50), ms(after.p99), ratio(after.p99, before.p99)))
	}
	path, err := rep.Write()
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println("Figures written to", path)
	return nil
}

// perPolicy is where the API server's admission spent its time between
// before and after, over n creates: for each admission plugin and each
// admission policy, evaluations per create and the mean time of one, from
// the sums and counts of the API server's duration histograms (their
// buckets are too coarse for percentiles).
func perPolicy(before, after report.Metrics, n int) string {
	type entry struct {
		name string
		o    report.Observed
	}
	var entries []entry
	for plugin, o := range report.MeansBy(before, after, "apiserver_admission_controller_admission_duration_seconds", "name") {
		entries = append(entries, entry{"plugin " + plugin, o})
	}
	for name, f := range after {
		if !strings.Contains(name, "admission_policy") || !strings.HasSuffix(name, "_duration_seconds") || f.GetType().String() != "HISTOGRAM" {
			continue
		}
		kind := "validating"
		if strings.Contains(name, "mutating") {
			kind = "mutating"
		}
		for policy, o := range report.MeansBy(before, after, name, "policy") {
			entries = append(entries, entry{kind + " " + policy, o})
		}
	}
	if len(entries) == 0 {
		return "no policy metrics"
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].o.Sum > entries[j].o.Sum })
	parts := make([]string, 0, len(entries))
	for _, e := range entries {
		parts = append(parts, fmt.Sprintf("%s %.2f x %.2fms", e.name, float64(e.o.Count)/float64(n), 1000*e.o.Sum/float64(e.o.Count)))
	}
	return strings.Join(parts, ", ")
}

// namespaceTable measures namespace creates at up to 16 clients: by a
// cluster admin, whom no webhook sees, and by a tenant owner, whose creates
// Bulkhead's namespace webhook admits and records in the tenant's
// NamespaceLedger. Both clients impersonate, so that both pay for it.
func namespaceTable(rep *report.Report, b *benchSetup, levels []int, n int) error {
	fmt.Println()
	fmt.Printf("Namespace creates: %d per cell, median over %d runs.\n", n, runs)
	fmt.Println("plain: a cluster admin (impersonated, in system:masters), whom no webhook sees.")
	fmt.Println("bulkhead: the tenant's owner (impersonated), through the namespace webhook and its ledger.")
	if namespacePace > 0 {
		fmt.Printf("1 paced: one client starting a create every %s, as a person would: each namespace's furnishing (Bulkhead's bindings, quotas, policies; the controller-manager's service account) is done before the next create, so the figure is the create's own cost. Back to back, the creates also wait for the furnishing of the ones before.\n", namespacePace)
	}
	const row = "%7s | %-29s | %-29s | %-5s\n"
	const cols = "p50 p99 cpu/create cores"
	fmt.Printf(row, "clients", "plain "+cols, "bulkhead "+cols, "x p50")
	admin := b.env.As("bench-admin", "system:masters")
	owner := b.env.As("bench-owner")
	type cell struct {
		clients, creates int
		pace             time.Duration
	}
	var cells []cell
	if namespacePace > 0 {
		// Fewer creates: each takes a pace.
		cells = append(cells, cell{1, min(n, 40), namespacePace})
	}
	for _, c := range levels {
		if c <= 16 {
			cells = append(cells, cell{c, n, 0})
		}
	}
	for _, c := range cells {
		label := strconv.Itoa(c.clients)
		if c.pace > 0 {
			label = "1 paced"
		}
		plain, plainBD, err := b.measureNamespaces(admin, "plain-", c.clients, c.creates, c.pace)
		if err != nil {
			return err
		}
		hook, bd, err := b.measureNamespaces(owner, "bench-", c.clients, c.creates, c.pace)
		if err != nil {
			return err
		}
		fmt.Printf(row, label, plain.String(), hook.String(), ratio(hook.p50, plain.p50))
		fmt.Printf("%7s   bulkhead: %s\n", "", bd)
		fmt.Printf("%7s   writes per create by resource: %s\n", "", bd.writesByResource)
		for _, col := range []struct {
			name string
			s    stats
			bd   breakdown
		}{{"plain", plain, plainBD}, {"bulkhead", hook, bd}} {
			rep.Row("table", "namespaces", "clients", c.clients, "paceMs", ms(c.pace), "column", col.name, "p50Ms", ms(col.s.p50), "p99Ms", ms(col.s.p99),
				"webhookCallMs", ms(col.bd.webhookCall), "handlerMs", ms(col.bd.handler), "apiWritesPerCreate", col.bd.writesPerCreate,
				"ledgerConflicts", col.bd.ledgerConflicts,
				"cpuPerCreateMs", ms(col.s.cpuPerCreate), "coresBusy", col.s.cores, "p50OverPlain", float64(col.s.p50)/float64(plain.p50),
				"p99OverPlain", float64(col.s.p99)/float64(plain.p99))
		}
	}
	return nil
}

func ratio(a, b time.Duration) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

// benchSetup is a cluster running Bulkhead, with a Hard tenant namespace
// "bench-app" and a plain namespace "plain".
type benchSetup struct {
	env    *testenv.Env
	writer client.Client
}

func newSetup(apiserverArgs []string) (*benchSetup, error) {
	env, err := testenv.Start(devcluster.Options{ControllerManager: true, ExtraAPIServerArgs: apiserverArgs})
	if err != nil {
		return nil, err
	}
	b := &benchSetup{env: env}
	// One client for the measured creates, without client-side throttling:
	// the API server's own limits are what is measured.
	cfg := rest.CopyConfig(env.Config())
	cfg.QPS, cfg.Burst = -1, 0
	if b.writer, err = client.New(cfg, client.Options{Scheme: setup.Scheme()}); err != nil {
		env.Stop()
		return nil, err
	}
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plain"}}); err != nil {
		env.Stop()
		return nil, err
	}
	if err := b.tenant(ctx, "bench"); err != nil {
		env.Stop()
		return nil, err
	}
	if err := b.nativeNamespace(ctx, "bench-app", "native"); err != nil {
		env.Stop()
		return nil, err
	}
	return b, nil
}

// tenant creates a Hard tenant whose namespace quota does not limit the
// measurement, and its namespace <name>-app, and waits until it takes pods.
func (b *benchSetup) tenant(ctx context.Context, name string) error {
	tn := testutil.Tenant(name).Owner(name + "-owner").Hard().Max(10000).
		NamespaceQuota(corev1.ResourceList{corev1.ResourcePods: resource.MustParse("100000")}).Obj()
	if err := b.env.Client.Create(ctx, tn); err != nil {
		return err
	}
	// The namespace is created as an admin adopting it for the tenant:
	// the same labels an owner's namespace gets, without waiting for RBAC.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-app", Labels: map[string]string{tenancyv1alpha1.TenantLabel: name}}}
	if err := b.env.Client.Create(ctx, ns); err != nil {
		return err
	}
	return b.waitForPods(ctx, ns.Name)
}

// waitForPods waits until a dry-run pod create in ns succeeds: the
// TenantPolicy, the Pod Security labels and the default ServiceAccount exist.
func (b *benchSetup) waitForPods(ctx context.Context, ns string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := b.writer.Create(ctx, benchPod(ns, "probe"), client.DryRunAll)
		if err == nil {
			obj := &corev1.Namespace{}
			if err = b.env.Client.Get(ctx, client.ObjectKey{Name: ns}, obj); err == nil && obj.Labels["pod-security.kubernetes.io/enforce"] == "" {
				err = fmt.Errorf("namespace %s has no Pod Security level yet", ns)
			}
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s never took a pod: %w", ns, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// nativeNamespace creates namespace to with what Kubernetes alone gives:
// Pod Security restricted, enforced, and copies of from's ResourceQuota
// and LimitRange.
func (b *benchSetup) nativeNamespace(ctx context.Context, from, to string) error {
	if err := b.env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: to, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
		"pod-security.kubernetes.io/audit":   "restricted",
	}}}); err != nil {
		return err
	}
	key := client.ObjectKey{Namespace: from, Name: render.QuotaName}
	q, l := &corev1.ResourceQuota{}, &corev1.LimitRange{}
	if err := b.env.Client.Get(ctx, key, q); err != nil {
		return err
	}
	if err := b.env.Client.Get(ctx, key, l); err != nil {
		return err
	}
	meta := metav1.ObjectMeta{Namespace: to, Name: "copy"}
	if err := b.env.Client.Create(ctx, &corev1.ResourceQuota{ObjectMeta: meta, Spec: q.Spec}); err != nil {
		return err
	}
	return b.env.Client.Create(ctx, &corev1.LimitRange{ObjectMeta: meta, Spec: l.Spec})
}

func (b *benchSetup) addTenants(n int) error {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := b.tenant(ctx, fmt.Sprintf("scale-%d", i)); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func benchPod(ns, name string) *corev1.Pod {
	return testutil.Pod(ns, name, "registry.example.com/app:1")
}

// measure runs measureOnce runs times and returns the median percentiles.
func (b *benchSetup) measure(ns string, c, pods int) (stats, error) {
	var p50s, p99s, cpus []time.Duration
	var cores []float64
	for i := 0; i < runs; i++ {
		s, err := b.measureOnce(ns, c, pods)
		if err != nil {
			return stats{}, err
		}
		p50s, p99s, cpus, cores = append(p50s, s.p50), append(p99s, s.p99), append(cpus, s.cpuPerCreate), append(cores, s.cores)
	}
	sort.Float64s(cores)
	return stats{p50: median(p50s), p99: median(p99s), cpuPerCreate: median(cpus), cores: cores[len(cores)/2]}, nil
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// cellBound is how long one measurement may take before it stops with
// what it got stuck on: minutes, where a healthy one takes seconds.
const cellBound = 5 * time.Minute

// measureOnce creates pods in ns from c concurrent clients and returns the
// latency percentiles, after a short warm-up; it deletes the pods after.
func (b *benchSetup) measureOnce(ns string, c, pods int) (stats, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cellBound)
	defer cancel()
	for i := 0; i < 8; i++ {
		if err := b.writer.Create(ctx, benchPod(ns, fmt.Sprintf("warm-%d", i))); err != nil {
			return stats{}, fmt.Errorf("warm-up in %s: %w", ns, err)
		}
	}
	s, err := b.timed(ctx, c, pods, 0, func(ctx context.Context, i int) error {
		if err := b.writer.Create(ctx, benchPod(ns, fmt.Sprintf("p-%d", i))); err != nil {
			return fmt.Errorf("creating a pod in %s: %w", ns, err)
		}
		return nil
	})
	if err != nil {
		return stats{}, err
	}
	if err := b.writer.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns), client.GracePeriodSeconds(0)); err != nil {
		return stats{}, err
	}
	return s, b.waitEmpty(ctx, ns)
}

// timed runs op(0..n-1) from c concurrent clients within ctx and returns the
// latency percentiles and the CPU time the machine spent per op.
func (b *benchSetup) timed(ctx context.Context, c, n int, pace time.Duration, op func(context.Context, int) error) (stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	meter := report.CPUMeter(append(b.env.Cluster.PIDs(), os.Getpid()))
	cpuBefore, wallBefore := meter.Total(), time.Now()
	lat := make([]time.Duration, n)
	var done atomic.Int64
	next := make(chan int)
	errs := make(chan error, c)
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				if err := op(ctx, i); err != nil {
					errs <- err
					cancel()
					return
				}
				lat[i] = time.Since(start)
				done.Add(1)
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		if pace > 0 && i > 0 {
			time.Sleep(pace)
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return stats{}, fmt.Errorf("%w (%d of %d done)", err, done.Load(), n)
	}
	if ctx.Err() != nil {
		return stats{}, fmt.Errorf("%d of %d done within %s: %w", done.Load(), n, cellBound, ctx.Err())
	}
	wall, cpu := time.Since(wallBefore), meter.Total()-cpuBefore
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return stats{p50: lat[len(lat)/2], p99: lat[(len(lat)*99)/100], cpuPerCreate: cpu / time.Duration(n), cores: cpu.Seconds() / wall.Seconds()}, nil
}

// nsCell counts namespace measurements, so that every one creates new
// names.
var nsCell atomic.Int64

// measureNamespaces creates n namespaces from c concurrent clients acting
// as who (an impersonating client), named prefix plus a number, and
// deletes them after; the median over runs. With pace, a client starts a
// create no sooner than pace after starting the one before.
func (b *benchSetup) measureNamespaces(who client.Client, prefix string, c, n int, pace time.Duration) (stats, breakdown, error) {
	var p50s, p99s, cpus []time.Duration
	var cores []float64
	var bd breakdown
	for range runs {
		ctx, cancel := context.WithTimeout(context.Background(), cellBound)
		apiBefore, errA := report.ScrapeAPIServer(ctx, b.env.Config())
		selfBefore, errS := report.ScrapeSelf()
		if err := errors.Join(errA, errS); err != nil {
			cancel()
			return stats{}, bd, err
		}
		cell := nsCell.Add(1)
		name := func(i int) string { return fmt.Sprintf("%sc%d-%d", prefix, cell, i) }
		s, err := b.timed(ctx, c, n, pace, func(ctx context.Context, i int) error {
			if err := who.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name(i)}}); err != nil {
				return fmt.Errorf("creating namespace %s: %w", name(i), err)
			}
			return nil
		})
		if err == nil {
			bd, err = b.breakdown(ctx, apiBefore, selfBefore, n)
		}
		// Deleted by the admin, and waited for: the time namespaces take
		// to go is not measured, but their deletion must not weigh on the
		// next cell.
		for i := range n {
			_ = b.env.Client.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name(i)}})
		}
		if err == nil {
			err = b.waitGone(ctx, prefix+fmt.Sprintf("c%d-", cell))
		}
		cancel()
		if err != nil {
			return stats{}, bd, err
		}
		p50s, p99s, cpus, cores = append(p50s, s.p50), append(p99s, s.p99), append(cpus, s.cpuPerCreate), append(cores, s.cores)
	}
	sort.Float64s(cores)
	return stats{p50: median(p50s), p99: median(p99s), cpuPerCreate: median(cpus), cores: cores[len(cores)/2]}, bd, nil
}

// breakdown is where a namespace cell's time went, from the metrics of its
// last run.
type breakdown struct {
	// webhookCall is the API server's mean time calling the namespace
	// webhook (TLS, network and handler), and handler the handler's own.
	webhookCall, handler time.Duration
	// writesPerCreate are the API server's write requests (create, update,
	// patch, delete), by anyone, per namespace created, and
	// ledgerConflicts the ledger writes refused with a conflict.
	writesPerCreate, ledgerConflicts float64
	// writesByResource names the resources written most, with writes per
	// create.
	writesByResource string
}

// writesByResource lists the resources with the most write requests
// between before and after, per op of n, and the writes per op in all.
func writesByResource(before, after report.Metrics, n int) (string, float64) {
	type entry struct {
		key   string
		count float64
	}
	var entries []entry
	total := 0.0
	for _, verb := range []string{"POST", "PUT", "PATCH", "DELETE", "APPLY"} {
		for resource, count := range report.RequestsByResource(before, after, verb) {
			entries = append(entries, entry{resource + " " + verb, count})
			total += count
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].count > entries[j].count })
	var parts []string
	for i, e := range entries {
		if i == 12 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.2f", e.key, e.count/float64(n)))
	}
	return strings.Join(parts, ", "), total / float64(n)
}

func (bd breakdown) String() string {
	return fmt.Sprintf("webhook call %.1fms (handler %.1fms), %.1f API writes per create, %.0f ledger conflicts",
		ms(bd.webhookCall), ms(bd.handler), bd.writesPerCreate, bd.ledgerConflicts)
}

func (b *benchSetup) breakdown(ctx context.Context, apiBefore, selfBefore report.Metrics, n int) (breakdown, error) {
	apiAfter, errA := report.ScrapeAPIServer(ctx, b.env.Config())
	selfAfter, errS := report.ScrapeSelf()
	if err := errors.Join(errA, errS); err != nil {
		return breakdown{}, err
	}
	var bd breakdown
	call, _ := report.MeanDelta(apiBefore, apiAfter, "apiserver_admission_webhook_admission_duration_seconds",
		map[string]string{"name": "namespaces.tenancy.bulkhead.dev", "operation": "CREATE"})
	handler, _ := report.MeanDelta(selfBefore, selfAfter, "controller_runtime_webhook_latency_seconds",
		map[string]string{"webhook": namespace.MutatePath})
	bd.webhookCall, bd.handler = time.Duration(call*float64(time.Second)), time.Duration(handler*float64(time.Second))
	bd.writesByResource, bd.writesPerCreate = writesByResource(apiBefore, apiAfter, n)
	conflict := map[string]string{"resource": "namespaceledgers", "code": "409"}
	bd.ledgerConflicts = apiAfter.Counter("apiserver_request_total", conflict) - apiBefore.Counter("apiserver_request_total", conflict)
	return bd, nil
}

// waitGone waits until no namespace named with prefix is left.
func (b *benchSetup) waitGone(ctx context.Context, prefix string) error {
	for {
		list := &corev1.NamespaceList{}
		if err := b.env.Client.List(ctx, list); err != nil {
			return err
		}
		left := 0
		for _, ns := range list.Items {
			if strings.HasPrefix(ns.Name, prefix) {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d namespaces named %s* still there: %w", left, prefix, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (b *benchSetup) waitEmpty(ctx context.Context, ns string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		list := &corev1.PodList{}
		if err := b.env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(list.Items) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d pods left in %s", len(list.Items), ns)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
