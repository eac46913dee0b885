// Package tenantquota serves the webhook that charges pods and
// PersistentVolumeClaims to their tenant's tenant-wide quota. The design
// and its proof are in package internal/tenantquota.
package tenantquota

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/tenantquota"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenants/status,verbs=get;update;patch

// Path the webhook is served on.
const Path = "/quota/validate"

// Handler charges admitted objects to the Tenant's status.
type Handler struct {
	// Client reads namespaces from the cache and writes Tenant status.
	Client client.Client
	// APIReader reads Tenants live: a charge must start from the latest usage.
	APIReader client.Reader
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// locks serialise charges per tenant within this replica, so that its
	// own concurrent requests queue instead of conflicting; across replicas
	// the Tenant's resourceVersion does the same.
	locks sync.Map // tenant -> *sync.Mutex
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	kind, name, amount, err := measure(req)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if kind == "" {
		return admission.Allowed("")
	}
	ns := &corev1.Namespace{}
	if err := h.Client.Get(ctx, client.ObjectKey{Name: req.Namespace}, ns); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	tenant := ns.Labels[tenancyv1alpha1.TenantLabel]
	if tenant == "" {
		return admission.Allowed("")
	}
	mu, _ := h.locks.LoadOrStore(tenant, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	for {
		t := &tenancyv1alpha1.Tenant{}
		if err := h.APIReader.Get(ctx, client.ObjectKey{Name: tenant}, t); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if t.Spec.Quota.Tenant == nil || len(t.Spec.Quota.Tenant.Hard) == 0 {
			return admission.Allowed("")
		}
		hard := t.Spec.Quota.Tenant.Hard
		add := tenantquota.Relevant(hard, amount)
		if len(add) == 0 {
			return admission.Allowed("")
		}
		if !tenantquota.Counted(hard, t.Status.Usage) {
			return admission.Denied(fmt.Sprintf("tenant %s: the tenant-wide quota has not been counted yet [rule quota.tenant]. Retry in a few seconds", tenant))
		}
		if over := tenantquota.Exceeds(hard, t.Status.Usage, add); len(over) > 0 {
			msg := tenantquota.Message(tenant, kind, req.Name, over)
			ctrl.LoggerFrom(ctx).V(1).Info("Refused over tenant quota", "tenant", tenant, "namespace", req.Namespace, "name", req.Name)
			return admission.Denied(msg)
		}
		if req.DryRun != nil && *req.DryRun {
			return admission.Allowed("")
		}
		t.Status.Usage, t.Status.Reservations = tenantquota.Charge(t.Status, kind, req.Namespace, name, add, h.now())
		err := h.Client.Status().Update(ctx, t)
		switch {
		case err == nil:
			return admission.Allowed("")
		case apierrors.IsConflict(err):
			continue // another charge or the recount won: decide again on fresh usage
		default:
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}
}

// measure says what the request would add to quota: a new pod or claim its
// usage, a claim's expansion its increase (reserved under a name of its
// own). kind is "" when the request adds nothing.
func measure(req admission.Request) (kind, name string, amount corev1.ResourceList, err error) {
	switch {
	case req.Operation == admissionv1.Create && req.Kind.Kind == "Pod":
		p := &corev1.Pod{}
		if err := json.Unmarshal(req.Object.Raw, p); err != nil {
			return "", "", nil, err
		}
		return tenantquota.KindPod, req.Name, tenantquota.PodUsage(p), nil
	case req.Kind.Kind != "PersistentVolumeClaim":
		return "", "", nil, nil
	}
	c := &corev1.PersistentVolumeClaim{}
	if err := json.Unmarshal(req.Object.Raw, c); err != nil {
		return "", "", nil, err
	}
	switch req.Operation {
	case admissionv1.Create:
		return tenantquota.KindClaim, req.Name, tenantquota.ClaimUsage(c), nil
	case admissionv1.Update:
		old := &corev1.PersistentVolumeClaim{}
		if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
			return "", "", nil, err
		}
		grow := c.Spec.Resources.Requests[corev1.ResourceStorage].DeepCopy()
		grow.Sub(old.Spec.Resources.Requests[corev1.ResourceStorage])
		if grow.Sign() > 0 {
			return tenantquota.KindClaim, tenantquota.Resized(req.Name), corev1.ResourceList{corev1.ResourceRequestsStorage: grow}, nil
		}
	}
	return "", "", nil, nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
