// Package tenantquota serves the webhook that charges pods,
// PersistentVolumeClaims and objects of counted kinds to their tenant's
// tenant-wide quota. The design
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
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/observe"
	"github.com/bulkhead-dev/bulkhead/internal/tenantquota"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenantof"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenants,verbs=get
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantquotaledgers,verbs=get
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantquotaledgers/status,verbs=update

// Path the webhook is served on.
const Path = "/quota/validate"

// Handler charges admitted objects to their tenant's TenantQuotaLedger.
type Handler struct {
	// Client reads namespaces from the cache and writes ledgers.
	Client client.Client
	// APIReader reads Tenants and ledgers live: a charge must start from
	// the latest usage.
	APIReader client.Reader
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// locks serialise charges per tenant within this replica, so that its
	// own concurrent requests queue instead of conflicting; across replicas
	// the ledger's resourceVersion does the same.
	locks sync.Map // tenant -> *sync.Mutex
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	obj, err := measure(req)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if obj.Kind == "" {
		return admission.Allowed("")
	}
	tenant, err := tenantof.Namespace(ctx, h.Client, req.Namespace)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if tenant == "" {
		return admission.Allowed("")
	}
	if h.limitsNothingOf(ctx, tenant, obj) {
		return admission.Allowed("")
	}
	mu, _ := h.locks.LoadOrStore(tenant, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	for {
		// Each pass loses only to another write; stop once the API server
		// has given up on this request.
		if err := ctx.Err(); err != nil {
			return admission.Errored(http.StatusServiceUnavailable, fmt.Errorf("tenant %s: charging tenant-wide quota: %w", tenant, err))
		}
		t := &tenancyv1alpha1.Tenant{}
		if err := h.APIReader.Get(ctx, client.ObjectKey{Name: tenant}, t); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		ledger, err := h.ledger(ctx, t)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		d := tenantquota.Admit(t, ledger, obj, req.DryRun != nil && *req.DryRun, h.now())
		if !d.Allowed {
			ctrl.LoggerFrom(ctx).V(1).Info("Refused by tenant quota", "tenant", tenant, "namespace", req.Namespace, "name", req.Name)
			return admission.Denied(d.Message)
		}
		if d.Charge == nil {
			return admission.Allowed("")
		}
		ledger.Status = *d.Charge
		switch err := h.Client.Status().Update(ctx, ledger); {
		case err == nil:
			return admission.Allowed("")
		case apierrors.IsConflict(err), apierrors.IsNotFound(err):
			// Another charge or the recount won, or the ledger was
			// replaced: decide again on fresh usage.
			observe.ChargeConflict()
			continue
		default:
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}
}

// limitsNothingOf reports whether the tenant, as cached, limits nothing
// obj uses: the webhook is sent every counted kind, and every pod, of any
// tenant with a tenant-wide quota, and most need no charge. Then the live
// reads and the tenant's lock are skipped. A limit a cluster admin has just
// added and the cache has yet to see is as if it had been added a moment
// after this object; the recount counts the object either way. Forged
// negative quantities still go on to be refused.
func (h *Handler) limitsNothingOf(ctx context.Context, tenant string, obj tenantquota.Object) bool {
	if len(obj.Negative) > 0 || len(tenantquota.NegativeNames(obj.Amount)) > 0 {
		return false
	}
	t := &tenancyv1alpha1.Tenant{}
	if err := h.Client.Get(ctx, client.ObjectKey{Name: tenant}, t); err != nil {
		return false
	}
	return len(tenantquota.Relevant(tenantquota.TenantLimits(t), obj.Amount)) == 0
}

// ledger reads t's ledger live, when t has a tenant-wide quota; nil when
// it has none or its ledger does not exist yet (Admit then waits for the
// recount).
func (h *Handler) ledger(ctx context.Context, t *tenancyv1alpha1.Tenant) (*tenancyv1alpha1.TenantQuotaLedger, error) {
	if t.Spec.Quota.Tenant == nil || len(t.Spec.Quota.Tenant.Hard) == 0 {
		return nil, nil
	}
	l := &tenancyv1alpha1.TenantQuotaLedger{}
	if err := h.APIReader.Get(ctx, client.ObjectKey{Name: t.Name}, l); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading the quota ledger of tenant %s: %w", t.Name, err)
	}
	return l, nil
}

// measure says what the request would add to quota: a new pod or claim its
// usage; a pod's in-place resize or a claim's expansion its growth,
// reserved under a name of its own. Kind is empty when the request adds
// nothing. The objects' negative quantities are listed for Admit to refuse,
// whatever they add up to.
func measure(req admission.Request) (tenantquota.Object, error) {
	obj := tenantquota.Object{Namespace: req.Namespace, Name: req.Name}
	switch {
	case core(req, "Pod") && req.Operation == admissionv1.Create && req.SubResource == "":
		p := &corev1.Pod{}
		if err := json.Unmarshal(req.Object.Raw, p); err != nil {
			return obj, err
		}
		obj.Negative = tenantquota.NegativeQuantities(p)
		// The API server resets a new pod's status before validating
		// admission; a status in the request (a terminal phase would make
		// the pod free) can only be forged.
		p.Status = corev1.PodStatus{}
		obj.Kind, obj.Amount = tenantquota.KindPod, tenantquota.PodUsage(p)
	case core(req, "Pod") && req.Operation == admissionv1.Update && req.SubResource == "resize":
		p, old := &corev1.Pod{}, &corev1.Pod{}
		if err := unmarshalBoth(req, p, old); err != nil {
			return obj, err
		}
		obj.Kind, obj.Name = tenantquota.KindPod, tenantquota.Resized(req.Name)
		obj.Amount = tenantquota.Growth(tenantquota.PodUsage(old), tenantquota.PodUsage(p))
		obj.Negative = negativeInBoth(p, old)
	case core(req, "PersistentVolumeClaim") && req.Operation == admissionv1.Create:
		c := &corev1.PersistentVolumeClaim{}
		if err := json.Unmarshal(req.Object.Raw, c); err != nil {
			return obj, err
		}
		obj.Kind, obj.Amount, obj.Negative = tenantquota.KindClaim, tenantquota.ClaimUsage(c), tenantquota.NegativeQuantities(c)
	case core(req, "PersistentVolumeClaim") && req.Operation == admissionv1.Update:
		c, old := &corev1.PersistentVolumeClaim{}, &corev1.PersistentVolumeClaim{}
		if err := unmarshalBoth(req, c, old); err != nil {
			return obj, err
		}
		obj.Kind, obj.Name = tenantquota.KindClaim, tenantquota.Resized(req.Name)
		obj.Amount = tenantquota.Growth(tenantquota.ClaimUsage(old), tenantquota.ClaimUsage(c))
		obj.Negative = negativeInBoth(c, old)
	case req.Operation == admissionv1.Create && req.SubResource == "":
		// Any other kind reaches the webhook only because a Tenant limits
		// how many of it its namespaces hold (count/<resource>.<group>).
		gr := schema.GroupResource{Group: req.Resource.Group, Resource: req.Resource.Resource}
		obj.Kind, obj.Display, obj.Amount = tenantquota.CountKind(gr), req.Kind.Kind, tenantquota.ObjectUsage(gr)
	default:
		return tenantquota.Object{}, nil
	}
	if len(obj.Amount) == 0 && len(obj.Negative) == 0 {
		return tenantquota.Object{}, nil // a resize that does not grow
	}
	return obj, nil
}

// core reports whether req is about the core group's kind: a custom
// resource may be called Pod too, and is only counted.
func core(req admission.Request, kind string) bool {
	return req.Kind.Group == "" && req.Kind.Kind == kind
}

func unmarshalBoth(req admission.Request, obj, old any) error {
	if err := json.Unmarshal(req.Object.Raw, obj); err != nil {
		return err
	}
	return json.Unmarshal(req.OldObject.Raw, old)
}

// negativeInBoth lists the negative quantities of an update's new and old
// objects; the old one's paths start with oldObject.
func negativeInBoth(obj, old any) []string {
	out := tenantquota.NegativeQuantities(obj)
	for _, p := range tenantquota.NegativeQuantities(old) {
		out = append(out, "oldObject."+p)
	}
	return out
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
