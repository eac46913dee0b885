package tenants

import (
	"context"
	"encoding/json"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
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
	// Cache reads the Tenants and the namespaces labelled for a tenant,
	// from the manager's cache and without copies. Read from the API
	// server, every Tenant create cost a list of every Tenant and every
	// namespace: creating 2,000 Tenants cost the square of their number,
	// and the webhook timed out. A labelled namespace is made by Bulkhead's
	// namespace webhook or an admin adopting it, for a tenant whose
	// existence is already in the cache.
	Cache client.Reader
	// Live reads the namespaces without a tenant label from the API
	// server: an admin's namespace created a moment ago must count, and
	// they are few (the system's and the admins' own).
	Live     client.Reader
	Settings render.Settings
}

// withoutTenantLabel selects the namespaces no tenant label claims.
var withoutTenantLabel = func() labels.Selector {
	req, err := labels.NewRequirement(tenancyv1alpha1.TenantLabel, selection.DoesNotExist, nil)
	if err != nil {
		panic(err)
	}
	return labels.NewSelector().Add(*req)
}()

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create {
		return admission.Allowed("")
	}
	t := &tenancyv1alpha1.Tenant{}
	if err := json.Unmarshal(req.Object.Raw, t); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	// Read only: the lists share the cache's objects.
	tenants := &tenancyv1alpha1.TenantList{}
	if err := h.Cache.List(ctx, tenants, client.UnsafeDisableDeepCopy); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	labelled := &corev1.NamespaceList{}
	if err := h.Cache.List(ctx, labelled, client.HasLabels{tenancyv1alpha1.TenantLabel}, client.UnsafeDisableDeepCopy); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	unlabelled := &corev1.NamespaceList{}
	if err := h.Live.List(ctx, unlabelled, client.MatchingLabelsSelector{Selector: withoutTenantLabel}); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	d := DecideCreate(t, tenants.Items, append(labelled.Items, unlabelled.Items...), h.Settings)
	if !d.Allowed {
		ctrl.LoggerFrom(ctx).V(1).Info("Refused tenant", "tenant", t.Name, "user", req.UserInfo.Username, "reason", d.Message)
		return admission.Denied(d.Message)
	}
	return admission.Allowed("")
}
