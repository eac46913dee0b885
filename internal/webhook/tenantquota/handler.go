// Package tenantquota serves the webhook that charges pods and
// PersistentVolumeClaims to their tenant's tenant-wide quota. The design
// and its proof are in package internal/tenantquota.
package tenantquota

import (
	"context"
	"encoding/json"
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
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenantof"
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
	tenant, err := tenantof.Namespace(ctx, h.Client, req.Namespace)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if tenant == "" {
		return admission.Allowed("")
	}
	mu, _ := h.locks.LoadOrStore(tenant, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	obj := tenantquota.Object{Kind: kind, Namespace: req.Namespace, Name: name, Amount: amount}
	for {
		t := &tenancyv1alpha1.Tenant{}
		if err := h.APIReader.Get(ctx, client.ObjectKey{Name: tenant}, t); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		d := tenantquota.Admit(t, obj, req.DryRun != nil && *req.DryRun, h.now())
		if !d.Allowed {
			ctrl.LoggerFrom(ctx).V(1).Info("Refused by tenant quota", "tenant", tenant, "namespace", req.Namespace, "name", req.Name)
			return admission.Denied(d.Message)
		}
		if d.Charge == nil {
			return admission.Allowed("")
		}
		t.Status = *d.Charge
		switch err := h.Client.Status().Update(ctx, t); {
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
