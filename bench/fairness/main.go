// Command fairness measures what per-tenant API Priority and Fairness buys
// and costs, on a dev cluster whose API server is given deliberately few
// seats (--max-requests-inflight, --max-mutating-requests-inflight) so that
// one tenant can fill them on a 2-core machine.
//
// Tenant A floods: a fixed number of clients, each a service account of its
// own in A's namespace, LIST a namespace of many ConfigMaps as fast as they
// are answered. Tenant B sends one simple GET after another, and its p50
// and p99 are measured quiet and under the flood, in three modes: fairness
// on (both tenants one flow each of the shared level), off (apiFairness
// shares 0: the API server's own service-accounts schema, one flow per
// service account, so A counts as many flows), and B in a level of its own.
// The figure of merit is B's p99 under flood ÷ B's p99 quiet, per mode.
//
// Then it measures what 1,000 tenant FlowSchemas cost a user who is in no
// tenant (its requests are matched against each of them before falling
// through to global-default): simple GETs with none and with them, in the
// same run. It prints figures and writes them as JSON; it never passes or
// fails on time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
	"github.com/bulkhead-dev/bulkhead/bench/internal/workers"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

var (
	inflight, mutatingInflight int
	configMaps, flooders, gets int
	runs, flowSchemas          int
	warmup                     time.Duration
)

func main() {
	flag.IntVar(&inflight, "max-requests-inflight", 20, "The API server's --max-requests-inflight: deliberately small, so that the flood fills it.")
	flag.IntVar(&mutatingInflight, "max-mutating-requests-inflight", 10, "The API server's --max-mutating-requests-inflight.")
	flag.IntVar(&configMaps, "configmaps", 3000, "ConfigMaps in the flooding tenant's namespace: what makes each of its LISTs expensive.")
	flag.IntVar(&flooders, "flooders", 32, "Clients of the flooding tenant, each a service account of its own, each LISTing without pause.")
	flag.IntVar(&gets, "gets", 300, "GETs the quiet tenant sends, one after another, per measurement.")
	flag.IntVar(&runs, "runs", 3, "Runs per cell; the median p50 and p99 are printed.")
	flag.IntVar(&flowSchemas, "flowschemas", 1000, "Tenant FlowSchemas present for the cost measurement (0 skips it).")
	flag.DurationVar(&warmup, "warmup", 2*time.Second, "How long the flood runs before the quiet tenant's GETs are measured.")
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fairness:", err)
		os.Exit(1)
	}
}

// tenantA floods; tenantB is measured.
const (
	tenantA = "flood"
	tenantB = "quiet"
	nsA     = "flood-a"
	nsB     = "quiet-b"
)

