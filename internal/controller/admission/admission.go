package admission

import (
	"context"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/discovery"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=scheduling.k8s.io,resources=priorityclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=node.k8s.io,resources=runtimeclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=resource.k8s.io,resources=deviceclasses,verbs=get;list;watch

// policies describes the admission concern: the TenantPolicy of each tenant
// namespace, which the shared admission policies read as their parameters.
// It watches NetworkPolicies too, since a namespace's TenantPolicy waits for
// them, PriorityClasses, since the cluster's global default is a
// parameter of every tenant, and DeviceClasses (where the API server serves
// them), since the extended resources they declare are too.
func policies(c client.Reader, dra bool) concern.Concern {
	return concern.Concern{
		Name:      render.ConcernAdmission,
		Condition: tenancyv1alpha1.ConditionAdmissionReady,
		Kinds:     []client.Object{&tenancyv1alpha1.TenantPolicy{}},
		Render: func(ctx context.Context, r client.Reader, sc *render.Scope) ([]client.Object, error) {
			return renderPolicies(ctx, r, sc, dra)
		},
		Watch: func(b *builder.Builder) *builder.Builder {
			b = b.Owns(&networkingv1.NetworkPolicy{}).
				Watches(&schedulingv1.PriorityClass{}, handler.EnqueueRequestsFromMapFunc(allTenants(c)))
			if dra {
				b = b.Watches(&resourcev1.DeviceClass{}, handler.EnqueueRequestsFromMapFunc(allTenants(c)))
			}
			return b
		},
	}
}

// deviceExtendedResources maps each extended resource name the cluster's
// DeviceClasses declare to the classes declaring it.
func deviceExtendedResources(ctx context.Context, r client.Reader) (map[string][]string, error) {
	classes := &resourcev1.DeviceClassList{}
	if err := r.List(ctx, classes); err != nil {
		return nil, fmt.Errorf("listing DeviceClasses: %w", err)
	}
	out := map[string][]string{}
	for _, dc := range classes.Items {
		if name := dc.Spec.ExtendedResourceName; name != nil && *name != "" {
			out[*name] = append(out[*name], dc.Name)
		}
	}
	return out, nil
}

// renderPolicies renders the TenantPolicy of each namespace of the scope,
// from the Tenant and the cluster's PriorityClasses and RuntimeClasses it
// names, and its DeviceClasses when dra says the API server serves them.
func renderPolicies(ctx context.Context, r client.Reader, sc *render.Scope, dra bool) ([]client.Object, error) {
	in := render.PolicyInputs{RuntimeClasses: map[string]*nodev1.RuntimeClass{}}
	if dra {
		extended, err := deviceExtendedResources(ctx, r)
		if err != nil {
			return nil, err
		}
		in.DeviceExtendedResources = extended
	}
	pods := sc.Spec.Pods
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
	protected, err := networkInPlace(ctx, r, sc)
	if err != nil {
		return nil, err
	}
	in.Protected = protected
	var waiting []string
	for _, ns := range sc.Namespaces {
		if !protected[ns] {
			waiting = append(waiting, ns)
		}
	}
	objs := render.TenantPolicies(sc, in)
	if len(waiting) == 0 {
		return objs, nil
	}
	return objs, &concern.PendingError{Message: fmt.Sprintf(
		"namespaces %s admit no pods until their NetworkPolicies exist (see NetworkReady)", strings.Join(waiting, ", "))}
}

// networkInPlace reports, for each namespace of the scope, whether every
// NetworkPolicy the network concern renders for it exists, under the name
// of this render version or another (render.NetworkPolicyNames), so that an
// upgrade renaming one never counts a namespace as open. The policies are
// rendered once for all namespaces; a namespace is not read further once
// one of its policies is found missing.
func networkInPlace(ctx context.Context, r client.Reader, sc *render.Scope) (map[string]bool, error) {
	inPlace := make(map[string]bool, len(sc.Namespaces))
	for _, ns := range sc.Namespaces {
		inPlace[ns] = true
	}
	for _, want := range render.Network(sc, nil) {
		ns := want.GetNamespace()
		if !inPlace[ns] {
			continue
		}
		found := false
		for _, name := range render.NetworkPolicyNames(want.GetName()) {
			err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &networkingv1.NetworkPolicy{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("reading NetworkPolicy %s/%s: %w", ns, name, err)
			}
			found = true
			break
		}
		inPlace[ns] = found
	}
	return inPlace, nil
}

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
	dra, err := discovery.DeviceClassesServed(mgr.GetRESTMapper())
	if err != nil {
		return fmt.Errorf("asking the API server whether it serves DeviceClasses: %w", err)
	}
	return concern.Setup(mgr, s, policies(mgr.GetClient(), dra))
}
