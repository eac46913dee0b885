package namespace

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/claims"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// Paths the handlers are served on.
const (
	MutatePath   = "/namespaces/mutate"
	ValidatePath = "/namespaces/validate"
)

// Handler adapts DecideCreate and DecideUpdate to admission requests.
type Handler struct {
	// Reader reads Tenants and namespaces, from the cache.
	Reader client.Reader
	// Ledgers hold the namespaces admitted but perhaps not yet stored, so
	// that concurrent creates, on any replica, cannot all squeeze under
	// namespaces.max (see package claims).
	Ledgers  *claims.NamespaceLedgers
	batches  batches
	Settings render.Settings
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	ns := &corev1.Namespace{}
	if err := json.Unmarshal(req.Object.Raw, ns); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	tenants := &tenancyv1alpha1.TenantList{}
	if err := h.Reader.List(ctx, tenants); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	switch req.Operation {
	case admissionv1.Create:
		return h.create(ctx, req, ns, tenants.Items)
	case admissionv1.Update:
		old := &corev1.Namespace{}
		if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		return respond(DecideUpdate(old, ns, tenants.Items, h.Settings))
	default:
		return admission.Allowed("")
	}
}

// maxAttempts bounds how often one batch of admissions decides again after
// another replica wrote the tenant's ledger first. Each loss means another
// admission was recorded, so the loop ends; the bound only guards against
// a fault that repeats.
const maxAttempts = 50

// batchTimeout bounds one batch's reads and write; the API server gives up
// on the webhook sooner (its timeoutSeconds).
const batchTimeout = 10 * time.Second

func (h *Handler) create(ctx context.Context, req admission.Request, ns *corev1.Namespace, tenants []tenancyv1alpha1.Tenant) admission.Response {
	caller := Caller{User: req.UserInfo.Username, Groups: req.UserInfo.Groups}
	dryRun := req.DryRun != nil && *req.DryRun
	// A first decision, with nothing counted, finds the tenant and every
	// refusal that does not depend on the count.
	d := DecideCreate(ns, caller, tenants, nil, h.Settings)
	if d.Allowed {
		a := &ask{Create: Create{Namespace: ns, Caller: caller, Tenants: tenants, DryRun: dryRun}}
		var err error
		if d, err = h.admit(ctx, d.Labels[tenancyv1alpha1.TenantLabel], a); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}
	if !d.Allowed {
		ctrl.LoggerFrom(ctx).V(1).Info("Refused namespace", "namespace", ns.Name, "generateName", ns.GenerateName, "user", caller.User, "reason", d.Message)
		return respond(d)
	}
	return stamp(req, ns, d)
}

// ask is one create waiting to be decided with the tenant's count.
type ask struct {
	Create
	done chan outcome
}

type outcome struct {
	d   Decision
	err error
}

// batches groups the creates of each tenant that arrive while an earlier
// group is being decided and written: one read of the ledger and one write
// decide them all, in the order they came. Without it, concurrent creates
// of one tenant each read the ledger, and all but one lose the
// compare-and-swap and start again; at 16 at once on a busy API server,
// the last ones ran past the API server's webhook timeout. The batch only
// spares writes: correctness is the ledger's compare-and-swap, as for a
// single create, since other replicas batch on their own.
type batches struct {
	mu      sync.Mutex
	pending map[string][]*ask
}

// admit decides a against its tenant's count, batched with the tenant's
// other creates in flight on this replica.
func (h *Handler) admit(ctx context.Context, tenant string, a *ask) (Decision, error) {
	a.done = make(chan outcome, 1)
	h.batches.mu.Lock()
	if h.batches.pending == nil {
		h.batches.pending = map[string][]*ask{}
	}
	waiting, busy := h.batches.pending[tenant]
	h.batches.pending[tenant] = append(waiting, a)
	h.batches.mu.Unlock()
	if !busy {
		// The first in starts the tenant's loop; the others join the
		// batch it takes next.
		go h.drain(tenant)
	}
	select {
	case o := <-a.done:
		return o.d, o.err
	case <-ctx.Done():
		// Decided or not, the reservation it may get expires on its own.
		return Decision{}, ctx.Err()
	}
}

