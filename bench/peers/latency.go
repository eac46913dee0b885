package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
)

// cellBound is how long one latency cell may take: minutes, where a
// healthy one takes seconds.
const cellBound = 5 * time.Minute

// warmUps are the creates made before each cell is timed.
const warmUps = 4

// latencyStats are one cell's namespace-create latencies, the CPU the
// system's process spent per create, and how long it then took to furnish
// the cell's namespaces.
type latencyStats struct {
	p50, p99     time.Duration
	cpuPerCreate time.Duration
	settle       time.Duration
}

// latencyCell measures namespace creates by a tenant owner through the
// system's webhook: a tenant of its own (namespace limit out of the way),
// ready for its owner, then creates namespaces from clients concurrent
// clients. Then it waits until the system has furnished every namespace
// of the cell, counted as convergence is, so that the next cell starts
// from a system with nothing left to do.
type latencyCell struct {
	sys     system
	run     *running
	cluster *devcluster.Cluster
	clients int
	creates int
	// settleBound is how long furnishing the cell's namespaces may take.
	settleBound time.Duration
}

// measure runs the cell with a tenant named after its client count.
func (l latencyCell) measure(ctx context.Context) (latencyStats, error) {
	name := fmt.Sprintf("lat%d", l.clients)
	t := benchTenant{name: name, owner: name + "-owner", namespaces: []string{name + "-probe"}, maxNamespaces: 10000}
	s, created, err := l.timedCreates(ctx, t)
	if err != nil {
		return latencyStats{}, err
	}
	t.namespaces = created
	if s.settle, err = l.settle(ctx, t); err != nil {
		return latencyStats{}, err
	}
	return s, nil
}

// timedCreates readies t for its owner, warms up, and times the creates;
// it returns the figures and the namespaces it created.
func (l latencyCell) timedCreates(ctx context.Context, t benchTenant) (latencyStats, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, cellBound)
	defer cancel()
	if err := waitOwnerReady(ctx, l.sys, l.run, l.cluster, t, cellBound); err != nil {
		return latencyStats{}, nil, err
	}
	owner, err := ownerClient(l.cluster, t.owner, l.sys.OwnerGroups())
	if err != nil {
		return latencyStats{}, nil, err
	}
	var created []string
	for i := range warmUps {
		created = append(created, fmt.Sprintf("%s-w%d", t.name, i))
		if err := l.create(ctx, owner, t, created[i]); err != nil {
			return latencyStats{}, nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	timedNames := make([]string, l.creates)
	for i := range timedNames {
		timedNames[i] = fmt.Sprintf("%s-%d", t.name, i)
	}
	cpuBefore, err := report.CPUTime(l.run.pid)
	if err != nil {
		return latencyStats{}, nil, fmt.Errorf("reading the system's CPU time: %w", err)
	}
	lat, err := timed(ctx, l.clients, l.creates, func(ctx context.Context, i int) error {
		return l.create(ctx, owner, t, timedNames[i])
	})
	if err != nil {
		return latencyStats{}, nil, err
	}
	cpuAfter, err := report.CPUTime(l.run.pid)
	if err != nil {
		return latencyStats{}, nil, fmt.Errorf("reading the system's CPU time: %w", err)
	}
	s := latencyStats{p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], cpuPerCreate: (cpuAfter - cpuBefore) / time.Duration(l.creates)}
	return s, append(created, timedNames...), nil
}

// settle waits until every object the system must create for t's
// namespaces exists, and returns how long that took.
func (l latencyCell) settle(ctx context.Context, t benchTenant) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, l.settleBound)
	defer cancel()
	cnt := &counter{admin: l.run.admin, exp: l.sys.Expected(), tenants: []benchTenant{t}, lastRefusal: func(string) string { return "" }}
	got, err := cnt.waitConverged(ctx, l.run.failed)
	if err != nil {
		return 0, fmt.Errorf("furnishing the namespaces of tenant %s within %s: %w: %s", t.name, l.settleBound, err, got.describe())
	}
	return time.Since(start), nil
}

// create creates namespace name as t's owner, once: during a cell nothing
// is refused, and a refusal fails the cell.
func (l latencyCell) create(ctx context.Context, owner kubernetes.Interface, t benchTenant, name string) error {
	got, err := owner.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("owner %s creating namespace %s: %w", t.owner, name, err)
	}
	if got.Labels[l.sys.NamespaceLabel()] != t.name {
		return fmt.Errorf("namespace %s was created without %s=%s", name, l.sys.NamespaceLabel(), t.name)
	}
	return nil
}

// timed runs op(0..n-1) from c concurrent clients and returns the
// latencies, sorted.
func timed(ctx context.Context, c, n int, op func(context.Context, int) error) ([]time.Duration, error) {
	// Each op writes its own element; parallel returns after every
	// goroutine has ended.
	lat := make([]time.Duration, n)
	err := parallel(ctx, n, c, func(i int) error {
		start := time.Now()
		if err := op(ctx, i); err != nil {
			return err
		}
		lat[i] = time.Since(start)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, nil
}