func run() error {
	ctx := context.Background()
	args := []string{fmt.Sprintf("--max-requests-inflight=%d", inflight), fmt.Sprintf("--max-mutating-requests-inflight=%d", mutatingInflight)}
	env, err := testenv.Start(devcluster.Options{ExtraAPIServerArgs: args})
	if err != nil {
		return err
	}
	defer env.Stop()
	fmt.Printf("API server with %s (deliberately small: the flood must be able to fill it on this machine)\n", strings.Join(args, " "))
	rep := report.New("fairness", map[string]any{
		"maxRequestsInflight": inflight, "maxMutatingRequestsInflight": mutatingInflight,
		"configMaps": configMaps, "flooders": flooders, "gets": gets, "runs": runs, "flowSchemas": flowSchemas,
	})

	w, err := newWorld(ctx, env)
	if err != nil {
		return err
	}
	fmt.Printf("\nTenant %s: %d clients (service accounts) LISTing %d ConfigMaps each time; tenant %s: one client GETting one ConfigMap, %d times per cell, %d runs, median p50/p99.\n",
		tenantA, flooders, configMaps, tenantB, gets, runs)
	if err := w.setMode(ctx, modes[0]); err != nil {
		return err
	}
	if err := printSeats(ctx, env); err != nil {
		return err
	}
	fmt.Printf("%-34s %10s %10s %10s %10s %16s %12s\n", "mode", "quiet p50", "quiet p99", "flood p50", "flood p99", "flood÷quiet p99", "A's LISTs/s")
	for _, m := range modes {
		var quiet, flood []report.Latencies
		var rates []float64
		for r := 0; r < runs; r++ {
			if err := w.setMode(ctx, m); err != nil {
				return err
			}
			q, err := w.measureB(ctx)
			if err != nil {
				return err
			}
			f, err := w.underFlood(ctx)
			if err != nil {
				return err
			}
			quiet, flood, rates = append(quiet, q), append(flood, f), append(rates, w.listRate)
		}
		rate := report.MedianOf(rates, func(f float64) float64 { return f })
		qp50, qp99 := medians(quiet)
		fp50, fp99 := medians(flood)
		ratio := fp99 / qp99
		fmt.Printf("%-34s %8.2fms %8.2fms %8.2fms %8.2fms %16.2f %12.1f\n", m.name, qp50, qp99, fp50, fp99, ratio, rate)
		rep.Row("table", "flood", "mode", m.name, "quietP50Ms", qp50, "quietP99Ms", qp99, "floodP50Ms", fp50, "floodP99Ms", fp99, "floodOverQuietP99", ratio, "floodListsPerSecond", rate)
	}
	fmt.Println("Goal: flood÷quiet p99 ≤ 1.5 with fairness on. Priority and Fairness shares seats, not cores: a GET")
	fmt.Println("that finds the level's seats taken waits for one LIST to finish (fair queuing then serves it first),")
	fmt.Println("and every GET competes for the cores with the LISTs running; a level of its own removes the first.")

	if flowSchemas > 0 {
		if err := w.setMode(ctx, modes[0]); err != nil {
			return err
		}
		if err := schemaCost(ctx, env, rep); err != nil {
			return err
		}
	}
	path, err := rep.Write()
	if err != nil {
		return err
	}
	fmt.Println("\nwrote", path)
	return nil
}

// mode is a setting of the two tenants' apiFairness.shares, and the
// FlowSchema each tenant's requests must then be classified by.
type mode struct {
	name           string
	sharesA        *int32
	sharesB        *int32
	schemaA        string
	schemaB        string
	dedicatedLevel bool
}

var modes = []mode{
	{name: "on: one flow each, shared level", schemaA: render.FairnessFlowSchemaName(tenantA), schemaB: render.FairnessFlowSchemaName(tenantB)},
	{name: "off: the API server's own schemas", sharesA: ptr.To[int32](0), sharesB: ptr.To[int32](0), schemaA: "service-accounts", schemaB: "service-accounts"},
	{name: "on, B in a level of its own (10)", sharesB: ptr.To[int32](10), schemaA: render.FairnessFlowSchemaName(tenantA), schemaB: render.FairnessFlowSchemaName(tenantB), dedicatedLevel: true},
}

// world is the two tenants and their clients.
type world struct {
	env     *testenv.Env
	floodA  []*http.Client
	clientB *http.Client
	host    string
	// listRate is the flood's LISTs per second in the last underFlood.
	listRate float64
}

func newWorld(ctx context.Context, env *testenv.Env) (*world, error) {
	w := &world{env: env, host: strings.TrimSuffix(env.Cluster.Config.Host, "/")}
	for _, t := range []struct{ tenant, ns string }{{tenantA, nsA}, {tenantB, nsB}} {
		owner := t.tenant + "-owner"
		if err := env.Client.Create(ctx, testutil.Tenant(t.tenant).Owner(owner).Soft().Obj()); err != nil {
			return nil, err
		}
		// The owner may create namespaces once its Tenant's RBAC is in.
		if err := waitFor(ctx, "namespace "+t.ns, func() error {
			err := testenv.CreateNamespaceAs(env.As(owner), t.ns, nil)
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	if err := waitFor(ctx, "both namespaces protected", func() error {
		for _, ns := range []string{nsA, nsB} {
			if err := env.TenantPolicyOf(ns, map[string]string{nsA: tenantA, nsB: tenantB}[ns]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	// A's ConfigMaps, written in parallel; 1 KiB each.
	payload := strings.Repeat("x", 1024)
	if err := workers.Run(configMaps, 8, func(i int) error {
		return env.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: fmt.Sprintf("cm-%05d", i)}, Data: map[string]string{"v": payload}})
	}); err != nil {
		return nil, fmt.Errorf("creating ConfigMaps: %w", err)
	}
	if err := env.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: "target"}, Data: map[string]string{"v": "1"}}); err != nil {
		return nil, err
	}
	// Service accounts, allowed to read ConfigMaps in their namespace, and
	// a token for each.
	mk := func(ns string, n int) ([]*http.Client, error) {
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench-read"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}}}}
		binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench-read"},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}}
		var out []*http.Client
		for i := 0; i < n; i++ {
			sa := fmt.Sprintf("client-%03d", i)
			if err := env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}}); err != nil {
				return nil, err
			}
			binding.Subjects = append(binding.Subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa})
			cfg, err := testenv.TokenConfig(ctx, env.Cluster, env.Cluster.Config.Host, ns, sa, 3600)
			if err != nil {
				return nil, err
			}
			hc, err := rest.HTTPClientFor(cfg)
			if err != nil {
				return nil, err
			}
			out = append(out, hc)
		}
		for _, obj := range []client.Object{role, binding} {
			if err := env.Client.Create(ctx, obj); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var err error
	if w.floodA, err = mk(nsA, flooders); err != nil {
		return nil, fmt.Errorf("flooding clients: %w", err)
	}
	bs, err := mk(nsB, 1)
	if err != nil {
		return nil, fmt.Errorf("quiet client: %w", err)
	}
	w.clientB = bs[0]
	return w, nil
}

