package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/tenantquota"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// The ledger of tenant-wide quota, on the API server alone: the suites that
// fill a quota with pods are in the end-to-end tier.

// TestTenantQuotaLedgerIsOutOfTenantsReach checks the ledger a tenant-wide
// quota is charged to: it is named after the Tenant and controlled by it
// (the garbage collector deletes it with the Tenant), no identity of the
// tenant can read, change or delete it (RBAC grants none of them anything
// on it), an identity given RBAC on it by mistake is still refused by the
// managed-objects rule, and not even a cluster admin can record a negative
// usage in it.
func TestTenantQuotaLedgerIsOutOfTenantsReach(t *testing.T) {
	l := testutil.Quantities
	tn := testutil.Tenant("tql").Owner("tql-owner").Member("tql-dev").TenantQuota(l("pods", "5")).Obj()
	deleteLedgerAtEnd(t, "tql")
	env.TenantWithNamespace(t, tn, "tql-a")
	testenv.Eventually(t, "the ledger counted", func() error {
		got := ledgerOf(t, "tql")
		if _, ok := got.Status.Usage[corev1.ResourcePods]; !ok {
			return fmt.Errorf("ledger usage %v", got.Status.Usage)
		}
		return nil
	})
	ledger := ledgerOf(t, "tql")
	live := &tenancyv1alpha1.Tenant{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "tql"}, live); err != nil {
		t.Fatal(err)
	}
	if ref := metav1.GetControllerOf(ledger); ref == nil || ref.Kind != "Tenant" || ref.UID != live.UID {
		t.Errorf("ledger controller %+v, want the Tenant (uid %s)", ref, live.UID)
	}
	if ledger.Labels[tenancyv1alpha1.ManagedByLabel] != tenancyv1alpha1.ManagedByValue {
		t.Errorf("ledger labels %v, want Bulkhead's managed label", ledger.Labels)
	}

	forbidden := func(t *testing.T, what string, err error, verb, resource string) {
		t.Helper()
		want := `cannot ` + verb + ` resource "` + resource + `"`
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want Forbidden by RBAC (%s)", what, err, want)
		}
	}
	for _, user := range []string{"tql-owner", "tql-dev"} {
		c := env.As(user)
		forbidden(t, user+" reading the ledger", c.Get(ctx, client.ObjectKey{Name: "tql"}, &tenancyv1alpha1.TenantQuotaLedger{}), "get", "tenantquotaledgers")
		forbidden(t, user+" listing ledgers", c.List(ctx, &tenancyv1alpha1.TenantQuotaLedgerList{}), "list", "tenantquotaledgers")
		forged := ledger.DeepCopy()
		forged.Status.Usage = l("pods", "0")
		forbidden(t, user+" zeroing the ledger", c.Status().Update(ctx, forged), "update", "tenantquotaledgers/status")
		forbidden(t, user+" deleting the ledger", c.Delete(ctx, ledger.DeepCopy()), "delete", "tenantquotaledgers")
	}

	// Someone an admin gave write access to ledgers by mistake, without
	// being Bulkhead or an admin, meets the managed-objects rule.
	grantLedgers(t, "tql-operator", "get", "update", "delete")
	operator := env.As("tql-operator")
	testenv.Eventually(t, "the operator may read ledgers", func() error {
		return operator.Get(ctx, client.ObjectKey{Name: "tql"}, &tenancyv1alpha1.TenantQuotaLedger{})
	})
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		got := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := operator.Get(ctx, client.ObjectKey{Name: "tql"}, got); err != nil {
			return err
		}
		got.Status.Usage = l("pods", "0")
		return operator.Status().Update(ctx, got)
	})
	const managedMessage = "tenant tql: TenantQuotaLedger tql is managed by Bulkhead [rule managed-objects]"
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), managedMessage) {
		t.Errorf("an outsider zeroing the ledger: %v, want Forbidden by the managed-objects rule", err)
	}
	err = operator.Delete(ctx, ledger.DeepCopy())
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), managedMessage) {
		t.Errorf("an outsider deleting the ledger: %v, want Forbidden by the managed-objects rule", err)
	}

	// The account cannot go below zero, whoever writes it.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		got := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "tql"}, got); err != nil {
			return err
		}
		got.Status.Usage = l("pods", "-3")
		return env.Client.Status().Update(ctx, got, client.DryRunAll)
	})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "status.usage: Invalid value: quantities must not be negative") {
		t.Errorf("a negative usage written to the ledger: got %v, want Invalid at status.usage", err)
	}
}

