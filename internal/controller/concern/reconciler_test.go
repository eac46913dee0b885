package concern

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/tenantstatus"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// The reconciler is exercised with a concern of its own that renders one
// ConfigMap per tenant namespace: what is under test is the machinery
// (scope, apply, prune, condition, finalizer), not any concern's rules.
const (
	testConcern   render.Concern = "test"
	testCondition                = "TestReady"
	testFinalizer                = tenancyv1alpha1.FinalizerPrefix + "test"
)

func configMap(tenant, namespace, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: namespace, Name: name, Labels: render.ManagedLabels(tenant, testConcern),
	}}
}

// describe returns a test concern, recording the scope it was handed.
func describe(seen **render.Scope) Concern {
	return Concern{
		Name:      testConcern,
		Condition: testCondition,
		Kinds:     []client.Object{&corev1.ConfigMap{}},
		Render: func(_ context.Context, _ client.Reader, sc *render.Scope) ([]client.Object, error) {
			*seen = sc
			var out []client.Object
			for _, ns := range sc.Namespaces {
				out = append(out, configMap(sc.Tenant.Name, ns, "rendered"))
			}
			return out, nil
		},
	}
}

func newClient(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).
		WithStatusSubresource(&tenancyv1alpha1.Tenant{}).
		WithReturnManagedFields().
		WithIndex(&corev1.Namespace{}, NamespaceTenantIndex, func(obj client.Object) []string {
			if v := obj.GetLabels()[tenancyv1alpha1.TenantLabel]; v != "" {
				return []string{v}
			}
			return nil
		}).
		WithObjects(objs...).
		Build()
}

func reconcileTenant(t *testing.T, c client.Client, con Concern, name string) error {
	t.Helper()
	r := &Reconciler{Client: c, Scheme: c.Scheme(), Settings: render.DefaultSettings(), Concern: con}
	_, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Name: name}})
	return err
}

func tenantNamespace(name, tenant string) *corev1.Namespace {
	return testutil.Namespace(name).Label(tenancyv1alpha1.TenantLabel, tenant).Obj()
}

func configMapNames(t *testing.T, c client.Client) []string {
	t.Helper()
	list := &corev1.ConfigMapList{}
	if err := c.List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cm := range list.Items {
		out = append(out, cm.Namespace+"/"+cm.Name)
	}
	slices.Sort(out)
	return out
}

func getTenant(t *testing.T, c client.Client, name string) *tenancyv1alpha1.Tenant {
	t.Helper()
	tn := &tenancyv1alpha1.Tenant{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: name}, tn); err != nil {
		t.Fatal(err)
	}
	return tn
}

func TestReconcileAppliesPrunesAndReports(t *testing.T) {
	tn := testutil.Tenant("acme").UID("u-acme").Obj()
	tn.Generation = 3
	c := newClient(t, tn,
		tenantNamespace("acme-b", "acme"), tenantNamespace("acme-a", "acme"), tenantNamespace("other", "initech"),
		// Stale: rendered once, no longer wanted.
		configMap("acme", "acme-a", "stale"),
		// Another tenant's and another concern's objects are not this one's to prune.
		configMap("initech", "other", "rendered"),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "acme-a", Name: "foreign", Labels: render.ManagedLabels("acme", render.ConcernQuota)}},
	)
	var seen *render.Scope
	if err := reconcileTenant(t, c, describe(&seen), "acme"); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}

	if seen == nil {
		t.Fatal("Render was not called")
	}
	if diff := cmp.Diff([]string{"acme-a", "acme-b"}, seen.Namespaces); diff != "" {
		t.Errorf("scope namespaces (-want +got):\n%s", diff)
	}
	if seen.Spec.Namespaces.Max == nil || *seen.Spec.Namespaces.Max != *render.Effective(tn, render.DefaultSettings()).Namespaces.Max {
		t.Errorf("scope spec is not the effective spec: namespaces.max %v", seen.Spec.Namespaces.Max)
	}
	want := []string{"acme-a/foreign", "acme-a/rendered", "acme-b/rendered", "other/rendered"}
	if diff := cmp.Diff(want, configMapNames(t, c)); diff != "" {
		t.Errorf("ConfigMaps (-want +got):\n%s", diff)
	}

	got := getTenant(t, c, "acme")
	for _, f := range append([]string{testFinalizer}, tenancyv1alpha1.Finalizers...) {
		if !slices.Contains(got.Finalizers, f) {
			t.Errorf("finalizers %v lack %s", got.Finalizers, f)
		}
	}
	cond := meta.FindStatusCondition(got.Status.Conditions, testCondition)
	if cond == nil {
		t.Fatalf("no %s condition in %+v", testCondition, got.Status.Conditions)
	}
	wantCond := metav1.Condition{
		Type: testCondition, Status: metav1.ConditionTrue, Reason: tenancyv1alpha1.ReasonApplied, ObservedGeneration: 3,
		Message: "every test object of the tenant's namespaces matches the Tenant",
	}
	if diff := cmp.Diff(wantCond, *cond, cmpIgnoreTime); diff != "" {
		t.Errorf("condition (-want +got):\n%s", diff)
	}
	// The field managers are part of the API: each concern owns its
	// condition under its own name; the first controller to see a Tenant
	// adds every finalizer, its own too, in one write.
	var managers []string
	for _, m := range got.ManagedFields {
		if m.Operation == metav1.ManagedFieldsOperationApply {
			managers = append(managers, m.Manager)
		}
	}
	slices.Sort(managers)
	if diff := cmp.Diff([]string{tenantstatus.FinalizersManager, "bulkhead-test"}, managers); diff != "" {
		t.Errorf("apply managers of the Tenant (-want +got):\n%s", diff)
	}
}