// setMode sets both tenants' shares and waits until the API server
// classifies each tenant's requests as the mode says.
func (w *world) setMode(ctx context.Context, m mode) error {
	for name, shares := range map[string]*int32{tenantA: m.sharesA, tenantB: m.sharesB} {
		tn := &tenancyv1alpha1.Tenant{}
		if err := w.env.Client.Get(ctx, client.ObjectKey{Name: name}, tn); err != nil {
			return err
		}
		patch := client.MergeFrom(tn.DeepCopy())
		tn.Spec.APIFairness.Shares = shares
		if err := w.env.Client.Patch(ctx, tn, patch); err != nil {
			return err
		}
	}
	return waitFor(ctx, "mode "+m.name, func() error {
		for _, c := range []struct {
			hc     *http.Client
			path   string
			schema string
		}{{w.floodA[0], listPath, m.schemaA}, {w.clientB, getPath, m.schemaB}} {
			got, err := w.classified(ctx, c.hc, c.path)
			if err != nil {
				return err
			}
			if got != c.schema {
				return fmt.Errorf("classified by %s, want %s", got, c.schema)
			}
		}
		if m.dedicatedLevel {
			fs := &flowcontrolv1.FlowSchema{}
			if err := w.env.Client.Get(ctx, client.ObjectKey{Name: m.schemaB}, fs); err != nil {
				return err
			}
			if fs.Spec.PriorityLevelConfiguration.Name != m.schemaB {
				return fmt.Errorf("the quiet tenant's schema sends to %s", fs.Spec.PriorityLevelConfiguration.Name)
			}
		}
		return nil
	})
}

var (
	listPath = "/api/v1/namespaces/" + nsA + "/configmaps"
	getPath  = "/api/v1/namespaces/" + nsB + "/configmaps/target"
)

// classified sends one request and names the FlowSchema the API server
// classified it by.
func (w *world) classified(ctx context.Context, hc *http.Client, path string) (string, error) {
	return testenv.ClassifiedBy(ctx, hc, w.host, path, w.env.Client)
}

func medians(cells []report.Latencies) (p50, p99 float64) {
	return report.MedianOf(cells, func(l report.Latencies) float64 { return l.Quantile(0.50) }),
		report.MedianOf(cells, func(l report.Latencies) float64 { return l.Quantile(0.99) })
}

