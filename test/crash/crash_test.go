package crash

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

const namespacesPerTenant = 2

// takeoverLimit bounds how long after a SIGKILL the standby leads. A killed
// leader cannot release its lease: the standby must see it unrenewed for
// leaseDuration, measured from when the standby last saw it change, which
// is up to one of its retries after the leader's last renewal; it then
// takes the lease at its next retry. client-go spaces retries by
// retryPeriod with a jitter of up to 1.2 times more.
const takeoverLimit = leaseDuration + 2*(retryPeriod+retryPeriod*12/10)

// TestCrashSafeConvergence converges -crash.tenants Tenants of two
// namespaces each, then deletes a third of them (half Retain, half Delete),
// with two managers under leader election. The leader is killed with
// SIGKILL three times at random moments (once while the Tenants converge,
// twice while they are deleted) and started again as the standby; the API
// server is restarted once while the Tenants converge, etcd keeping its
// data. Each time, the standby must take over within the lease duration
// (plus the retry period at which it tries the lease) and finish the work.
// Afterwards the world must be exactly what the surviving Tenants render,
// and of the deleted ones only what a retained namespace keeps to stay
// locked.
func TestCrashSafeConvergence(t *testing.T) {
	began := time.Now()
	ctx := context.Background()
	s := *seed
	if s == 0 {
		s = time.Now().UnixNano()
	}
	t.Logf("seed %d (replay with -crash.seed=%d); %d tenants", s, s, *tenantCount)
	rng := rand.New(rand.NewPCG(uint64(s), 0)) //nolint:gosec // chooses test timings, not secrets

	rs := startReplicas(t)
	tenants := tenantsFor(*tenantCount)
	var deleted, kept []*tenancyv1alpha1.Tenant
	for i, tn := range tenants {
		if i%3 == 0 {
			deleted = append(deleted, tn)
		} else {
			kept = append(kept, tn)
		}
	}
	var takeovers []time.Duration
	// kill kills the leader while work is left: some Tenant not Ready, or
	// one of deleting still there. A kill after the work is done would
	// test an idle take-over, not a crash mid-way.
	kill := func(phase string, deleting []*tenancyv1alpha1.Tenant) {
		t.Helper()
		ready := countReady(ctx, tenants)
		switch {
		case deleting == nil && ready == len(tenants):
			t.Errorf("the kill %s came after every Tenant was Ready", phase)
		case deleting != nil && countPresent(ctx, deleting) == 0:
			t.Errorf("the kill %s came after every Tenant being deleted was gone", phase)
		}
		name, took, err := rs.killLeader(ctx)
		if err != nil {
			t.Fatalf("killing the leader %s: %v", phase, err)
		}
		t.Logf("killed leader %s %s (%d/%d Tenants Ready then); the standby took over after %s", name, phase, ready, len(tenants), took.Round(100*time.Millisecond))
		takeovers = append(takeovers, took)
		if took > takeoverLimit {
			t.Errorf("the standby took over %s after the kill, more than the lease duration and two of its retries (%s)", took, takeoverLimit)
		}
	}

	// Converging: the Tenants and their namespaces are created while the
	// leader is killed once and the API server restarts once.
	createdAt := time.Now()
	created := make(chan error, 1)
	go func() { created <- createTenants(ctx, tenants) }()
	sleepRandom(rng, 500*time.Millisecond, spread(len(tenants)))
	kill("while Tenants converge", nil)
	sleepRandom(rng, 0, 3*time.Second)
	restarted := time.Now()
	if err := cluster.RestartAPIServer(ctx); err != nil {
		t.Fatalf("restarting the API server: %v", err)
	}
	t.Logf("API server restarted in %s (%d/%d Tenants Ready after)", time.Since(restarted).Round(100*time.Millisecond), countReady(ctx, tenants), len(tenants))
	if err := <-created; err != nil {
		t.Fatalf("creating Tenants: %v", err)
	}
	if err := waitConverged(ctx, tenants, nil); err != nil {
		t.Fatalf("after the first kill and the API server's restart: %v", err)
	}
	t.Logf("%d Tenants converged %s after the first write", len(tenants), time.Since(createdAt).Round(time.Second))
	if leader, err := rs.waitLeader(time.Minute); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("manager %s leads after the API server's restart", leader.name)
	}

	// Deleting: a third of the Tenants go, in two halves, the leader
	// killed while each half is being deleted. The second half is deleted
	// only then: the standby that took over after the first kill may have
	// finished the first half before the second kill.
	deletedAt := time.Now()
	first, second := deleted[:len(deleted)/2], deleted[len(deleted)/2:]
	if err := deleteTenants(ctx, first); err != nil {
		t.Fatalf("deleting Tenants: %v", err)
	}
	// Within half a second: a live leader deletes a few Tenants in about
	// a second.
	sleepRandom(rng, 0, 500*time.Millisecond)
	kill("while Tenants are deleted", first)
	if err := deleteTenants(ctx, second); err != nil {
		t.Fatalf("deleting Tenants: %v", err)
	}
	sleepRandom(rng, 0, 500*time.Millisecond)
	kill("while Tenants are deleted, again", second)
	if err := waitConverged(ctx, kept, deleted); err != nil {
		t.Fatalf("after the deletions and two more kills: %v", err)
	}
	t.Logf("%d Tenants deleted %s after the deletes", len(deleted), time.Since(deletedAt).Round(time.Second))

	checked := checkWorld(t, ctx, kept, deleted)
	checkNoPanic(t)
	checkWebhookServes(t, ctx, kept[0])
	rs.mu.Lock()
	selfExits := rs.selfExits
	rs.mu.Unlock()
	t.Logf("figures: %d Tenants (%d kept, %d deleted), %d kills survived, take-overs %v, %d manager exits on their own (API server restart), %d objects checked, %s in all",
		len(tenants), len(kept), len(deleted), len(takeovers), roundAll(takeovers), selfExits, checked, time.Since(began).Round(time.Second))
}

