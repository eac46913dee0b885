package namespace

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// maxAttempts bounds how often one admission decides again after another
// wrote the tenant's ledger first. Each loss means another admission was
// recorded, so the loop ends; the bound only guards against a fault that
// repeats.
const maxAttempts = 50

func (h *Handler) create(ctx context.Context, req admission.Request, ns *corev1.Namespace, tenants []tenancyv1alpha1.Tenant) admission.Response {
	caller := Caller{User: req.UserInfo.Username, Groups: req.UserInfo.Groups}
	dryRun := req.DryRun != nil && *req.DryRun
	for range maxAttempts {
		d, err := h.decideCreate(ctx, ns, caller, tenants, dryRun)
		switch {
		case claims.IsLostRace(err):
			continue
		case err != nil:
			return admission.Errored(http.StatusInternalServerError, err)
		case !d.Allowed:
			ctrl.LoggerFrom(ctx).V(1).Info("Refused namespace", "namespace", ns.Name, "generateName", ns.GenerateName, "user", caller.User, "reason", d.Message)
			return respond(d)
		}
		return stamp(req, ns, d)
	}
	return admission.Errored(http.StatusConflict, errors.New("too many concurrent namespace creates for the tenant; try again"))
}

// decideCreate decides with the tenant's namespaces and its ledger's
// reservations counted, and records an admission in the ledger (except on
// a dry run). A first decision, with nothing counted, finds the tenant and
// every refusal that does not depend on the count.
func (h *Handler) decideCreate(ctx context.Context, ns *corev1.Namespace, caller Caller, tenants []tenancyv1alpha1.Tenant, dryRun bool) (Decision, error) {
	d := DecideCreate(ns, caller, tenants, nil, h.Settings)
	if !d.Allowed {
		return d, nil
	}
	list := &corev1.NamespaceList{}
	if err := h.Reader.List(ctx, list, client.HasLabels{tenancyv1alpha1.TenantLabel}); err != nil {
		return Decision{}, err
	}
	tenant := d.Labels[tenancyv1alpha1.TenantLabel]
	ledger, err := h.Ledgers.Get(ctx, tenant)
	if err != nil {
		return Decision{}, err
	}
	now := time.Now()
	inUse := map[string]int{tenant: claims.InUse(tenant, list.Items, ledger.Spec.Reservations, ns.Name, now)}
	d = DecideCreate(ns, caller, tenants, inUse, h.Settings)
	if !d.Allowed || dryRun {
		return d, nil
	}
	var t *tenancyv1alpha1.Tenant
	for i := range tenants {
		if tenants[i].Name == tenant {
			t = &tenants[i]
		}
	}
	r := tenancyv1alpha1.NamespaceReservation{Name: ns.Name, AdmissionTime: metav1.NewTime(now)}
	if IsGenerated(ns) {
		r.GenerateName = GeneratedBase(ns.GenerateName)
	}
	if err := h.Ledgers.Reserve(ctx, ledger, t, r, now); err != nil {
		return Decision{}, err
	}
	return d, nil
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