var cmpIgnoreTime = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".LastTransitionTime" }, cmp.Ignore())

func TestReconcileCondition(t *testing.T) {
	for _, tc := range []struct {
		name       string
		change     func(*Concern)
		wantStatus metav1.ConditionStatus
		wantReason string
		wantMsg    string
		wantErr    bool
	}{
		{
			name:       "disabled says why",
			change:     func(c *Concern) { c.Disabled = func(*render.Scope) string { return "turned off" } },
			wantStatus: metav1.ConditionTrue, wantReason: tenancyv1alpha1.ReasonDisabled, wantMsg: "turned off",
		},
		{
			name: "pending says what it waits for, and is no failure",
			change: func(c *Concern) {
				c.Render = func(context.Context, client.Reader, *render.Scope) ([]client.Object, error) {
					return nil, &PendingError{Message: "waiting for the network"}
				}
			},
			wantStatus: metav1.ConditionFalse, wantReason: tenancyv1alpha1.ReasonWaiting, wantMsg: "waiting for the network",
		},
		{
			name: "a failed render is retried",
			change: func(c *Concern) {
				c.Render = func(context.Context, client.Reader, *render.Scope) ([]client.Object, error) {
					return nil, errors.New("PriorityClass gold does not exist")
				}
			},
			wantStatus: metav1.ConditionFalse, wantReason: tenancyv1alpha1.ReasonApplyFailed, wantMsg: "PriorityClass gold does not exist. Bulkhead retries with backoff; if this stays, the manager's logs (bulkhead-system) say more", wantErr: true,
		},
		{
			name: "a failed sweep is retried",
			change: func(c *Concern) {
				c.Sweep = func(context.Context, *render.Scope) error {
					return errors.New("deleting RoleBinding acme-a/x: refused")
				}
			},
			wantStatus: metav1.ConditionFalse, wantReason: tenancyv1alpha1.ReasonApplyFailed, wantMsg: "deleting RoleBinding acme-a/x: refused. Bulkhead retries with backoff; if this stays, the manager's logs (bulkhead-system) say more", wantErr: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := testutil.Tenant("acme").UID("u-acme").Obj()
			tn.Generation = 2
			c := newClient(t, tn, tenantNamespace("acme-a", "acme"))
			var seen *render.Scope
			con := describe(&seen)
			tc.change(&con)
			if err := reconcileTenant(t, c, con, "acme"); (err != nil) != tc.wantErr {
				t.Fatalf("Reconcile error = %v, want error %v", err, tc.wantErr)
			}
			cond := meta.FindStatusCondition(getTenant(t, c, "acme").Status.Conditions, testCondition)
			want := metav1.Condition{Type: testCondition, Status: tc.wantStatus, Reason: tc.wantReason, Message: tc.wantMsg, ObservedGeneration: 2}
			if cond == nil {
				t.Fatalf("no %s condition", testCondition)
			}
			if diff := cmp.Diff(want, *cond, cmpIgnoreTime); diff != "" {
				t.Errorf("condition (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReconcileDeletion(t *testing.T) {
	t.Run("waits for the namespaces controller", func(t *testing.T) {
		tn := testutil.Tenant("acme").UID("u-acme").Deleting().Obj()
		tn.Finalizers = []string{tenancyv1alpha1.FinalizerNamespaces, testFinalizer}
		c := newClient(t, tn, tenantNamespace("acme-a", "acme"), configMap("acme", "acme-a", "rendered"))
		var seen *render.Scope
		if err := reconcileTenant(t, c, describe(&seen), "acme"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"acme-a/rendered"}, configMapNames(t, c)); diff != "" {
			t.Errorf("ConfigMaps (-want +got):\n%s", diff)
		}
		if got := getTenant(t, c, "acme").Finalizers; !slices.Contains(got, testFinalizer) {
			t.Errorf("finalizer removed before the namespaces controller finished: %v", got)
		}
	})
	t.Run("removes everything, then its finalizer", func(t *testing.T) {
		tn := testutil.Tenant("acme").UID("u-acme").Deleting().Obj()
		tn.Finalizers = []string{"example.com/other", testFinalizer}
		c := newClient(t, tn, tenantNamespace("acme-a", "acme"), configMap("acme", "acme-a", "rendered"), configMap("initech", "other", "rendered"))
		var seen *render.Scope
		if err := reconcileTenant(t, c, describe(&seen), "acme"); err != nil {
			t.Fatal(err)
		}
		if seen != nil {
			t.Error("Render was called for a deleting Tenant")
		}
		if diff := cmp.Diff([]string{"other/rendered"}, configMapNames(t, c)); diff != "" {
			t.Errorf("ConfigMaps (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"example.com/other"}, getTenant(t, c, "acme").Finalizers); diff != "" {
			t.Errorf("finalizers (-want +got):\n%s", diff)
		}
	})
}

// TestHeldNamespacesAreNeitherWrittenNorPruned: a namespace without its
// TenantPolicy keeps what it holds (pruning it would open the namespace)
// and gets nothing new (the write would only be refused), while the
// namespaces that have one are furnished as usual.
func TestHeldNamespacesAreNeitherWrittenNorPruned(t *testing.T) {
	tn := testutil.Tenant("acme").UID("u-acme").Obj()
	policy := &tenancyv1alpha1.TenantPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "acme-a", Name: tenancyv1alpha1.TenantPolicyName}}
	c := newClient(t, tn, tenantNamespace("acme-a", "acme"), tenantNamespace("acme-b", "acme"), policy,
		// acme-b lost its TenantPolicy but still holds what was rendered.
		configMap("acme", "acme-b", "rendered"),
		// Stale in acme-b: pruned only once acme-b is no longer held.
		configMap("acme", "acme-b", "stale"),
	)
	var seen *render.Scope
	con := describe(&seen)
	rendered := con.Render
	con.Render = func(ctx context.Context, r client.Reader, sc *render.Scope) ([]client.Object, error) {
		objs, _ := rendered(ctx, r, sc)
		objs = append(objs, configMap("acme", "acme-b", "new"))
		return HoldUntilPolicies(ctx, r, sc, objs)
	}
	if err := reconcileTenant(t, c, con, "acme"); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if diff := cmp.Diff([]string{"acme-a/rendered", "acme-b/rendered", "acme-b/stale"}, configMapNames(t, c)); diff != "" {
		t.Errorf("ConfigMaps (-want +got):\n%s", diff)
	}
	cond := meta.FindStatusCondition(getTenant(t, c, "acme").Status.Conditions, testCondition)
	if cond == nil || cond.Reason != tenancyv1alpha1.ReasonWaiting || !strings.Contains(cond.Message, "namespaces acme-b wait for their TenantPolicy") {
		t.Errorf("condition = %+v, want Waiting for acme-b's TenantPolicy", cond)
	}
}