// tenantsFor builds n Tenants: Hard and default ones alternately, with
// deletion policies Retain and Delete alternating among every third (the
// ones deleted), so that both policies are deleted under fire.
func tenantsFor(n int) []*tenancyv1alpha1.Tenant {
	out := make([]*tenancyv1alpha1.Tenant, n)
	for i := range out {
		w := testutil.Tenant(fmt.Sprintf("c%04d", i)).Owner(fmt.Sprintf("owner-%04d", i))
		if i%2 == 0 {
			w = w.Hard()
		}
		policy := tenancyv1alpha1.DeletionDelete
		if (i/3)%2 == 0 {
			policy = tenancyv1alpha1.DeletionRetain
		}
		out[i] = w.DeletionPolicy(policy).Obj()
	}
	return out
}

func namespaceNames(t *tenancyv1alpha1.Tenant) []string {
	return testutil.NamespaceNames(t.Name, namespacesPerTenant)
}

// spread is the window the first kill falls in: most of the time the
// Tenants take to be written and converge.
func spread(n int) time.Duration {
	return min(time.Duration(n)*100*time.Millisecond, 20*time.Second)
}

func sleepRandom(rng *rand.Rand, least, most time.Duration) {
	d := least
	if most > least {
		d += time.Duration(rng.Int64N(int64(most - least)))
	}
	time.Sleep(d)
}

// persist retries a write through the API server's restart: the test's own
// writes must not be what fails.
func persist(ctx context.Context, what string, write func() error) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		err := write()
		if err == nil || apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// createTenants creates every Tenant and, as a cluster admin adopting
// namespaces would, its namespaces labelled for it, on eight writers.
func createTenants(ctx context.Context, tenants []*tenancyv1alpha1.Tenant) error {
	return parallel(len(tenants), 8, func(i int) error {
		tn := tenants[i]
		if err := persist(ctx, "creating Tenant "+tn.Name, func() error { return admin.Create(ctx, tn.DeepCopy()) }); err != nil {
			return err
		}
		for _, name := range namespaceNames(tn) {
			ns := testutil.Namespace(name).Label(tenancyv1alpha1.TenantLabel, tn.Name).Obj()
			if err := persist(ctx, "creating namespace "+name, func() error { return admin.Create(ctx, ns.DeepCopy()) }); err != nil {
				return err
			}
		}
		return nil
	})
}