// TestTenantQuotaLedgerCreatedWithoutLabelsIsTakenOver plays someone given
// RBAC on ledgers by mistake who creates a Tenant's ledger before the
// recount does: without Bulkhead's labels (the managed-objects rule refuses
// a create with them), controlled by the Tenant, holding a reservation of
// that person's making. Once the Tenant gets a tenant-wide quota, the
// recount takes the ledger over: it carries Bulkhead's labels, its account
// is counted afresh, and the managed-objects rule keeps that person off it.
func TestTenantQuotaLedgerCreatedWithoutLabelsIsTakenOver(t *testing.T) {
	l := testutil.Quantities
	tn := testutil.Tenant("tqp").Owner("tqp-owner").Obj()
	deleteLedgerAtEnd(t, "tqp") // after the Tenant, or the recount makes it again
	env.CreateTenant(t, tn)
	live := env.WaitReady(t, "tqp")

	grantLedgers(t, "tqp-operator", "create", "get", "update")
	operator := env.As("tqp-operator")
	forged := &tenancyv1alpha1.TenantQuotaLedger{ObjectMeta: metav1.ObjectMeta{
		Name: "tqp",
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: tenancyv1alpha1.GroupVersion.String(), Kind: "Tenant", Name: "tqp", UID: live.UID, Controller: ptr.To(true),
		}},
	}}
	testenv.Eventually(t, "the operator to create an unlabelled ledger", func() error { return operator.Create(ctx, forged) })
	forged.Status.Reservations = []tenancyv1alpha1.QuotaReservation{{
		Kind: tenancyv1alpha1.QuotaObjectPod, Namespace: "tqp-a", Name: "never-created",
		AdmissionTime: metav1.NewTime(time.Now()), Amount: l("pods", "3"),
	}}
	forged.Status.Usage = l("pods", "3")
	if err := operator.Status().Update(ctx, forged); err != nil {
		t.Fatalf("the operator writing the unlabelled ledger's account: %v", err)
	}

	env.UpdateTenant(t, "tqp", func(tn *tenancyv1alpha1.Tenant) {
		tn.Spec.Quota.Tenant = &tenancyv1alpha1.TenantLimits{Hard: l("pods", "5")}
	})
	want := tenantquota.NewLedger(live).Labels
	testenv.Eventually(t, "the recount to take the ledger over", func() error {
		got := ledgerOf(t, "tqp")
		if !equality.Semantic.DeepEqual(got.Labels, want) || !tenantquota.Owned(live, got) {
			return fmt.Errorf("ledger labels %v, owners %+v", got.Labels, got.OwnerReferences)
		}
		if q, ok := got.Status.Usage[corev1.ResourcePods]; !ok || q.Value() != 0 || len(got.Status.Reservations) != 0 {
			return fmt.Errorf("ledger usage %v with reservations %+v, want pods 0 and none", got.Status.Usage, got.Status.Reservations)
		}
		return nil
	})

	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		got := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := operator.Get(ctx, client.ObjectKey{Name: "tqp"}, got); err != nil {
			return err
		}
		got.Status.Usage = l("pods", "0")
		got.Status.Reservations = nil
		return operator.Status().Update(ctx, got)
	})
	const managed = "tenant tqp: TenantQuotaLedger tqp is managed by Bulkhead [rule managed-objects]"
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), managed) {
		t.Errorf("the operator rewriting the ledger after the take-over: %v, want Forbidden by the managed-objects rule", err)
	}
}

