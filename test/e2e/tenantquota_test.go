package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestTenantQuotaNeverOvershoots creates pods concurrently across three
// namespaces of a tenant whose tenant-wide quota allows 20 pods: exactly 20
// are admitted, every other is refused by the tenant quota rule, the usage
// shows in the tenant's ledger and, once recounted, in the Tenant's status,
// and quota freed by deleting pods can be used again, again exactly.
func TestTenantQuotaNeverOvershoots(t *testing.T) {
	ctx := context.Background()
	tn := testutil.Tenant("tq").Owner("tq-owner").Member("tq-dev").
		TenantQuota(corev1.ResourceList{corev1.ResourcePods: resource.MustParse("20")}).Obj()
	namespaces := []string{"tq-a", "tq-b", "tq-c"}
	env.TenantWithNamespace(t, tn, namespaces[0])
	owner := env.As("tq-owner")
	for _, ns := range namespaces[1:] {
		testenv.OwnerCreatesNamespace(t, owner, ns)
	}
	for _, ns := range namespaces {
		testenv.Eventually(t, ns+" ready for pods", func() error {
			n := &corev1.Namespace{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, n); err != nil {
				return err
			}
			if n.Labels[tenancyv1alpha1.TenantQuotaLabel] != "true" {
				return fmt.Errorf("namespace %s lacks %s", ns, tenancyv1alpha1.TenantQuotaLabel)
			}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}, &tenancyv1alpha1.TenantPolicy{}); err != nil {
				return err
			}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "default"}, &corev1.ServiceAccount{}); err != nil {
				return err
			}
			return testenv.CanI(env.As("tq-dev"), "create", "pods", ns)
		})
	}
	dev := env.As("tq-dev")

	burst := func(round string, n int) (admitted []*corev1.Pod) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				p := testutil.Pod(namespaces[i%len(namespaces)], fmt.Sprintf("%s-%d", round, i), "registry.example.com/app:1")
				err := dev.Create(ctx, p)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					admitted = append(admitted, p)
				case !strings.Contains(err.Error(), "tenant tq:") || !strings.Contains(err.Error(), "[rule quota.tenant]"):
					t.Errorf("pod %s/%s refused for another reason: %v", p.Namespace, p.Name, err)
				}
			}(i)
		}
		wg.Wait()
		return admitted
	}
	countPods := func() int {
		total := 0
		for _, ns := range namespaces {
			list := &corev1.PodList{}
			if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			total += len(list.Items)
		}
		return total
	}
	usage := func(want int64) {
		testenv.Eventually(t, fmt.Sprintf("ledger and Tenant status.usage pods = %d", want), func() error {
			got := ledgerOf(t, "tq")
			if q := got.Status.Usage[corev1.ResourcePods]; q.Value() != want || len(got.Status.Reservations) != 0 {
				return fmt.Errorf("ledger usage %v with %d reservations", got.Status.Usage, len(got.Status.Reservations))
			}
			tn := &tenancyv1alpha1.Tenant{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: "tq"}, tn); err != nil {
				return err
			}
			if q := tn.Status.Usage[corev1.ResourcePods]; q.Value() != want {
				return fmt.Errorf("Tenant status.usage %v", tn.Status.Usage)
			}
			return nil
		})
	}

	first := burst("one", 50)
	if len(first) != 20 {
		t.Fatalf("admitted %d of 50 concurrent pods against a tenant limit of 20", len(first))
	}
	if n := countPods(); n != 20 {
		t.Fatalf("the tenant's namespaces hold %d pods, want 20", n)
	}
	usage(20)

	for _, p := range first[:5] {
		if err := dev.Delete(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	usage(15)
	second := burst("two", 10)
	if len(second) != 5 {
		t.Fatalf("after freeing 5 pods, admitted %d of 10 concurrent pods, want 5", len(second))
	}
	if n := countPods(); n != 20 {
		t.Fatalf("the tenant's namespaces hold %d pods, want 20", n)
	}
}

// TestTenantQuotaCountsWhatKubernetesCounts fills a tenant-wide cpu quota
// with pods that Kubernetes charges more than their app containers ask:
// sidecars add to the app, pod-level resources replace the containers' sum.
// The pod that would pass the limit is refused by the tenant quota rule, one
// that fits exactly is admitted, and the recount agrees with the charges.
func TestTenantQuotaCountsWhatKubernetesCounts(t *testing.T) {
	ctx := context.Background()
	l := testutil.Quantities
	tn := testutil.Tenant("tqs").Owner("tqs-owner").TenantQuota(l("requests.cpu", "2", "pods", "10")).Obj()
	owner := env.TenantWithNamespace(t, tn, "tqs-a")
	testenv.Eventually(t, "tenant quota counted", func() error {
		if got := ledgerOf(t, "tqs"); !hasKey(got.Status.Usage, corev1.ResourceRequestsCPU) {
			return fmt.Errorf("usage %v", got.Status.Usage)
		}
		return nil
	})
	full := func(cpu string) corev1.ResourceList { return l("cpu", cpu, "memory", "64Mi") }
	withSidecar := func(name, app, sidecar string) *corev1.Pod {
		return testutil.Pod("tqs-a", name, "registry.example.com/app:1",
			testutil.Resources(full(app), full(app)), testutil.Sidecar("proxy", full(sidecar), full(sidecar)))
	}
	podLevel := func(name, pod string) *corev1.Pod {
		return testutil.Pod("tqs-a", name, "registry.example.com/app:1",
			testutil.PodResources(l("cpu", pod), nil), testutil.Resources(full("50m"), full("50m")))
	}

	// 500m, then 1 (the app asks 50m): 1500m of 2 used.
	for _, p := range []*corev1.Pod{withSidecar("sidecar-1", "200m", "300m"), podLevel("pod-level", "1")} {
		if err := owner.Create(ctx, p); err != nil {
			t.Fatalf("pod %s within the tenant quota refused: %v", p.Name, err)
		}
	}
	// 700m more would make 2200m; counting app containers only, 300m.
	err := owner.Create(ctx, withSidecar("sidecar-over", "300m", "400m"))
	testenv.Rejected(t, err, "tqs", "quota.tenant")
	testenv.ExpectDenied(t, err, "requests.cpu: 1500m used + 700m requested > 2")
	// Exactly the 500m left fits.
	if err := owner.Create(ctx, withSidecar("sidecar-fits", "200m", "300m")); err != nil {
		t.Fatalf("pod using exactly the rest of the tenant quota refused: %v", err)
	}
	// Now full: pod-level resources are charged although the app asks little.
	testenv.Rejected(t, owner.Create(ctx, podLevel("pod-level-over", "100m")), "tqs", "quota.tenant")

	testenv.Eventually(t, "the recount to agree: 2 cpus, no reservations", func() error {
		got := ledgerOf(t, "tqs")
		if q := got.Status.Usage[corev1.ResourceRequestsCPU]; q.Cmp(resource.MustParse("2")) != 0 || len(got.Status.Reservations) != 0 {
			return fmt.Errorf("usage %v with %d reservations", got.Status.Usage, len(got.Status.Reservations))
		}
		return nil
	})
}

// TestTenantQuotaChargesInPlaceResize resizes a tenant's pod in place, as
// an autoscaler would (no tenant role grants pods/resize; an admin gives it
// to the autoscaler's identity, a member of the tenant, since Bulkhead
// revokes bindings of anyone outside it): Kubernetes' ResourceQuota charges the
// growth, and so must the tenant-wide quota. Growing past the limit is
// refused by the tenant quota rule; growing within it is admitted.
func TestTenantQuotaChargesInPlaceResize(t *testing.T) {
	ctx := context.Background()
	l := testutil.Quantities
	tn := testutil.Tenant("tqr").Owner("tqr-owner").Member("tqr-autoscaler").TenantQuota(l("requests.cpu", "1")).Obj()
	owner := env.TenantWithNamespace(t, tn, "tqr-a")
	if err := env.Client.Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: "tqr-a", Name: "resizer"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods/resize"}, Verbs: []string{"update", "patch"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "tqr-a", Name: "resizer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "resizer"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "tqr-autoscaler"}},
	}); err != nil {
		t.Fatal(err)
	}
	autoscaler := env.As("tqr-autoscaler")
	testenv.Eventually(t, "the autoscaler may resize pods", func() error {
		allowed, err := testenv.ReviewAccess(autoscaler, "update", "pods/resize", "tqr-a")
		if err == nil && !allowed {
			err = fmt.Errorf("not yet")
		}
		return err
	})
	// Held off the nodes: kwok's nodes do not declare in-place resize, and
	// the API server refuses resizing a pod bound to such a node.
	p := testutil.Pod("tqr-a", "web", "registry.example.com/app:1",
		testutil.Resources(l("cpu", "400m", "memory", "64Mi"), l("cpu", "2", "memory", "128Mi")),
		testutil.SchedulingGate("example.com/held"))
	if err := owner.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	resize := func(cpu string) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur := &corev1.Pod{}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), cur); err != nil {
				return err
			}
			cur.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
			return autoscaler.SubResource("resize").Update(ctx, cur)
		})
	}
	// 400m + 1100m more would pass 1.
	testenv.Rejected(t, resize("1500m"), "tqr", "quota.tenant")
	if err := resize("900m"); err != nil {
		t.Fatalf("resizing within the tenant quota refused: %v", err)
	}
	got := &corev1.Pod{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), got); err != nil {
		t.Fatal(err)
	}
	if q := got.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]; q.Cmp(resource.MustParse("900m")) != 0 {
		t.Fatalf("the pod asks %s after its resize, want 900m", q.String())
	}
}

// ledgerOf reads the TenantQuotaLedger of tenant, failing the test if
// reading fails for any reason but its absence (an empty ledger then).
func ledgerOf(t *testing.T, tenant string) *tenancyv1alpha1.TenantQuotaLedger {
	t.Helper()
	got := &tenancyv1alpha1.TenantQuotaLedger{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: tenant}, got); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	return got
}

func hasKey(l corev1.ResourceList, name corev1.ResourceName) bool {
	_, ok := l[name]
	return ok
}
