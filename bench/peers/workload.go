package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
)

// retryEvery is how long an owner whose namespace create was refused waits
// before trying again, and how often a waiting owner looks again.
const retryEvery = 250 * time.Millisecond

// workload is the convergence workload on one system: for every tenant, an
// admin creates its Tenant and then its owner creates its namespaces.
type workload struct {
	sys     system
	run     *running
	cluster *devcluster.Cluster
	tenants []benchTenant
	workers int
	// ownersWait makes owners wait until the system shows they may create
	// namespaces, rather than retry refused creates.
	ownersWait bool
	refused    *refusals
}

// create runs the workload, workers tenants at a time, until every
// namespace is created or ctx ends.
func (w *workload) create(ctx context.Context) error {
	return parallel(ctx, len(w.tenants), w.workers, func(i int) error {
		return w.setUp(ctx, w.tenants[i])
	})
}

// setUp creates t as an admin, then t's namespaces as its owner.
func (w *workload) setUp(ctx context.Context, t benchTenant) error {
	if _, err := createTenant(ctx, w.sys, w.run, t); err != nil {
		return err
	}
	owner, err := ownerClient(w.cluster, t.owner, w.sys.OwnerGroups())
	if err != nil {
		return err
	}
	if w.ownersWait {
		if err := w.waitUntilOwnerMay(ctx, t); err != nil {
			return err
		}
	}
	for _, name := range t.namespaces {
		if err := createAsOwner(ctx, owner, t, name, w.sys.NamespaceLabel(), w.refused); err != nil {
			return err
		}
	}
	return nil
}

// waitUntilOwnerMay polls until the system shows that t's owner may create
// namespaces.
func (w *workload) waitUntilOwnerMay(ctx context.Context, t benchTenant) error {
	for {
		ok, err := w.sys.OwnerMayCreate(ctx, w.run.admin, t)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("owner %s of tenant %s still waiting to be allowed to create namespaces: %w", t.owner, t.name, ctx.Err())
		case <-time.After(retryEvery):
		}
	}
}

// ownerClient acts as user in groups, without client-side throttling: the
// systems and the API server are what is measured.
func ownerClient(cluster *devcluster.Cluster, user string, groups []string) (kubernetes.Interface, error) {
	cfg := cluster.Impersonate(user, groups...)
	cfg.QPS, cfg.Burst = -1, 0
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", user, err)
	}
	return cs, nil
}

// createAsOwner creates namespace name as t's owner, trying again every
// retryEvery while it is refused, each refusal counted, until ctx ends. A
// namespace created without the system's tenant label is an error: the
// system's webhook did not assign it, and it would never converge.
func createAsOwner(ctx context.Context, owner kubernetes.Interface, t benchTenant, name, label string, refused *refusals) error {
	for {
		got, err := owner.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		switch {
		case err == nil:
			if got.Labels[label] != t.name {
				return fmt.Errorf("namespace %s was created without %s=%s: the webhook did not assign it to its tenant", name, label, t.name)
			}
			return nil
		case apierrors.IsAlreadyExists(err):
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("owner %s creating namespace %s: %w", t.owner, name, ctx.Err())
		}
		refused.add(t, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("owner %s creating namespace %s, last refused with %q: %w", t.owner, name, err.Error(), ctx.Err())
		case <-time.After(retryEvery):
		}
	}
}

// waitOwnerReady creates t and waits until its owner's dry-run create of
// t's first namespace is admitted and assigned to t: the system's webhook
// is registered and answers, its caches hold the tenant, and the owner has
// what they need. A freshly started system may refuse the Tenant itself
// for a moment; that is retried too.
func waitOwnerReady(ctx context.Context, sys system, run *running, cluster *devcluster.Cluster, t benchTenant, timeout time.Duration) error {
	owner, err := ownerClient(cluster, t.owner, sys.OwnerGroups())
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	created := false
	for {
		if !created {
			created, err = createTenant(ctx, sys, run, t)
		}
		if created {
			err = dryRunAssigned(ctx, owner, sys, t)
		}
		if err == nil {
			return nil
		}
		if ferr := run.failed(); ferr != nil {
			return ferr
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("owner %s of tenant %s could not create a namespace within %s (last: %w); see %s", t.owner, t.name, timeout, err, run.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createTenant creates t as an admin; true once it exists.
func createTenant(ctx context.Context, sys system, run *running, t benchTenant) (bool, error) {
	obj, err := sys.Tenant(t)
	if err != nil {
		return false, err
	}
	if err := run.admin.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return false, fmt.Errorf("creating tenant %s: %w", t.name, err)
	}
	return true, nil
}

// dryRunAssigned dry-runs the create of t's first namespace as its owner
// and checks that the system assigned it to t.
func dryRunAssigned(ctx context.Context, owner kubernetes.Interface, sys system, t benchTenant) error {
	probe := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t.namespaces[0]}}
	got, err := owner.CoreV1().Namespaces().Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return err
	}
	if got.Labels[sys.NamespaceLabel()] != t.name {
		return fmt.Errorf("admitted without %s=%s", sys.NamespaceLabel(), t.name)
	}
	return nil
}

// refusals counts refused namespace creates by reason (the API server's
// message with the tenant's and owner's names taken out), and keeps each
// tenant's last one for the diagnosis.
type refusals struct {
	mu       sync.Mutex
	total    int64
	byReason map[string]int64
	last     map[string]string
}

func newRefusals() *refusals {
	return &refusals{byReason: map[string]int64{}, last: map[string]string{}}
}

func (r *refusals) add(t benchTenant, err error) {
	msg := err.Error()
	reason := strings.ReplaceAll(strings.ReplaceAll(msg, t.owner, "<owner>"), t.name, "<tenant>")
	const most = 200
	if len(reason) > most {
		reason = reason[:most] + "..."
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	r.byReason[reason]++
	r.last[t.name] = msg
}

// count is how many creates were refused.
func (r *refusals) count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// reasons are the refusals by reason, most first.
func (r *refusals) reasons() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int64, len(r.byReason))
	for k, v := range r.byReason {
		out[k] = v
	}
	return out
}

// lastFor is tenant's last refusal, if any.
func (r *refusals) lastFor(tenant string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[tenant]
}

// topReasons prints the most frequent reasons with their counts.
func topReasons(reasons map[string]int64, most int) string {
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return reasons[keys[i]] > reasons[keys[j]] })
	if len(keys) > most {
		keys = keys[:most]
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d x %q", reasons[k], k))
	}
	return strings.Join(parts, "; ")
}

// parallel runs f(0..n-1) on workers goroutines until all are done, one
// fails or ctx ends, and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := f(i); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if len(all) == 0 {
		return ctx.Err()
	}
	return all[0]
}
