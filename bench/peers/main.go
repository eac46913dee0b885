// Command peers compares Bulkhead with Capsule, another multi-tenancy
// system for Kubernetes, on the same workload and the same dev cluster, so
// that anyone can check how Bulkhead's convergence time, memory, CPU and
// namespace-create latency compare with a peer's.
//
// For each size N, each run, and each system (Capsule at its chart's
// defaults, Capsule tuned, Bulkhead at its defaults) it starts a fresh dev
// cluster with kube-controller-manager, installs the system and runs it as
// a process of its own with its webhooks registered, then: an admin
// declares N tenants, each with one owner, and each owner creates two
// namespaces through the system's webhook; the clock stops when every
// namespace and every object the system must create for them (RoleBindings,
// a ResourceQuota, a LimitRange and NetworkPolicies in each) exists, counted
// by listing. Then it times namespace creates by an owner at 1 and 16
// concurrent clients, letting the system furnish each batch before the
// next. README.md says how each system is configured.
//
// It prints figures and writes them to bench/results/peers.json; it never
// passes or fails on time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// The systems compared, by the names -systems takes.
const (
	systemCapsule      = "capsule"
	systemCapsuleTuned = "capsule-tuned"
	systemBulkhead     = "bulkhead"
)

// tunedCapsule is capsule-tuned's tuning: four workers, as Bulkhead's
// --concurrent-reconciles, and a client allowed 200 requests a second.
var tunedCapsule = capsuleTuning{workers: 4, qps: 200, burst: 400}

// options are the benchmark's flags.
type options struct {
	sizes           []int
	runs            int
	workers         int
	clients         []int
	creates         int
	systems         []string
	ownersWait      bool
	bound           time.Duration
	bulkheadManager string
	bulkheadArgs    []string
	capsuleArgs     []string
}

const usage = `Usage: go run ./bench/peers [flags]   (make bench-peers builds what it needs first)

Compares Bulkhead with Capsule on one workload. For each size in -n, each of
-runs runs and each system in -systems, on a fresh dev cluster (etcd,
kube-apiserver, kube-controller-manager from $BULKHEAD_K8S_BIN):

  convergence  an admin creates N tenants (-workers at a time), each with one
               owner, and each owner creates 2 namespaces through the
               system's webhook. A create the system refuses (its owner is
               not yet known to it) is retried every 250ms and counted; with
               -owners-wait owners first wait until the system shows they
               may create. The clock runs from the first tenant until every
               namespace and every object the system must create for them
               exists, counted by listing (no status is trusted). The
               system's peak RSS and CPU seconds are read then, and the API
               server's requests by verb.
  latency      for each of -clients, a new tenant's owner creates -creates
               namespaces from that many concurrent clients; p50 and p99.
               Then it waits until the system has furnished them, so that
               the next cell starts from a quiet system, and prints how long.

Systems: capsule (its chart's defaults: 1 worker, client QPS 20, burst 30),
capsule-tuned (4 workers, QPS 200, burst 400), bulkhead (its defaults:
4 concurrent reconciles, QPS 100, burst 200). Both run as processes on the
machine, their webhooks reached by URL. Capsule's health-probe port is fixed
(:10080), so one Capsule runs at a time. bench/peers/README.md says how
each system is configured and what it creates.

A run that does not converge within -bound stops the benchmark and says
which namespaces and objects are missing.

Flags:
`

// parseOptions reads the flags; --help prints the usage and returns
// flag.ErrHelp.
func parseOptions(args []string, out io.Writer) (*options, error) {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	sizes := fs.String("n", "100,300", "Comma-separated tenant counts N.")
	clients := fs.String("clients", "1,16", "Comma-separated concurrent clients for the namespace-create latency; empty skips it.")
	systems := fs.String("systems", strings.Join([]string{systemCapsule, systemCapsuleTuned, systemBulkhead}, ","), "Comma-separated systems to run: capsule, capsule-tuned, bulkhead.")
	bulkheadArgs := fs.String("bulkhead-args", "", "Extra bulkhead-manager flags, space-separated (such as --kube-api-qps=200).")
	capsuleArgs := fs.String("capsule-args", "", "Extra flags for Capsule's manager, both capsule systems, space-separated.")
	o := &options{}
	fs.IntVar(&o.runs, "runs", 3, "Runs per size and system; the tables' summaries are medians.")
	fs.IntVar(&o.workers, "workers", 16, "Tenants set up at once in the convergence workload (each: create the Tenant, then its owner's namespaces).")
	fs.IntVar(&o.creates, "creates", 100, "Namespaces created per latency cell, after 4 to warm up.")
	fs.BoolVar(&o.ownersWait, "owners-wait", false, "Owners wait until the system shows they may create namespaces (Capsule: the Tenant's status lists them; Bulkhead: their namespace-creator ClusterRoleBinding exists) instead of retrying refused creates.")
	fs.DurationVar(&o.bound, "bound", 0, "How long a convergence run may take before the benchmark stops and names what is missing (default five minutes plus ten seconds per tenant).")
	fs.StringVar(&o.bulkheadManager, "bulkhead-manager", "", "bulkhead-manager binary (default bin/bulkhead-manager, built when missing).")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q; see --help", fs.Args())
	}
	var err error
	if o.sizes, err = positiveInts("-n", *sizes); err != nil {
		return nil, err
	}
	if o.clients, err = positiveInts("-clients", *clients); err != nil {
		return nil, err
	}
	o.bulkheadArgs, o.capsuleArgs = strings.Fields(*bulkheadArgs), strings.Fields(*capsuleArgs)
	return o, o.validate(*systems)
}

// validate checks the systems and the counts.
func (o *options) validate(systems string) error {
	for _, s := range strings.Split(systems, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains([]string{systemCapsule, systemCapsuleTuned, systemBulkhead}, s) {
			return fmt.Errorf("-systems: unknown system %q (capsule, capsule-tuned, bulkhead)", s)
		}
		o.systems = append(o.systems, s)
	}
	switch {
	case len(o.systems) == 0:
		return errors.New("-systems names none")
	case len(o.sizes) == 0:
		return errors.New("-n names no size")
	case o.runs < 1 || o.workers < 1 || o.creates < 1:
		return errors.New("-runs, -workers and -creates must be at least 1")
	}
	return nil
}

// positiveInts parses a comma-separated list of positive integers.
func positiveInts(flagName, list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: bad count %q", flagName, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// boundFor is how long a run of n tenants may take: about twice what
// Capsule at its defaults, which reconciles one tenant at a time, takes on
// two cores, so that only a stuck run reaches it.
func (o *options) boundFor(n int) time.Duration {
	if o.bound > 0 {
		return o.bound
	}
	return 5*time.Minute + time.Duration(n)*10*time.Second
}

func main() {
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(2)
	}
	ctrl.SetLogger(logr.Discard())
	// Interrupted, the run still stops the processes and clusters it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}
