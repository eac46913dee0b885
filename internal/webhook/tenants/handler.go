package tenants

import (
	"context"
	"encoding/json"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// Path the handler is served on.
const Path = "/tenants/validate"

// Handler adapts DecideCreate to admission requests.
type Handler struct {
	// Reader should read from the API server, not a cache: Tenants are
	// created rarely, and a namespace created a moment ago must count.
	Reader   client.Reader
	Settings render.Settings
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create {
		return admission.Allowed("")
	}
	t := &tenancyv1alpha1.Tenant{}
	if err := json.Unmarshal(req.Object.Raw, t); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	tenants := &tenancyv1alpha1.TenantList{}
	if err := h.Reader.List(ctx, tenants); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	namespaces := &corev1.NamespaceList{}
	if err := h.Reader.List(ctx, namespaces); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	d := DecideCreate(t, tenants.Items, namespaces.Items, h.Settings)
	if !d.Allowed {
		ctrl.LoggerFrom(ctx).V(1).Info("Refused tenant", "tenant", t.Name, "user", req.UserInfo.Username, "reason", d.Message)
		return admission.Denied(d.Message)
	}
	return admission.Allowed("")
}