func deleteTenants(ctx context.Context, tenants []*tenancyv1alpha1.Tenant) error {
	return parallel(len(tenants), 8, func(i int) error {
		tn := &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenants[i].Name}}
		return persist(ctx, "deleting Tenant "+tn.Name, func() error { return admin.Delete(ctx, tn) })
	})
}

// parallel runs f(0..n-1) on workers goroutines and returns every error.
func parallel(n, workers int, f func(int) error) error {
	jobs := make(chan int)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

// ready says whether tn is Ready at its generation with all its namespaces.
func ready(tn *tenancyv1alpha1.Tenant) bool {
	c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == tn.Generation &&
		len(tn.Status.Namespaces) == namespacesPerTenant && tn.DeletionTimestamp == nil
}

// countReady counts the Tenants of tenants that are Ready, for the log; 0
// when the API server does not answer.
func countReady(ctx context.Context, tenants []*tenancyv1alpha1.Tenant) int {
	want := map[string]bool{}
	for _, tn := range tenants {
		want[tn.Name] = true
	}
	list := &tenancyv1alpha1.TenantList{}
	if err := admin.List(ctx, list); err != nil {
		return 0
	}
	n := 0
	for i := range list.Items {
		if want[list.Items[i].Name] && ready(&list.Items[i]) {
			n++
		}
	}
	return n
}

// countPresent counts the Tenants of tenants that still exist.
func countPresent(ctx context.Context, tenants []*tenancyv1alpha1.Tenant) int {
	n := 0
	for _, tn := range tenants {
		if err := admin.Get(ctx, client.ObjectKeyFromObject(tn), &tenancyv1alpha1.Tenant{}); err == nil {
			n++
		}
	}
	return n
}

// waitConverged waits until every Tenant of kept is Ready and every one of
// gone is gone with the namespaces its policy deletes, within -crash.timeout.
func waitConverged(ctx context.Context, kept, gone []*tenancyv1alpha1.Tenant) error {
	deadline := time.Now().Add(*timeout)
	for {
		err := converged(ctx, kept, gone)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not converged after %s: %w", *timeout, err)
		}
		time.Sleep(time.Second)
	}
}

func converged(ctx context.Context, kept, gone []*tenancyv1alpha1.Tenant) error {
	list := &tenancyv1alpha1.TenantList{}
	if err := admin.List(ctx, list); err != nil {
		return err
	}
	byName := map[string]*tenancyv1alpha1.Tenant{}
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	var notReady, stillThere []string
	for _, tn := range kept {
		if got := byName[tn.Name]; got == nil || !ready(got) {
			notReady = append(notReady, tn.Name)
		}
	}
	for _, tn := range gone {
		if got := byName[tn.Name]; got != nil {
			stillThere = append(stillThere, fmt.Sprintf("%s (finalizers %v)", tn.Name, got.Finalizers))
		}
	}
	if len(notReady)+len(stillThere) > 0 {
		return fmt.Errorf("%d Tenants not Ready %s; %d deleted Tenants still there %s", len(notReady), head(notReady), len(stillThere), head(stillThere))
	}
	// Namespaces of Delete tenants finish deleting once
	// kube-controller-manager has emptied them.
	var terminating []string
	for _, tn := range gone {
		if tn.Spec.Namespaces.DeletionPolicy != tenancyv1alpha1.DeletionDelete {
			continue
		}
		for _, name := range namespaceNames(tn) {
			if err := admin.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{}); err == nil {
				terminating = append(terminating, name)
			} else if !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	if len(terminating) > 0 {
		return fmt.Errorf("%d namespaces of deleted Tenants still there %s", len(terminating), head(terminating))
	}
	return nil
}

func head(names []string) string {
	if len(names) > 5 {
		return fmt.Sprintf("%v and %d more", names[:5], len(names)-5)
	}
	return fmt.Sprint(names)
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(100 * time.Millisecond)
	}
	return out
}

