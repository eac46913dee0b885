package admission

import (
	"context"
	"fmt"

	nodev1 "k8s.io/api/node/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	return render.TenantPolicies(t, namespaces, c.Settings, in), nil
}

// Disabled implements concern.Concern.
func (Concern) Disabled(*tenancyv1alpha1.Tenant) string { return "" }

// Setup registers the admission controller and the policy installer with mgr.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	r := &concern.Reconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Settings: s, Concern: Concern{Settings: s}}
	if err := r.SetupWithManager(mgr, []client.Object{&tenancyv1alpha1.TenantPolicy{}}, nil); err != nil {
		return err
	}
	return mgr.Add(&Installer{Client: mgr.GetClient(), Settings: s})
}
