package admission

import (
	"context"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=scheduling.k8s.io,resources=priorityclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=node.k8s.io,resources=runtimeclasses,verbs=get;list;watch

// Concern renders the TenantPolicy of each tenant namespace.
type Concern struct{ Settings render.Settings }

// Name implements concern.Concern.
func (Concern) Name() render.Concern { return render.ConcernAdmission }

// Condition implements concern.Concern.
func (Concern) Condition() string { return tenancyv1alpha1.ConditionAdmissionReady }

// Kinds implements concern.Concern.
func (Concern) Kinds() []schema.GroupVersionKind {
	return []schema.GroupVersionKind{tenancyv1alpha1.GroupVersion.WithKind("TenantPolicy")}
}

// Render implements concern.Concern.
func (c Concern) Render(ctx context.Context, r client.Reader, t *tenancyv1alpha1.Tenant, namespaces []string) ([]client.Object, error) {
	in := render.PolicyInputs{RuntimeClasses: map[string]*nodev1.RuntimeClass{}}
	pods := render.Effective(t, c.Settings).Pods
	classes := &schedulingv1.PriorityClassList{}
	if err := r.List(ctx, classes); err != nil {
		return nil, fmt.Errorf("listing PriorityClasses: %w", err)
	}
	for _, pc := range classes.Items {
		if pc.GlobalDefault {
			in.GlobalDefaultPriorityClass = pc.Name
		}
	}
	if pc := pods.PriorityClasses; pc != nil && pc.Default != "" {
		class := &schedulingv1.PriorityClass{}
		if err := r.Get(ctx, client.ObjectKey{Name: pc.Default}, class); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("PriorityClass %s, named in spec.pods.priorityClasses.default, does not exist: create it or change the default", pc.Default)
			}
			return nil, err
		}
		in.PriorityValue = class.Value
		if class.PreemptionPolicy != nil {
			in.PreemptionPolicy = string(*class.PreemptionPolicy)
		}
	}
	if rc := pods.RuntimeClass; rc != nil {
		for _, name := range append([]string{rc.Default}, rc.Allowed...) {
			if name == "" || in.RuntimeClasses[name] != nil {
				continue
			}
			class := &nodev1.RuntimeClass{}
			if err := r.Get(ctx, client.ObjectKey{Name: name}, class); err != nil {
				if apierrors.IsNotFound(err) {
					return nil, fmt.Errorf("RuntimeClass %s, named in spec.pods.runtimeClass (or the cluster's sandbox class for Hard tenants), does not exist: create it or change the Tenant", name)
				}
				return nil, err
			}
			in.RuntimeClasses[name] = class
		}
	}
	// A namespace is usable only once every protection is in place: its
	// TenantPolicy says whether its NetworkPolicies exist, and the pod
	// rules refuse pods until they do. (The TenantPolicy itself cannot
	// wait: the shared policies need it to admit Bulkhead's own writes.)
	in.Protected = map[string]bool{}
	var waiting []string
	for _, ns := range namespaces {
		ok, err := c.networkInPlace(ctx, r, t, ns)
		if err != nil {
			return nil, err
		}
		in.Protected[ns] = ok
		if !ok {
			waiting = append(waiting, ns)
		}
	}
	objs := render.TenantPolicies(t, namespaces, c.Settings, in)
	if len(waiting) == 0 {
		return objs, nil
	}
	return objs, &concern.PendingError{Message: fmt.Sprintf(
		"namespaces %s admit no pods until their NetworkPolicies exist (see NetworkReady)", strings.Join(waiting, ", "))}
}

// networkInPlace reports whether every NetworkPolicy the network concern
// renders for namespace ns exists.
func (c Concern) networkInPlace(ctx context.Context, r client.Reader, t *tenancyv1alpha1.Tenant, ns string) (bool, error) {
	for _, want := range render.Network(t, []string{ns}, nil, c.Settings) {
		err := r.Get(ctx, client.ObjectKeyFromObject(want), &networkingv1.NetworkPolicy{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading NetworkPolicy %s/%s: %w", ns, want.GetName(), err)
		}
	}
	return true, nil
}

// Disabled implements concern.Concern.
func (Concern) Disabled(*tenancyv1alpha1.Tenant) string { return "" }

// allTenants maps any event to every Tenant.
func allTenants(c client.Reader) handler.MapFunc {
	return func(ctx context.Context, _ client.Object) []ctrl.Request {
		list := &tenancyv1alpha1.TenantList{}
		if err := c.List(ctx, list); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Listing tenants for a PriorityClass change")
			return nil
		}
		out := make([]ctrl.Request, 0, len(list.Items))
		for _, t := range list.Items {
			out = append(out, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&t)})
		}
		return out
	}
}

// Setup registers the admission controller with mgr. The shared policies
// are kept by package keeper.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	r := &concern.Reconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Settings: s, Concern: Concern{Settings: s}}
	// NetworkPolicies too: a namespace's TenantPolicy waits for them.
	return r.SetupWithManager(mgr, []client.Object{&tenancyv1alpha1.TenantPolicy{}, &networkingv1.NetworkPolicy{}}, func(b *builder.Builder) *builder.Builder {
		// The global default PriorityClass is a parameter of every tenant.
		return b.Watches(&schedulingv1.PriorityClass{}, handler.EnqueueRequestsFromMapFunc(allTenants(mgr.GetClient())))
	})
}