// objectKey names a rendered object by kind, namespace and name.
func objectKey(obj client.Object) string {
	kind := fmt.Sprintf("%T", obj)
	kind = kind[strings.LastIndexByte(kind, '.')+1:]
	return kind + " " + obj.GetNamespace() + "/" + obj.GetName()
}

// managedLists are the kinds Bulkhead renders per tenant.
func managedLists() []client.ObjectList {
	return []client.ObjectList{
		&rbacv1.RoleBindingList{}, &rbacv1.ClusterRoleBindingList{}, &corev1.ResourceQuotaList{},
		&corev1.LimitRangeList{}, &networkingv1.NetworkPolicyList{}, &tenancyv1alpha1.TenantPolicyList{},
	}
}

// checkWorld asserts the state after the last convergence and returns how
// many objects it checked.
func checkWorld(t *testing.T, ctx context.Context, kept, gone []*tenancyv1alpha1.Tenant) int {
	t.Helper()
	checked := 0
	// What Bulkhead has written for a tenant, by tenant, then by key.
	have := map[string]map[string]client.Object{}
	for _, list := range managedLists() {
		if err := admin.List(ctx, list, client.MatchingLabels{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}); err != nil {
			t.Fatal(err)
		}
		if err := meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			if tenant := obj.GetLabels()[tenancyv1alpha1.TenantLabel]; tenant != "" {
				if have[tenant] == nil {
					have[tenant] = map[string]client.Object{}
				}
				have[tenant][objectKey(obj)] = obj
				checked++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// Every kept Tenant: exactly what it renders, owned by it.
	for _, want := range kept {
		tn := &tenancyv1alpha1.Tenant{}
		if err := admin.Get(ctx, client.ObjectKey{Name: want.Name}, tn); err != nil {
			t.Fatal(err)
		}
		names := namespaceNames(tn)
		sc := render.NewScope(tn, names, settings)
		rendered := append(render.RBAC(tn, names), render.Quota(sc)...)
		rendered = append(rendered, render.Network(sc, nil)...)
		for _, ns := range names {
			rendered = append(rendered, &tenancyv1alpha1.TenantPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}})
		}
		got := have[tn.Name]
		for _, obj := range rendered {
			key := objectKey(obj)
			o, ok := got[key]
			if !ok {
				t.Errorf("tenant %s: %s missing", tn.Name, key)
				continue
			}
			delete(got, key)
			if ref := metav1.GetControllerOf(o); ref == nil || ref.UID != tn.UID {
				t.Errorf("tenant %s: %s is not controlled by the Tenant (controller %v)", tn.Name, key, ref)
			}
		}
		for key := range got {
			t.Errorf("tenant %s: %s is not rendered for the Tenant, yet carries its label", tn.Name, key)
		}
		if !ready(tn) {
			t.Errorf("tenant %s is not Ready: %+v", tn.Name, tn.Status.Conditions)
		}
		sort.Strings(tn.Status.Namespaces)
		if fmt.Sprint(tn.Status.Namespaces) != fmt.Sprint(names) {
			t.Errorf("tenant %s: status.namespaces = %v, want %v", tn.Name, tn.Status.Namespaces, names)
		}
	}

	// Every deleted Tenant: gone, nothing of it left but its retained
	// namespaces, locked.
	for _, tn := range gone {
		err := admin.Get(ctx, client.ObjectKey{Name: tn.Name}, &tenancyv1alpha1.Tenant{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("deleted tenant %s: still there (%v)", tn.Name, err)
		}
		for key := range have[tn.Name] {
			t.Errorf("deleted tenant %s: %s left behind", tn.Name, key)
		}
		if tn.Spec.Namespaces.DeletionPolicy == tenancyv1alpha1.DeletionRetain {
			for _, name := range namespaceNames(tn) {
				checked += checkRetained(t, ctx, name, tn.Name)
			}
		}
	}

	// Nothing labelled for a tenant that does not exist, anywhere.
	known := map[string]bool{}
	for _, tn := range kept {
		known[tn.Name] = true
	}
	for _, tn := range gone {
		known[tn.Name] = true
	}
	for tenant, objs := range have {
		if !known[tenant] {
			for key := range objs {
				t.Errorf("%s is labelled for tenant %s, which the test never created", key, tenant)
			}
		}
	}
	namespaces := &corev1.NamespaceList{}
	if err := admin.List(ctx, namespaces, client.HasLabels{tenancyv1alpha1.TenantLabel}); err != nil {
		t.Fatal(err)
	}
	alive := map[string]bool{}
	for _, tn := range kept {
		alive[tn.Name] = true
	}
	for _, ns := range namespaces.Items {
		checked++
		if tenant := ns.Labels[tenancyv1alpha1.TenantLabel]; !alive[tenant] {
			t.Errorf("namespace %s is labelled for tenant %s, which is gone", ns.Name, tenant)
		}
	}
	return checked
}

// checkRetained asserts that namespace name, retained from tenant, is kept
// and locked: retained labels at the restricted level, no tenant label, the
// deny-all NetworkPolicy, and nothing of Bulkhead's but what keeps it so.
func checkRetained(t *testing.T, ctx context.Context, name, tenant string) int {
	t.Helper()
	ns := &corev1.Namespace{}
	if err := admin.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		t.Errorf("retained namespace %s lost: %v", name, err)
		return 0
	}
	if ns.DeletionTimestamp != nil {
		t.Errorf("retained namespace %s is being deleted", name)
	}
	for k, v := range render.RetainedNamespaceLabels(tenant, settings) {
		if ns.Labels[k] != v {
			t.Errorf("retained namespace %s: label %s = %q, want %q (unlocked)", name, k, ns.Labels[k], v)
		}
	}
	if v, ok := ns.Labels[tenancyv1alpha1.TenantLabel]; ok {
		t.Errorf("retained namespace %s still carries the tenant label (%q)", name, v)
	}
	np := &networkingv1.NetworkPolicy{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: name, Name: render.RetainedPolicy}, np); err != nil {
		t.Errorf("retained namespace %s: deny-all NetworkPolicy: %v", name, err)
	} else if !render.IsRetainedObject(np.Labels) || len(np.OwnerReferences) != 0 {
		t.Errorf("retained namespace %s: NetworkPolicy %s is not the retained one (labels %v, owners %v)", name, np.Name, np.Labels, np.OwnerReferences)
	}
	checked := 2
	for _, list := range managedLists() {
		if _, cluster := list.(*rbacv1.ClusterRoleBindingList); cluster {
			continue
		}
		if err := admin.List(ctx, list, client.InNamespace(name), client.MatchingLabels{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}); err != nil {
			t.Fatal(err)
		}
		_ = meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			checked++
			if !render.IsRetainedObject(obj.GetLabels()) {
				t.Errorf("retained namespace %s: %s of the deleted tenant left behind", name, objectKey(obj))
			}
			return nil
		})
	}
	return checked
}

