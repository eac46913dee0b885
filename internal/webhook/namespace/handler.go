package namespace

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	ctrl "sigs.k8s.io/controller-runtime"

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
	// that concurrent creates cannot all squeeze under namespaces.max.
	mu       sync.Mutex
	reserved map[string]map[string]time.Time // tenant -> namespace -> expiry
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
	inUse, err := h.inUse(ctx)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	d := DecideCreate(ns, caller, tenants, inUse, h.Settings)
	if !d.Allowed {
		ctrl.LoggerFrom(ctx).V(1).Info("Refused namespace", "namespace", ns.Name, "user", caller.User, "reason", d.Message)
		return respond(d)
	}
	tenant := d.Labels[tenancyv1alpha1.TenantLabel]
	if req.DryRun == nil || !*req.DryRun {
		h.reserve(tenant, ns.Name)
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
func (h *Handler) inUse(ctx context.Context) (map[string]int, error) {
	list := &corev1.NamespaceList{}
	if err := h.Reader.List(ctx, list, client.HasLabels{tenancyv1alpha1.TenantLabel}); err != nil {
		return nil, err
	}
	seen := map[string]map[string]bool{}
	count := map[string]int{}
	for _, ns := range list.Items {
		t := ns.Labels[tenancyv1alpha1.TenantLabel]
		if seen[t] == nil {
			seen[t] = map[string]bool{}
		}
		seen[t][ns.Name] = true
		if ns.DeletionTimestamp.IsZero() {
			count[t]++
		}
	}
	now := time.Now()
	for t, names := range h.reserved {
		for name, expiry := range names {
			if now.After(expiry) || seen[t][name] {
				delete(names, name)
				continue
			}
			count[t]++
		}
	}
	return count, nil
}

func (h *Handler) reserve(tenant, name string) {
	if h.reserved == nil {
		h.reserved = map[string]map[string]time.Time{}
	}
	if h.reserved[tenant] == nil {
		h.reserved[tenant] = map[string]time.Time{}
	}
	h.reserved[tenant][name] = time.Now().Add(reservationTTL)
}

func respond(d Decision) admission.Response {
	if d.Allowed {
		return admission.Allowed("")
	}
	return admission.Denied(d.Message)
}
