package tenantquota

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	tq "github.com/bulkhead-dev/bulkhead/internal/tenantquota"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// recount runs one recount of tenant acme over objs and returns the client.
func recount(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	return recountThrough(t, interceptor.Funcs{}, objs...)
}

// recountThrough is recount with every call to the client passed through
// funcs.
func recountThrough(t *testing.T, funcs interceptor.Funcs, objs ...client.Object) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme)
	_ = tenancyv1alpha1.AddToScheme(scheme)
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&tenancyv1alpha1.Tenant{}, &tenancyv1alpha1.TenantQuotaLedger{}).
		WithIndex(&corev1.Namespace{}, concern.NamespaceTenantIndex, func(obj client.Object) []string {
			if tenant := obj.GetLabels()[tenancyv1alpha1.TenantLabel]; tenant != "" {
				return []string{tenant}
			}
			return nil
		}).
		WithInterceptorFuncs(funcs).Build()
	r := &Recounter{Client: c, APIReader: c, Interval: time.Minute, Now: func() time.Time { return now }}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Name: "acme"}}); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return c
}

func get(t *testing.T, c client.Client, obj client.Object) error {
	t.Helper()
	return c.Get(context.Background(), client.ObjectKey{Name: "acme"}, obj)
}

func TestRecountKeepsTheLedgerAndCopiesUsageToTheTenant(t *testing.T) {
	l := testutil.Quantities
	tn := testutil.Tenant("acme").UID("uid-2").Owner("alice").TenantQuota(l("pods", "10")).Obj()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "acme-a", Labels: map[string]string{tenancyv1alpha1.TenantLabel: "acme"}}}
	pods := []client.Object{tn, ns,
		testutil.Pod("acme-a", "web-1", "registry.example.com/app:1"),
		testutil.Pod("acme-a", "web-2", "registry.example.com/app:1"),
	}

	t.Run("a tenant without a ledger gets one, counted", func(t *testing.T) {
		c := recount(t, pods...)
		ledger := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := get(t, c, ledger); err != nil {
			t.Fatal(err)
		}
		if !tq.Owned(tn, ledger) {
			t.Errorf("ledger owners %+v, want the Tenant", ledger.OwnerReferences)
		}
		if want := l("pods", "2"); !equality.Semantic.DeepEqual(ledger.Status.Usage, want) {
			t.Errorf("ledger usage %v, want %v", ledger.Status.Usage, want)
		}
		got := &tenancyv1alpha1.Tenant{}
		if err := get(t, c, got); err != nil {
			t.Fatal(err)
		}
		if want := l("pods", "2"); !equality.Semantic.DeepEqual(got.Status.Usage, want) {
			t.Errorf("Tenant status.usage %v, want the ledger's %v", got.Status.Usage, want)
		}
	})

	t.Run("an earlier Tenant's ledger is taken over, its reservations dropped", func(t *testing.T) {
		earlier := tq.NewLedger(testutil.Tenant("acme").UID("uid-1").Obj())
		earlier.Status.Reservations = []tenancyv1alpha1.QuotaReservation{{
			Kind: tq.KindPod, Namespace: "acme-old", Name: "gone", AdmissionTime: metav1.NewTime(now), Amount: l("pods", "5"),
		}}
		c := recount(t, append(pods, earlier)...)
		ledger := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := get(t, c, ledger); err != nil {
			t.Fatal(err)
		}
		if !tq.Owned(tn, ledger) || len(ledger.Status.Reservations) != 0 {
			t.Errorf("ledger owned by %+v with reservations %+v, want the new Tenant's and none", ledger.OwnerReferences, ledger.Status.Reservations)
		}
		if want := l("pods", "2"); !equality.Semantic.DeepEqual(ledger.Status.Usage, want) {
			t.Errorf("ledger usage %v, want %v: the earlier Tenant's reservation counted", ledger.Status.Usage, want)
		}
	})

	t.Run("a ledger created without Bulkhead's labels is labelled and counted afresh", func(t *testing.T) {
		// Created by someone given RBAC on ledgers by mistake, before the
		// recount: controlled by the Tenant, but out of the managed-objects
		// rule's sight, with an account of that person's making.
		forged := tq.NewLedger(tn)
		forged.Labels = map[string]string{"example.com/made-by": "someone"}
		forged.Status.Usage = l("pods", "0")
		forged.Status.Reservations = []tenancyv1alpha1.QuotaReservation{{
			Kind: tq.KindPod, Namespace: "acme-a", Name: "never-created", AdmissionTime: metav1.NewTime(now), Amount: l("pods", "5"),
		}}
		c := recount(t, append(pods, forged)...)
		ledger := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := get(t, c, ledger); err != nil {
			t.Fatal(err)
		}
		if want := tq.NewLedger(tn).Labels; !equality.Semantic.DeepEqual(ledger.Labels, want) {
			t.Errorf("ledger labels %v, want NewLedger's %v, which the managed-objects rule matches", ledger.Labels, want)
		}
		if !tq.Owned(tn, ledger) || len(ledger.Status.Reservations) != 0 {
			t.Errorf("ledger owned by %+v with reservations %+v, want the Tenant's and none", ledger.OwnerReferences, ledger.Status.Reservations)
		}
		if want := l("pods", "2"); !equality.Semantic.DeepEqual(ledger.Status.Usage, want) {
			t.Errorf("ledger usage %v, want %v: the forged account was kept", ledger.Status.Usage, want)
		}
	})

	t.Run("a tenant whose quota is removed loses its ledger and its usage", func(t *testing.T) {
		free := tn.DeepCopy()
		free.Spec.Quota.Tenant = nil
		free.Status.Usage = l("pods", "2")
		c := recount(t, free, ns, tq.NewLedger(tn))
		if err := get(t, c, &tenancyv1alpha1.TenantQuotaLedger{}); !apierrors.IsNotFound(err) {
			t.Errorf("reading the ledger: %v, want it deleted", err)
		}
		got := &tenancyv1alpha1.Tenant{}
		if err := get(t, c, got); err != nil {
			t.Fatal(err)
		}
		if len(got.Status.Usage) != 0 {
			t.Errorf("Tenant status.usage %v, want none", got.Status.Usage)
		}
	})
}

