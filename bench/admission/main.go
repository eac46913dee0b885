// Command admission measures what Bulkhead's admission rules cost a pod
// create: latency at 1, 16 and 64 concurrent clients in a Hard tenant's
// namespace and, in the same run on the same cluster, in a plain namespace
// that no rule applies to. It does the same on a second cluster whose API
// server lacks MutatingAdmissionPolicy, where the defaults come from
// Bulkhead's webhook. Then it adds tenants and measures again, to show that
// the cost does not grow with them. It prints figures; it never passes or
// fails on time.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func main() {
	clients := flag.String("clients", "1,16,64", "Comma-separated concurrent client counts.")
	pods := flag.Int("pods", 256, "Pods created per measurement.")
	tenants := flag.Int("tenants", 200, "Tenants present for the last measurement (0 skips it).")
	flag.IntVar(&runs, "runs", 3, "Runs per cell; the median p50 and p99 are printed.")
	fallback := flag.Bool("fallback", true, "Also measure on a cluster without MutatingAdmissionPolicy.")
	flag.Parse()
	var levels []int
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "admission: bad client count %q\n", f)
			os.Exit(2)
		}
		levels = append(levels, n)
	}
	if err := run(levels, *pods, *tenants, *fallback); err != nil {
		fmt.Fprintln(os.Stderr, "admission:", err)
		os.Exit(1)
	}
}

// runs is how many times each cell is measured.
var runs = 3

// stats are the latencies of one measurement.
type stats struct{ p50, p99 time.Duration }

func (s stats) String() string {
	return fmt.Sprintf("%7.1fms %7.1fms", ms(s.p50), ms(s.p99))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func run(levels []int, pods, tenants int, fallback bool) error {
	fmt.Printf("Admission overhead: latency of %d pod creates per cell (after 8 to warm up), compliant pods, unthrottled clients;\n", pods)
	fmt.Printf("each cell the median over %d runs.\n", runs)
	fmt.Println("plain: a namespace no Bulkhead rule applies to (no Pod Security level, no policies, no webhook).")
	fmt.Println("quota: a plain namespace with the Hard tenant's ResourceQuota and LimitRange: Kubernetes' own per-create cost.")
	fmt.Println("hard: a Hard tenant's namespace: Pod Security restricted, every validating and mutating policy, LimitRange and quota.")
	fmt.Println("webhook: the same Hard namespace on an API server without MutatingAdmissionPolicy; defaults come from Bulkhead's webhook.")
	fmt.Println()

	native, err := newSetup(nil)
	if err != nil {
		return err
	}
	defer native.env.Stop()
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

	fmt.Println("x: ratio of p50 to the quota namespace's, the baseline that isolates what Bulkhead adds.")
	fmt.Println()
	const row = "%7s | %-17s | %-17s | %-17s | %-5s | %-17s | %-5s\n"
	fmt.Printf(row, "clients", "plain p50 p99", "quota p50 p99", "hard p50 p99", "x", "webhook p50 p99", "x")
	for _, c := range levels {
		plain, err := native.measure("plain", c, pods)
		if err != nil {
			return err
		}
		quota, err := native.measure("quota", c, pods)
		if err != nil {
			return err
		}
		hard, err := native.measure("bench-app", c, pods)
		if err != nil {
			return err
		}
		hookCell, hookRatio := "-", "-"
		if hook != nil {
			h, err := hook.measure("bench-app", c, pods)
			if err != nil {
				return err
			}
			hookCell, hookRatio = h.String(), ratio(h.p50, quota.p50)
		}
		fmt.Printf(row, strconv.Itoa(c), plain.String(), quota.String(), hard.String(), ratio(hard.p50, quota.p50), hookCell, hookRatio)
	}

	if tenants > 0 {
		fmt.Println()
		c := levels[len(levels)-1]
		before, err := native.measure("bench-app", c, pods)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := native.addTenants(tenants); err != nil {
			return err
		}
		fmt.Printf("Scale: %d more Hard tenants with a namespace each (ready in %s); the bindings stay one per rule family.\n", tenants, time.Since(start).Round(time.Second))
		// Let the manager finish with the new tenants before measuring.
		time.Sleep(10 * time.Second)
		after, err := native.measure("bench-app", c, pods)
		if err != nil {
			return err
		}
		fmt.Printf("%-28s | %-18s\n", fmt.Sprintf("hard, %d clients", c), "p50 p99")
		fmt.Printf("%-28s | %s\n", "with 1 tenant", before)
		fmt.Printf("%-28s | %s   (p50 x%s)\n", fmt.Sprintf("with %d tenants", tenants+1), after, ratio(after.p50, before.p50))
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
	if err := b.quotaNamespace(ctx, "bench-app", "quota"); err != nil {
		env.Stop()
		return nil, err
	}
	return b, nil
}

// tenant creates a Hard tenant whose namespace quota does not limit the
// measurement, and its namespace <name>-app, and waits until it takes pods.
func (b *benchSetup) tenant(ctx context.Context, name string) error {
	tn := testutil.Tenant(name).Owner(name + "-owner").Hard().
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

// quotaNamespace creates namespace to with copies of from's ResourceQuota
// and LimitRange.
func (b *benchSetup) quotaNamespace(ctx context.Context, from, to string) error {
	if err := b.env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: to}}); err != nil {
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
	var p50s, p99s []time.Duration
	for i := 0; i < runs; i++ {
		s, err := b.measureOnce(ns, c, pods)
		if err != nil {
			return stats{}, err
		}
		p50s, p99s = append(p50s, s.p50), append(p99s, s.p99)
	}
	return stats{p50: median(p50s), p99: median(p99s)}, nil
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// measureOnce creates pods in ns from c concurrent clients and returns the
// latency percentiles, after a short warm-up; it deletes the pods after.
func (b *benchSetup) measureOnce(ns string, c, pods int) (stats, error) {
	ctx := context.Background()
	for i := 0; i < 8; i++ {
		if err := b.writer.Create(ctx, benchPod(ns, fmt.Sprintf("warm-%d", i))); err != nil {
			return stats{}, fmt.Errorf("warm-up in %s: %w", ns, err)
		}
	}
	lat := make([]time.Duration, pods)
	next := make(chan int)
	errs := make(chan error, c)
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				if err := b.writer.Create(ctx, benchPod(ns, fmt.Sprintf("p-%d", i))); err != nil {
					errs <- fmt.Errorf("creating a pod in %s: %w", ns, err)
					return
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	for i := 0; i < pods; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return stats{}, err
	}
	if err := b.writer.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns), client.GracePeriodSeconds(0)); err != nil {
		return stats{}, err
	}
	if err := b.waitEmpty(ctx, ns); err != nil {
		return stats{}, err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return stats{p50: lat[len(lat)/2], p99: lat[(len(lat)*99)/100]}, nil
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
