package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
)

// bench is one invocation: its options, the systems it compares, and where
// figures go.
type bench struct {
	o       *options
	out     io.Writer
	systems []system
	rep     *report.Report
	// installed are the systems whose installation has been printed.
	installed map[string]bool
}

// run measures every size, run and system, printing rows as runs finish,
// then writes the report, also when a run fails, with what was measured.
func run(ctx context.Context, o *options, out io.Writer) error {
	systems, err := newSystems(o)
	if err != nil {
		return err
	}
	b := &bench{o: o, out: out, systems: systems, installed: map[string]bool{}, rep: report.New("peers", o.params(systems))}
	b.header()
	runErr := b.measureAll(ctx)
	if runErr != nil {
		b.rep.Summary = append(b.rep.Summary, "stopped: "+runErr.Error())
	}
	path, err := b.rep.Write()
	if err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintln(out, "Figures written to", path)
	return runErr
}

// newSystems builds the systems -systems names, finding or building their
// binaries.
func newSystems(o *options) ([]system, error) {
	withBulkhead, withCapsule := false, false
	for _, s := range o.systems {
		withBulkhead = withBulkhead || s == systemBulkhead
		withCapsule = withCapsule || s != systemBulkhead
	}
	bins, err := findBinaries(o.bulkheadManager, withBulkhead, withCapsule)
	if err != nil {
		return nil, err
	}
	hard, err := renderHard()
	if err != nil {
		return nil, err
	}
	var out []system
	for _, s := range o.systems {
		switch s {
		case systemBulkhead:
			b, err := newBulkheadSystem(bins.bulkhead, o.bulkheadArgs)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		case systemCapsule, systemCapsuleTuned:
			c := &capsuleSystem{name: s, version: bins.capsuleVersion, binary: bins.capsule, chartRenderer: bins.chartRenderer,
				chartDir: bins.chartDir, extraArgs: o.capsuleArgs, hard: hard}
			if s == systemCapsuleTuned {
				c.tuning = tunedCapsule
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// params are the report's parameters: the flags and how each system runs.
func (o *options) params(systems []system) map[string]any {
	described := map[string]string{}
	for _, s := range systems {
		described[s.Name()] = s.Describe()
	}
	return map[string]any{
		"n": o.sizes, "runs": o.runs, "workers": o.workers, "clients": o.clients, "creates": o.creates,
		"ownersWait": o.ownersWait, "bound": o.bound.String(), "namespacesPerTenant": namespacesPerTenant,
		"systems": described,
	}
}

// measureAll runs every size, run and system.
func (b *bench) measureAll(ctx context.Context) error {
	for _, n := range b.o.sizes {
		var results []result
		for r := 1; r <= b.o.runs; r++ {
			for _, sys := range b.systems {
				res, err := b.measure(ctx, sys, n, r)
				if err != nil {
					return fmt.Errorf("%s, N=%d, run %d: %w", sys.Name(), n, r, err)
				}
				b.printRow(res)
				b.record(res)
				results = append(results, res)
			}
		}
		b.summarize(n, results)
	}
	return nil
}

// probeTenant is the tenant whose owner's dry-run namespace create tells
// that a freshly started system admits owners.
func probeTenant() benchTenant {
	return benchTenant{name: "probe", owner: "probe-owner", namespaces: []string{"probe-ns0"}, maxNamespaces: defaultMaxNamespaces}
}

// measure is one run of sys with n tenants on a fresh cluster. The
// cluster's directory (its logs and the system's) is removed after a run
// that succeeds and kept after one that fails, for the diagnosis.
func (b *bench) measure(ctx context.Context, sys system, n, runIndex int) (res result, err error) {
	dir, err := os.MkdirTemp("", "bulkhead-peers-")
	if err != nil {
		return result{}, fmt.Errorf("creating the cluster's directory: %w", err)
	}
	defer func() {
		if err == nil {
			_ = os.RemoveAll(dir)
		} else {
			err = fmt.Errorf("%w\n  (the cluster's directory, with every log, is kept: %s)", err, dir)
		}
	}()
	cluster, err := devcluster.Start(ctx, devcluster.Options{Dir: dir, ControllerManager: true})
	if err != nil {
		return result{}, fmt.Errorf("starting the dev cluster: %w", err)
	}
	defer cluster.Stop()
	started := time.Now()
	run, err := sys.Start(ctx, cluster)
	if err != nil {
		return result{}, err
	}
	defer run.stop()
	b.noteInstalled(sys, run)
	if err := waitOwnerReady(ctx, sys, run, cluster, probeTenant(), 2*time.Minute); err != nil {
		return result{}, fmt.Errorf("waiting until it admits an owner's namespace: %w", err)
	}
	res = result{system: sys.Name(), n: n, run: runIndex, startup: time.Since(started)}
	if err := b.converge(ctx, sys, run, cluster, &res); err != nil {
		return result{}, err
	}
	if err := b.latency(ctx, sys, run, cluster, &res); err != nil {
		return result{}, err
	}
	return res, nil
}

// converge runs the convergence workload and fills res with its figures.
func (b *bench) converge(ctx context.Context, sys system, run *running, cluster *devcluster.Cluster, res *result) error {
	tenants := workloadTenants(res.n)
	refused := newRefusals()
	w := &workload{sys: sys, run: run, cluster: cluster, tenants: tenants, workers: b.o.workers, ownersWait: b.o.ownersWait, refused: refused}
	cnt := &counter{admin: run.admin, exp: sys.Expected(), tenants: tenants, lastRefusal: refused.lastFor}
	before, err := report.ScrapeAPIServer(ctx, cluster.Config)
	if err != nil {
		return err
	}
	cpuBefore, err := report.CPUTime(run.pid)
	if err != nil {
		return fmt.Errorf("reading the system's CPU time: %w", err)
	}
	limit := b.o.boundFor(res.n)
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	err = w.create(wctx)
	var t tally
	if err == nil {
		t, err = cnt.waitConverged(wctx, run.failed)
	}
	if err != nil {
		return notConverged(ctx, err, sys, run, cnt, refused, limit)
	}
	res.elapsed = time.Since(start)
	res.objects, res.namespaces = t.objects, t.namespaces
	res.refused, res.reasons = refused.count(), refused.reasons()
	return res.readProcess(ctx, run, cluster, before, cpuBefore)
}

// readProcess reads the process's peak memory and CPU, and the API
// server's requests since before.
func (res *result) readProcess(ctx context.Context, run *running, cluster *devcluster.Cluster, before report.Metrics, cpuBefore time.Duration) error {
	var err error
	if res.peakRSS, err = report.PeakRSS(run.pid); err != nil {
		return fmt.Errorf("reading the system's peak RSS: %w", err)
	}
	if res.cpuTotal, err = report.CPUTime(run.pid); err != nil {
		return fmt.Errorf("reading the system's CPU time: %w", err)
	}
	res.cpu = res.cpuTotal - cpuBefore
	after, err := report.ScrapeAPIServer(ctx, cluster.Config)
	if err != nil {
		return err
	}
	res.requests, res.writes = report.RequestsByVerb(before, after), writesByResource(before, after)
	res.gets = report.RequestsByResource(before, after, "GET")
	return nil
}

// notConverged explains why a run stopped: the bound, or what else ended
// it, with what exists, what is missing and why owners were refused.
func notConverged(ctx context.Context, cause error, sys system, run *running, cnt *counter, refused *refusals, limit time.Duration) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	state := "counting failed: "
	if t, err := cnt.count(dctx, true); err != nil {
		state += err.Error()
	} else {
		state = t.describe()
	}
	what := fmt.Sprintf("did not converge within %s (-bound)", limit)
	if !errors.Is(cause, context.DeadlineExceeded) {
		what = "stopped: " + cause.Error()
	}
	return fmt.Errorf("%s %s: %s\n  %d refused namespace creates, most frequent: %s\n  the system's log is %s",
		sys.Name(), what, state, refused.count(), topReasons(refused.reasons(), 3), run.log)
}

// latency measures namespace creates at each of -clients.
func (b *bench) latency(ctx context.Context, sys system, run *running, cluster *devcluster.Cluster, res *result) error {
	res.latency = map[int]latencyStats{}
	for _, c := range b.o.clients {
		cell := latencyCell{sys: sys, run: run, cluster: cluster, clients: c, creates: b.o.creates, settleBound: b.o.boundFor(res.n)}
		s, err := cell.measure(ctx)
		if err != nil {
			return fmt.Errorf("namespace creates at %d clients: %w", c, err)
		}
		res.latency[c] = s
	}
	return nil
}

// writesByResource are the API server's write requests between before and
// after, keyed "resource VERB".
func writesByResource(before, after report.Metrics) map[string]float64 {
	out := map[string]float64{}
	for _, verb := range []string{"POST", "PUT", "PATCH", "APPLY", "DELETE"} {
		for resource, n := range report.RequestsByResource(before, after, verb) {
			out[resource+" "+verb] = n
		}
	}
	return out
}