// checkNoPanic fails the test if any manager, in any of its runs, panicked:
// controller-runtime recovers a panicking Reconcile and the work may still
// converge, so only the logs tell.
func checkNoPanic(t *testing.T) {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(cluster.Dir, "logs", "bulkhead-manager-*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no manager logs found (%v)", err)
	}
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "Observed a panic") || strings.HasPrefix(line, "panic:") {
				t.Errorf("%s: %s", filepath.Base(path), line)
			}
		}
	}
}

// checkWebhookServes has an owner of tn create a namespace: the namespace
// webhook, which the leader's keeper points the API server to, must answer
// after the kills and label it for the tenant.
func checkWebhookServes(t *testing.T, ctx context.Context, tn *tenancyv1alpha1.Tenant) {
	t.Helper()
	owner, err := client.New(cluster.Impersonate(tn.Spec.Owners[0].Name), client.Options{Scheme: setup.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	name := tn.Name + "-late"
	testenv.OwnerCreatesNamespace(t, owner, name)
	ns := &corev1.Namespace{}
	if err := admin.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		t.Fatal(err)
	}
	if got := ns.Labels[tenancyv1alpha1.TenantLabel]; got != tn.Name {
		t.Errorf("namespace %s created by an owner of %s is labelled for tenant %q", name, tn.Name, got)
	}
}
