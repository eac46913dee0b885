// Package grants serves the webhook that keeps a tenant's ReferenceGrants
// inside what its Tenant allows. A ReferenceGrant in a namespace lets
// objects of the namespaces it lists (routes, Gateways) refer to objects
// here (Services, Secrets): granting another tenant's namespace would open
// a way between two tenants that the platform never agreed to. Whose a
// namespace is needs other objects, so it is a webhook's to judge, not an
// admission policy's.
//
// A grant from a namespace is allowed when the namespace is the tenant's
// own, outside every tenant (the platform's Gateways live there), or of a
// tenant the Tenant's network.allowFrom names. A namespace that does not
// exist yet is judged by whose prefix its name carries, so that a grant
// cannot wait for another tenant to create the namespace; one that no
// prefix claims is refused, since a tenant without requirePrefix could
// create it.
//
// Failure policy: Fail. With Bulkhead down, tenants wait to write
// ReferenceGrants (nothing else).
package grants

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenantof"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenants,verbs=get;list;watch

// Path the webhook is served on.
const Path = "/referencegrants/validate"

// Rule names the rule in denials.
const Rule = "gateway.referenceGrants"

// Handler judges ReferenceGrants in tenant namespaces.
type Handler struct {
	// Client reads namespaces and Tenants, from the cache.
	Client client.Reader
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	grant := &gatewayv1.ReferenceGrant{}
	if err := json.Unmarshal(req.Object.Raw, grant); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	tenants := &tenancyv1alpha1.TenantList{}
	if err := h.Client.List(ctx, tenants); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	tenant, err := tenantof.Namespace(ctx, h.Client, req.Namespace)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if tenant == "" {
		return admission.Allowed("")
	}
	var allowed []string
	for _, t := range tenants.Items {
		if t.Name != tenant {
			continue
		}
		for _, p := range t.Spec.Network.AllowFrom {
			if p.Tenant != "" {
				allowed = append(allowed, p.Tenant)
			}
		}
	}
	owners := map[string]string{}
	for _, from := range grant.Spec.From {
		ns := string(from.Namespace)
		if owners[ns], err = h.ownerOf(ctx, ns, tenants.Items); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}
	if denial := Decide(tenant, grant.Spec.From, owners, allowed); denial != "" {
		return admission.Denied(denial)
	}
	return admission.Allowed("")
}

// Decide judges the from entries of a grant in a namespace of tenant:
// owners maps each from namespace to its tenant ("" for none, unknownOwner
// for one that does not exist and no prefix claims), allowed are the
// tenants the Tenant's allowFrom names. It returns the denial, or "".
func Decide(tenant string, from []gatewayv1.ReferenceGrantFrom, owners map[string]string, allowed []string) string {
	for _, f := range from {
		ns := string(f.Namespace)
		switch owner := owners[ns]; {
		case owner == "" || owner == tenant || slices.Contains(allowed, owner):
		case owner == unknownOwner:
			return fmt.Sprintf("tenant %s: the ReferenceGrant names namespace %s, which does not exist: any tenant could create it later [rule %s]. "+
				"Grant namespaces that exist", tenant, ns, Rule)
		default:
			// Say no more of the other tenant than that it exists.
			return fmt.Sprintf("tenant %s: the ReferenceGrant lets namespace %s, another tenant's, refer to this namespace's objects [rule %s]. "+
				"Grant only the tenant's own namespaces and the platform's; to let another tenant in, a cluster admin names it in the Tenant's spec.network.allowFrom",
				tenant, ns, Rule)
		}
	}
	return ""
}

// ownerOf is the tenant a namespace belongs to: its tenant label when it
// exists, else the tenant whose prefix its name would carry ("" for none).
func (h *Handler) ownerOf(ctx context.Context, name string, tenants []tenancyv1alpha1.Tenant) (string, error) {
	ns := &corev1.Namespace{}
	err := h.Client.Get(ctx, client.ObjectKey{Name: name}, ns)
	switch {
	case err == nil:
		return ns.Labels[tenancyv1alpha1.TenantLabel], nil
	case !apierrors.IsNotFound(err):
		return "", err
	}
	names := make([]string, 0, len(tenants))
	for _, t := range tenants {
		names = append(names, t.Name)
	}
	if owner := render.NamespaceOwner(name, names); owner != "" {
		return owner, nil
	}
	// Not there yet, and no prefix says whose: a tenant without
	// requirePrefix could create it later.
	return unknownOwner, nil
}

// unknownOwner stands for the owner of a namespace that does not exist and
// that no tenant's prefix claims: never the granting tenant's, never
// allowed.
const unknownOwner = "(a namespace that does not exist yet)"
