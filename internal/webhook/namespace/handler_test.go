package namespace

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/claims"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func createRequest(t *testing.T, name, user string, dryRun bool) admission.Request {
	t.Helper()
	return requestFor(t, nsObj(name, nil), user, dryRun)
}

// requestFor is a CREATE of ns by user, with a request UID of its own, as
// the API server sends for every webhook call.
func requestFor(t *testing.T, ns *corev1.Namespace, user string, dryRun bool) admission.Request {
	t.Helper()
	raw, err := json.Marshal(ns)
	if err != nil {
		t.Fatal(err)
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       uuid.NewUUID(),
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
		UserInfo:  authenticationv1.UserInfo{Username: user},
		DryRun:    ptr.To(dryRun),
	}}
}

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}

// tenantNamespace is a namespace of tenant as the cache shows it once created.
func tenantNamespace(name, tenant string, created time.Time) *corev1.Namespace {
	ns := nsObj(name, map[string]string{tenancyv1alpha1.TenantLabel: tenant})
	ns.CreationTimestamp = metav1.NewTime(created)
	return ns
}

func refusedForMax(t *testing.T, resp admission.Response, inUse string) {
	t.Helper()
	if resp.Allowed || !strings.Contains(resp.Result.Message, "[rule namespaces.max]") || !strings.Contains(resp.Result.Message, inUse) {
		t.Fatalf("allowed=%v %q, want the namespace limit with %q", resp.Allowed, resp.Result.Message, inUse)
	}
}

// TestConcurrentCreatesCannotOvershootMax: the cache does not yet show a
// namespace admitted a moment ago, so the handler must count it itself.
func TestConcurrentCreatesCannotOvershootMax(t *testing.T) {
	reader := fake.NewClientBuilder().WithScheme(newScheme(t)).
		WithObjects(testutil.Tenant("acme").Owner("alice").Max(1).Obj()).Build()
	h := &Handler{Reader: reader, Ledgers: &claims.NamespaceLedgers{Client: reader, Reader: reader}, Settings: render.DefaultSettings()}

	if resp := h.Handle(context.Background(), createRequest(t, "acme-dry", "alice", true)); !resp.Allowed {
		t.Fatalf("dry run refused: %s", resp.Result.Message)
	}
	first := h.Handle(context.Background(), createRequest(t, "acme-a", "alice", false))
	if !first.Allowed {
		t.Fatalf("first create refused: %s", first.Result.Message)
	}
	if len(first.Patches) == 0 {
		t.Fatal("first create was not stamped with the tenant's labels")
	}
	// The dry run must not count.
	refusedForMax(t, h.Handle(context.Background(), createRequest(t, "acme-b", "alice", false)), "namespaces.max is 1, 1 in use")
}

// TestGeneratedNamesAreCountedUntilTheCacheShowsThem: a namespace created
// with generateName has no name at admission, so its reservation cannot be
// found by name; it is counted until a namespace that can be it appears,
// and a namespace that existed before cannot stand for it.
func TestGeneratedNamesAreCountedUntilTheCacheShowsThem(t *testing.T) {
	ctx := context.Background()
	before := time.Now().Add(-time.Hour)
	reader := fake.NewClientBuilder().WithScheme(newScheme(t)).
		WithObjects(testutil.Tenant("acme").Owner("alice").Max(3).Obj(),
			// An old namespace whose name looks generated from "acme-ci-".
			tenantNamespace("acme-ci-old22", "acme", before)).Build()
	h := &Handler{Reader: reader, Ledgers: &claims.NamespaceLedgers{Client: reader, Reader: reader}, Settings: render.DefaultSettings()}
	gen := func() admission.Response {
		return h.Handle(ctx, requestFor(t, generated("acme-ci-", nil), "alice", false))
	}

	for i := range 2 {
		resp := gen()
		if !resp.Allowed {
			t.Fatalf("generated create %d refused: %s", i, resp.Result.Message)
		}
		if len(resp.Patches) == 0 {
			t.Fatalf("generated create %d was not stamped with the tenant's labels", i)
		}
	}
	refusedForMax(t, gen(), "3 in use")

	// One of the two arrives in the cache: it releases one reservation and
	// is counted itself, so the count stays.
	if err := reader.Create(ctx, tenantNamespace("acme-ci-bcdfg", "acme", time.Now())); err != nil {
		t.Fatal(err)
	}
	refusedForMax(t, gen(), "3 in use")
	// A namespace of another base releases nothing of "acme-ci-".
	if err := reader.Create(ctx, tenantNamespace("acme-web-bcdfg", "acme", time.Now())); err != nil {
		t.Fatal(err)
	}
	refusedForMax(t, gen(), "4 in use")
	// The second arrives: the last reservation goes, the count is the cache's.
	if err := reader.Create(ctx, tenantNamespace("acme-ci-zzzzz", "acme", time.Now())); err != nil {
		t.Fatal(err)
	}
	refusedForMax(t, gen(), "4 in use")
}

