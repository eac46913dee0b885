package namespace

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// Paths the handlers are served on.
const (
	MutatePath   = "/namespaces/mutate"
	ValidatePath = "/namespaces/validate"
)

// Handler adapts DecideCreate and DecideUpdate to admission requests.
type Handler struct {
	Reader   client.Reader
	Settings render.Settings

	// reserved counts namespaces admitted but not yet seen in the cache, so
	// that concurrent creates cannot all squeeze under namespaces.max. It is
	// keyed by the admission request's UID, because a namespace created
	// with generateName has no name yet when it is admitted.
	mu       sync.Mutex
	reserved map[types.UID]reservation
	// released are the names of namespaces that have released a
	// reservation, until that reservation would have expired: a namespace
	// releases at most one, so it can never stand for a generated namespace
	// that is still on its way.
	released map[string]time.Time
}

// reservation is one admitted namespace the cache may not show yet.
type reservation struct {
	tenant string
	// name is the namespace's name; empty when the API server generates
	// it, and then base is what the name will start with.
	name, base string
	// made is when the namespace was admitted; a generated name can only
	// be one created since.
	made, expiry time.Time
}

// reservationTTL bounds how long an admitted namespace is counted before the
// cache shows it (or shows that another admission step refused it).
const reservationTTL = 30 * time.Second

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

func (h *Handler) create(ctx context.Context, req admission.Request, ns *corev1.Namespace, tenants []tenancyv1alpha1.Tenant) admission.Response {
	caller := Caller{User: req.UserInfo.Username, Groups: req.UserInfo.Groups}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	inUse, err := h.inUse(ctx, now)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	d := DecideCreate(ns, caller, tenants, inUse, h.Settings)
	if !d.Allowed {
		ctrl.LoggerFrom(ctx).V(1).Info("Refused namespace", "namespace", ns.Name, "generateName", ns.GenerateName, "user", caller.User, "reason", d.Message)
		return respond(d)
	}
	if req.DryRun == nil || !*req.DryRun {
		h.reserve(req.UID, reservation{
			tenant: d.Labels[tenancyv1alpha1.TenantLabel],
			name:   ns.Name, base: GeneratedBase(ns.GenerateName),
			made: now, expiry: now.Add(reservationTTL),
		})
	}
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

// inUse counts each tenant's namespaces: those in the cache plus reservations
// the cache does not show yet. Callers hold h.mu.
//
// A named reservation is released when the cache shows its name; the same
// name reserved twice (the API server calls a mutating webhook again when a
// later one changed the object) counts once. A generated reservation is
// released by a namespace of its tenant that the cache shows, whose name is
// its base and a suffix, created since it was made, and that has not
// released another reservation. Oldest first, so that each namespace
// releases the reservation most likely its own; any choice among equals
// gives the same count. A namespace that never came through this webhook
// (a cluster admin's) could release a generated reservation that is not
// its own; the count is then one short only until the real namespace
// reaches the cache, a moment later.
func (h *Handler) inUse(ctx context.Context, now time.Time) (map[string]int, error) {
	list := &corev1.NamespaceList{}
	if err := h.Reader.List(ctx, list, client.HasLabels{tenancyv1alpha1.TenantLabel}); err != nil {
		return nil, err
	}
	seen := map[string]map[string]*corev1.Namespace{}
	count := map[string]int{}
	for i := range list.Items {
		ns := &list.Items[i]
		t := ns.Labels[tenancyv1alpha1.TenantLabel]
		if seen[t] == nil {
			seen[t] = map[string]*corev1.Namespace{}
		}
		seen[t][ns.Name] = ns
		if ns.DeletionTimestamp.IsZero() {
			count[t]++
		}
	}
	for name, until := range h.released {
		if now.After(until) {
			delete(h.released, name)
		}
	}
	pendingNames := map[string]map[string]bool{}
	var generated []types.UID
	for uid, r := range h.reserved {
		switch {
		case now.After(r.expiry):
			delete(h.reserved, uid)
		case r.name == "":
			generated = append(generated, uid)
		case seen[r.tenant][r.name] != nil:
			h.release(uid, r.name, now)
		default:
			if pendingNames[r.tenant] == nil {
				pendingNames[r.tenant] = map[string]bool{}
			}
			pendingNames[r.tenant][r.name] = true
		}
	}
	for t, names := range pendingNames {
		count[t] += len(names)
	}
	sort.Slice(generated, func(i, j int) bool {
		a, b := h.reserved[generated[i]], h.reserved[generated[j]]
		if !a.made.Equal(b.made) {
			return a.made.Before(b.made)
		}
		return generated[i] < generated[j]
	})
	for _, uid := range generated {
		r := h.reserved[uid]
		if name := h.generatedFor(r, seen[r.tenant]); name != "" {
			h.release(uid, name, now)
			continue
		}
		count[r.tenant]++
	}
	return count, nil
}

// generatedFor returns the first namespace in the cache that can be the
// one generated for r, or "".
func (h *Handler) generatedFor(r reservation, cached map[string]*corev1.Namespace) string {
	// Creation timestamps have whole seconds.
	since := r.made.Truncate(time.Second)
	var names []string
	for name, ns := range cached {
		if len(name) == len(r.base)+generatedSuffixLength && strings.HasPrefix(name, r.base) &&
			!ns.CreationTimestamp.Time.Before(since) && h.released[name].IsZero() {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return names[0]
}

// release drops a reservation that namespace name stands for, and keeps
// name from releasing another while any reservation it could match is
// alive: those were made before name was created, give or take the second
// that creation timestamps are rounded to.
func (h *Handler) release(uid types.UID, name string, now time.Time) {
	delete(h.reserved, uid)
	if h.released == nil {
		h.released = map[string]time.Time{}
	}
	h.released[name] = now.Add(reservationTTL + time.Second)
}

func (h *Handler) reserve(uid types.UID, r reservation) {
	if h.reserved == nil {
		h.reserved = map[types.UID]reservation{}
	}
	h.reserved[uid] = r
}

func respond(d Decision) admission.Response {
	if d.Allowed {
		return admission.Allowed("")
	}
	return admission.Denied(d.Message)
}