// TestTakeOverNeverChargesTheEarlierAccount takes over the ledger of an
// earlier Tenant of the same name, reading the ledger after every write the
// recount makes, as an admission arriving at that moment would: none of
// those admissions may charge the new Tenant against the earlier one's
// account. Each is refused until the ledger holds the new Tenant's count.
func TestTakeOverNeverChargesTheEarlierAccount(t *testing.T) {
	l := testutil.Quantities
	tn := testutil.Tenant("acme").UID("uid-2").Owner("alice").TenantQuota(l("pods", "10")).Obj()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "acme-a", Labels: map[string]string{tenancyv1alpha1.TenantLabel: "acme"}}}
	earlier := tq.NewLedger(testutil.Tenant("acme").UID("uid-1").Obj())
	earlier.Status.Usage = l("pods", "7")

	var seen []*tenancyv1alpha1.TenantQuotaLedger
	afterWrite := func(ctx context.Context, c client.WithWatch, write func() error) error {
		if err := write(); err != nil {
			return err
		}
		ledger := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := c.Get(ctx, client.ObjectKey{Name: "acme"}, ledger); err != nil {
			t.Fatalf("reading the ledger after a write: %v", err)
		}
		seen = append(seen, ledger)
		return nil
	}
	recountThrough(t, interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			return afterWrite(ctx, c, func() error { return c.Update(ctx, obj, opts...) })
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			return afterWrite(ctx, c.(client.WithWatch), func() error { return c.SubResource(sub).Update(ctx, obj, opts...) })
		},
	}, tn, ns, testutil.Pod("acme-a", "web-1", "registry.example.com/app:1"), testutil.Pod("acme-a", "web-2", "registry.example.com/app:1"), earlier)

	pod := tq.Object{Kind: tq.KindPod, Namespace: "acme-a", Name: "web-3", Amount: l("pods", "1")}
	for i, ledger := range seen {
		d := tq.Admit(tn, ledger, pod, false, now)
		switch {
		case !d.Allowed && strings.Contains(d.Message, "not been counted yet"):
		case d.Allowed && equality.Semantic.DeepEqual(ledger.Status.Usage, l("pods", "2")):
		default:
			t.Errorf("after write %d of %d, an admission read a ledger owned by %+v with usage %v and decided %+v; "+
				"want a refusal until the ledger holds the new Tenant's count (pods 2)", i+1, len(seen), ledger.OwnerReferences, ledger.Status.Usage, d)
		}
	}
	if last := seen[len(seen)-1]; !tq.Owned(tn, last) || !equality.Semantic.DeepEqual(last.Status.Usage, l("pods", "2")) {
		t.Errorf("after the recount, the ledger is owned by %+v with usage %v, want the new Tenant's with pods 2", last.OwnerReferences, last.Status.Usage)
	}
}
