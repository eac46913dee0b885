// Package volumes serves the webhook that lets a tenant's claim name an
// existing PersistentVolume (spec.volumeName) only if the volume was
// provisioned for the tenant: its claimRef points into one of the tenant's
// namespaces (it was bound there before), or a cluster admin labelled it
// for the tenant. Anything else could be another tenant's data.
//
// The API server sends it only claims that name a volume (a match
// condition), so ordinary claims never wait for it. It fails closed: with
// Bulkhead down, only claims naming a volume wait.
package volumes

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenantof"
)

// +kubebuilder:rbac:groups="",resources=persistentvolumes,verbs=get

// Path the webhook is served on.
const Path = "/volumes/validate"

// Decide says whether a claim of tenant may name pv; claimTenant is the
// tenant of the namespace pv's claimRef points to ("" for none). It returns
// "" when allowed, else the problem.
func Decide(tenant string, pv *corev1.PersistentVolume, claimTenant string) string {
	switch {
	case pv == nil:
		return "names a PersistentVolume that does not exist"
	case pv.Labels[tenancyv1alpha1.TenantLabel] == tenant:
		return ""
	case pv.Labels[tenancyv1alpha1.TenantLabel] != "":
		return "names a PersistentVolume assigned to another tenant"
	case pv.Spec.ClaimRef != nil && claimTenant == tenant:
		return ""
	default:
		return "names a PersistentVolume that was not provisioned for the tenant"
	}
}

// Handler applies Decide to claims.
type Handler struct {
	// Client reads namespaces from the cache.
	Client client.Reader
	// APIReader reads PersistentVolumes live: they are not cached.
	APIReader client.Reader
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	claim := &corev1.PersistentVolumeClaim{}
	if err := json.Unmarshal(req.Object.Raw, claim); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if claim.Spec.VolumeName == "" {
		return admission.Allowed("")
	}
	tenant, err := tenantof.Namespace(ctx, h.Client, req.Namespace)
	if err != nil || tenant == "" {
		return errOrAllow(err)
	}
	pv := &corev1.PersistentVolume{}
	if err := h.APIReader.Get(ctx, client.ObjectKey{Name: claim.Spec.VolumeName}, pv); err != nil {
		if !apierrors.IsNotFound(err) {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		pv = nil
	}
	claimTenant := ""
	if pv != nil && pv.Spec.ClaimRef != nil {
		if claimTenant, err = tenantof.Namespace(ctx, h.Client, pv.Spec.ClaimRef.Namespace); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}
	if problem := Decide(tenant, pv, claimTenant); problem != "" {
		return admission.Denied(fmt.Sprintf("tenant %s: claim %s %s (%s) [rule storage.volumeName]. "+
			"Remove volumeName to get a new volume; to reuse one, ask a cluster admin to label it %s=%s and pre-bind it to this claim (claimRef)",
			tenant, req.Name, problem, claim.Spec.VolumeName, tenancyv1alpha1.TenantLabel, tenant))
	}
	return admission.Allowed("")
}

func errOrAllow(err error) admission.Response {
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.Allowed("")
}