// drain decides the tenant's waiting creates, batch after batch, until none
// is left.
func (h *Handler) drain(tenant string) {
	// The ledger as the previous batch wrote it: fresher than the cache,
	// which may not show that write yet.
	var last *tenancyv1alpha1.NamespaceLedger
	for {
		h.batches.mu.Lock()
		batch := h.batches.pending[tenant]
		if len(batch) == 0 {
			delete(h.batches.pending, tenant)
			h.batches.mu.Unlock()
			return
		}
		h.batches.pending[tenant] = batch[:0:0]
		h.batches.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		var outcomes []outcome
		outcomes, last = h.decideBatch(ctx, tenant, batch, last)
		cancel()
		for i, a := range batch {
			a.done <- outcomes[i]
		}
	}
}

// decideBatch decides batch, in order, with the tenant's cached namespaces
// and its ledger's reservations counted, each admission counting against
// the ones after it, and records the admissions in the ledger with one
// write (none for dry runs). last is the ledger as this replica last wrote
// it, or nil; it returns the ledger as written now, or nil.
func (h *Handler) decideBatch(ctx context.Context, tenant string, batch []*ask, last *tenancyv1alpha1.NamespaceLedger) ([]outcome, *tenancyv1alpha1.NamespaceLedger) {
	out := make([]outcome, len(batch))
	fail := func(err error) ([]outcome, *tenancyv1alpha1.NamespaceLedger) {
		for i := range out {
			out[i] = outcome{err: err}
		}
		return out, nil
	}
	for attempt := range maxAttempts {
		list := &corev1.NamespaceList{}
		if err := h.Reader.List(ctx, list, client.MatchingLabels{tenancyv1alpha1.TenantLabel: tenant}); err != nil {
			return fail(err)
		}
		// The first read is the ledger this replica last wrote, else the
		// cache's; after a lost race, the API server's. A stale first read
		// only loses the race (claims.NamespaceLedgers.Get).
		ledger := last
		var err error
		if attempt > 0 || ledger == nil {
			ledger, err = h.Ledgers.Get(ctx, tenant, attempt == 0)
		}
		if err != nil {
			return fail(err)
		}
		now := time.Now()
		creates := make([]Create, len(batch))
		for i, a := range batch {
			creates[i] = a.Create
		}
		decisions, admitted, owner := DecideBatch(tenant, list.Items, ledger.Spec.Reservations, creates, now, h.Settings)
		for i, d := range decisions {
			out[i] = outcome{d: d}
		}
		if len(admitted) == 0 {
			return out, ledger
		}
		written, err := h.Ledgers.Reserve(ctx, ledger, owner, now, admitted...)
		switch {
		case claims.IsLostRace(err):
			continue
		case err != nil:
			return fail(err)
		}
		return out, written
	}
	return fail(errors.New("too many concurrent namespace creates for the tenant; try again"))
}

// stamp sets the decision's labels and annotations on the new namespace.
func stamp(req admission.Request, ns *corev1.Namespace, d Decision) admission.Response {
	mutated := ns.DeepCopy()
	if mutated.Labels == nil {
		mutated.Labels = map[string]string{}
	}
	for k, v := range d.Labels {
		mutated.Labels[k] = v
	}
	if len(d.Annotations) > 0 && mutated.Annotations == nil {
		mutated.Annotations = map[string]string{}
	}
	for k, v := range d.Annotations {
		mutated.Annotations[k] = v
	}
	raw, err := json.Marshal(mutated)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, raw)
}

func respond(d Decision) admission.Response {
	if d.Allowed {
		return admission.Allowed("")
	}
	return admission.Denied(d.Message)
}