// TestTenantQuotaTakeOverNeverShowsAnEarlierAccount gives a new Tenant a
// tenant-wide quota while the ledger of an earlier Tenant of the same name,
// nearly full, is still there (here no garbage collector runs to delete
// it), and watches the ledger: every version of it the API server stores
// is one an admission may read. None may let the new Tenant be charged
// against the earlier account: each is refused until the ledger holds the
// new Tenant's own count.
func TestTenantQuotaTakeOverNeverShowsAnEarlierAccount(t *testing.T) {
	l := testutil.Quantities
	earlier := tenantquota.NewLedger(testutil.Tenant("tqt").UID("6a0c1d0e-0000-4000-8000-000000000001").Obj())
	deleteLedgerAtEnd(t, "tqt")
	if err := env.Client.Create(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	earlier.Status.Usage = l("pods", "4")
	if err := env.Client.Status().Update(ctx, earlier); err != nil {
		t.Fatal(err)
	}

	watcher, err := client.NewWithWatch(env.Config(), client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := watcher.Watch(ctx, &tenancyv1alpha1.TenantQuotaLedgerList{}, &client.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", "tqt"),
		Raw:           &metav1.ListOptions{ResourceVersion: earlier.ResourceVersion},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	env.CreateTenant(t, testutil.Tenant("tqt").Owner("tqt-owner").TenantQuota(l("pods", "5")).Obj())
	live := &tenancyv1alpha1.Tenant{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "tqt"}, live); err != nil {
		t.Fatal(err)
	}
	pod := tenantquota.Object{Kind: tenantquota.KindPod, Namespace: "tqt-a", Name: "web", Amount: l("pods", "1")}
	timeout := time.After(60 * time.Second)
	for versions := 1; ; versions++ {
		var ev watch.Event
		select {
		case ev = <-w.ResultChan():
		case <-timeout:
			t.Fatalf("timed out watching the ledger, after %d versions, for the new Tenant's count", versions-1)
		}
		ledger, ok := ev.Object.(*tenancyv1alpha1.TenantQuotaLedger)
		if !ok || ev.Type != watch.Modified {
			t.Fatalf("watch event %s %T, want the ledger modified", ev.Type, ev.Object)
		}
		fresh := equality.Semantic.DeepEqual(ledger.Status.Usage, l("pods", "0"))
		d := tenantquota.Admit(live, ledger, pod, true, time.Now())
		if d.Allowed && !fresh {
			t.Fatalf("version %d of the ledger (owners %+v, usage %v) admits a pod of the new Tenant against the earlier account",
				versions, ledger.OwnerReferences, ledger.Status.Usage)
		}
		if d.Allowed {
			return
		}
		if !strings.Contains(d.Message, "not been counted yet") {
			t.Fatalf("version %d of the ledger: refused with %q, want it not counted yet", versions, d.Message)
		}
	}
}

// grantLedgers gives user verbs on ledgers and their status, as a cluster
// admin might by mistake. The authorizer learns of it from a watch: retry
// the first request.
func grantLedgers(t *testing.T, user string, verbs ...string) {
	t.Helper()
	name := "test-ledgers-" + user
	env.Ensure(t, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{tenancyv1alpha1.GroupVersion.Group},
			Resources: []string{"tenantquotaledgers", "tenantquotaledgers/status"}, Verbs: verbs}},
	})
	env.Ensure(t, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	})
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}})
		_ = env.Client.Delete(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
}

// deleteLedgerAtEnd deletes the ledger of tenant when the test ends: no
// garbage collector runs here to delete it with its Tenant.
func deleteLedgerAtEnd(t *testing.T, tenant string) {
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx, &tenancyv1alpha1.TenantQuotaLedger{ObjectMeta: metav1.ObjectMeta{Name: tenant}})
	})
}

// ledgerOf reads the TenantQuotaLedger of tenant, failing the test if
// reading fails for any reason but its absence (an empty ledger then).
func ledgerOf(t *testing.T, tenant string) *tenancyv1alpha1.TenantQuotaLedger {
	t.Helper()
	got := &tenancyv1alpha1.TenantQuotaLedger{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: tenant}, got); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	return got
}
