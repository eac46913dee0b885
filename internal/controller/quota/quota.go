package quota

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups="",resources=resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete

// quotas describes the quota concern: a ResourceQuota and a LimitRange in
// every tenant namespace.
var quotas = concern.Concern{
	Name:      render.ConcernQuota,
	Condition: tenancyv1alpha1.ConditionQuotaReady,
	Kinds:     []client.Object{&corev1.ResourceQuota{}, &corev1.LimitRange{}},
	Render: func(_ context.Context, _ client.Reader, sc *render.Scope) ([]client.Object, error) {
		return render.Quota(sc), nil
	},
}

// Setup registers the quota controller with mgr.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	return concern.Setup(mgr, s, quotas)
}