// TestTheSameNameReservedTwiceCountsOnce: the API server calls a mutating
// webhook again, with a new request UID, when a later one changed the
// object; that is one namespace, not two.
func TestTheSameNameReservedTwiceCountsOnce(t *testing.T) {
	ctx := context.Background()
	reader := fake.NewClientBuilder().WithScheme(newScheme(t)).WithObjects(testutil.Tenant("acme").Owner("alice").Max(2).Obj()).Build()
	h := &Handler{Reader: reader, Ledgers: &claims.NamespaceLedgers{Client: reader, Reader: reader}, Settings: render.DefaultSettings()}
	for _, name := range []string{"acme-a", "acme-a", "acme-b"} {
		if resp := h.Handle(ctx, createRequest(t, name, "alice", false)); !resp.Allowed {
			t.Fatalf("create %s refused: %s", name, resp.Result.Message)
		}
	}
	refusedForMax(t, h.Handle(ctx, createRequest(t, "acme-c", "alice", false)), "2 in use")
}

// TestConcurrentCreatesShareLedgerWrites: creates of one tenant arriving
// together are decided in batches, one ledger write each, in the order
// they came; exactly max are admitted however they are batched.
func TestConcurrentCreatesShareLedgerWrites(t *testing.T) {
	var writes atomic.Int64
	countLedger := func(obj client.Object) {
		if _, ok := obj.(*tenancyv1alpha1.NamespaceLedger); ok {
			writes.Add(1)
		}
	}
	// Each ledger write takes a while, as on a busy API server, so that
	// creates pile up behind it.
	slow := interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			countLedger(obj)
			time.Sleep(20 * time.Millisecond)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			countLedger(obj)
			time.Sleep(20 * time.Millisecond)
			return c.Update(ctx, obj, opts...)
		},
	}
	c := fake.NewClientBuilder().WithScheme(newScheme(t)).WithInterceptorFuncs(slow).
		WithObjects(testutil.Tenant("acme").Owner("alice").Max(5).Obj()).Build()
	h := &Handler{Reader: c, Ledgers: &claims.NamespaceLedgers{Client: c, Reader: c}, Settings: render.DefaultSettings()}

	const tries = 20
	var wg sync.WaitGroup
	var admitted atomic.Int64
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := h.Handle(context.Background(), createRequest(t, fmt.Sprintf("acme-n%d", i), "alice", false))
			switch {
			case resp.Allowed:
				admitted.Add(1)
			case !strings.Contains(resp.Result.Message, "[rule namespaces.max]"):
				t.Errorf("acme-n%d refused for another reason: %s", i, resp.Result.Message)
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 5 {
		t.Errorf("%d of %d concurrent creates admitted against max 5, want 5", admitted.Load(), tries)
	}
	if w := writes.Load(); w >= 5 {
		t.Errorf("%d ledger writes for 5 admissions; want them batched into fewer", w)
	} else {
		t.Logf("%d creates, 5 admitted, %d ledger writes", tries, w)
	}
	ledger := &tenancyv1alpha1.NamespaceLedger{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: "acme"}, ledger); err != nil {
		t.Fatal(err)
	}
	if len(ledger.Spec.Reservations) != 5 {
		t.Errorf("ledger holds %d reservations, want the 5 admitted", len(ledger.Spec.Reservations))
	}
}
