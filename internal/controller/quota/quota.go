package quota

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups="",resources=resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete

// Concern renders quotas and limits.
type Concern struct{ Settings render.Settings }

// Name implements concern.Concern.
func (Concern) Name() render.Concern { return render.ConcernQuota }

// Condition implements concern.Concern.
func (Concern) Condition() string { return tenancyv1alpha1.ConditionQuotaReady }

// Kinds implements concern.Concern.
func (Concern) Kinds() []schema.GroupVersionKind {
	return []schema.GroupVersionKind{
		corev1.SchemeGroupVersion.WithKind("ResourceQuota"),
		corev1.SchemeGroupVersion.WithKind("LimitRange"),
	}
}

// Render implements concern.Concern.
func (c Concern) Render(_ context.Context, _ client.Reader, t *tenancyv1alpha1.Tenant, namespaces []string) ([]client.Object, error) {
	return render.Quota(t, namespaces, c.Settings), nil
}

// Disabled implements concern.Concern.
func (Concern) Disabled(*tenancyv1alpha1.Tenant) string { return "" }

// Setup registers the quota controller with mgr.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	r := &concern.Reconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Settings: s, Concern: Concern{Settings: s}}
	return r.SetupWithManager(mgr, []client.Object{&corev1.ResourceQuota{}, &corev1.LimitRange{}}, nil)
}