// measureB times B's GETs, one after another.
func (w *world) measureB(context.Context) (report.Latencies, error) {
	out := make(report.Latencies, 0, gets)
	for i := 0; i < gets; i++ {
		start := time.Now()
		resp, err := w.clientB.Get(w.host + getPath)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("the quiet tenant's GET: %s", resp.Status)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// underFlood runs A's flood, lets it fill the seats, and measures B.
func (w *world) underFlood(ctx context.Context) (report.Latencies, error) {
	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	lists := 0
	for _, hc := range w.floodA {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.host+listPath, nil)
				resp, err := hc.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				mu.Lock()
				lists++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(warmup)
	mu.Lock()
	before, start := lists, time.Now()
	mu.Unlock()
	l, err := w.measureB(ctx)
	mu.Lock()
	w.listRate = float64(lists-before) / time.Since(start).Seconds()
	mu.Unlock()
	stop()
	wg.Wait()
	return l, err
}

// printSeats prints the seats the API server gives each priority level
// that tenants' requests can reach, so that the figures can be read
// against them.
func printSeats(ctx context.Context, env *testenv.Env) error {
	m, err := report.ScrapeAPIServer(ctx, env.Cluster.Config)
	if err != nil {
		return err
	}
	seats := m.GaugeBy("apiserver_flowcontrol_nominal_limit_seats", "priority_level")
	var parts []string
	for _, level := range []string{render.TenantsPriorityLevel, "workload-low", "global-default"} {
		parts = append(parts, fmt.Sprintf("%s %.0f", level, seats[level]))
	}
	fmt.Printf("Nominal seats: %s (of %d; a level may borrow what others lend).\n", strings.Join(parts, ", "), inflight+mutatingInflight)
	return nil
}

// schemaCost measures simple GETs of a user in no tenant with no tenant
// FlowSchema and with flowSchemas of them, as the fairness concern renders
// them (each with an owner, a group and a namespace's service accounts).
func schemaCost(ctx context.Context, env *testenv.Env, rep *report.Report) error {
	cfg := devcluster.ImpersonateConfig(env.Cluster.Config, "outsider")
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	host := strings.TrimSuffix(cfg.Host, "/")
	measure := func() (report.Latencies, error) {
		out := make(report.Latencies, 0, gets)
		for i := 0; i < gets; i++ {
			start := time.Now()
			resp, err := hc.Get(host + "/api/v1/namespaces/default")
			if err != nil {
				return nil, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			// RBAC refuses the outsider; classification happens first.
			if got := resp.Header.Get("X-Kubernetes-PF-PriorityLevel-UID"); got == "" {
				return nil, errors.New("no priority level named in the response")
			}
			out = append(out, time.Since(start))
		}
		return out, nil
	}
	var base, loaded []report.Latencies
	for r := 0; r < runs; r++ {
		l, err := measure()
		if err != nil {
			return err
		}
		base = append(base, l)
	}
	s := env.Settings
	if err := workers.Run(flowSchemas, 8, func(i int) error {
		name := fmt.Sprintf("synthetic-%04d", i)
		tn := testutil.Tenant(name).Owner(name + "-owner").Group(name + "-devs").Obj()
		for _, obj := range render.Fairness(render.NewScope(tn, []string{name + "-ns"}, s), false) {
			// Unowned: there is no such Tenant.
			obj.SetOwnerReferences(nil)
			if err := env.Client.Create(ctx, obj); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("creating FlowSchemas: %w", err)
	}
	// The API server's flow-control configuration follows FlowSchemas
	// through a watch; give it time to take them all in.
	time.Sleep(3 * time.Second)
	for r := 0; r < runs; r++ {
		l, err := measure()
		if err != nil {
			return err
		}
		loaded = append(loaded, l)
	}
	b50, b99 := medians(base)
	l50, l99 := medians(loaded)
	fmt.Printf("\nA user in no tenant (falls through to global-default), %d GETs per run, %d runs, median:\n", gets, runs)
	fmt.Printf("%-26s %10s %10s\n", "tenant FlowSchemas", "p50", "p99")
	fmt.Printf("%-26d %8.2fms %8.2fms\n", 0, b50, b99)
	fmt.Printf("%-26d %8.2fms %8.2fms\n", flowSchemas, l50, l99)
	fmt.Printf("%-26s %10.2f %10.2f\n", "ratio", l50/b50, l99/b99)
	rep.Row("table", "schemas", "flowSchemas", 0, "p50Ms", b50, "p99Ms", b99)
	rep.Row("table", "schemas", "flowSchemas", flowSchemas, "p50Ms", l50, "p99Ms", l99, "p50Ratio", l50/b50, "p99Ratio", l99/b99)
	return nil
}

// waitFor polls check until it passes or a minute goes by.
func waitFor(ctx context.Context, what string, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var err error
	for {
		if err = check(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
