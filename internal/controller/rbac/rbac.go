package rbac

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind;escalate,resourceNames={"bulkhead:tenant-owner","bulkhead:namespace-creator","edit","view"}

// Concern renders RBAC.
type Concern struct{}

// Name implements concern.Concern.
func (Concern) Name() render.Concern { return render.ConcernRBAC }

// Condition implements concern.Concern.
func (Concern) Condition() string { return tenancyv1alpha1.ConditionRBACReady }

// Kinds implements concern.Concern.
func (Concern) Kinds() []schema.GroupVersionKind {
	return []schema.GroupVersionKind{
		rbacv1.SchemeGroupVersion.WithKind("RoleBinding"),
		rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"),
	}
}

// Render implements concern.Concern.
func (Concern) Render(_ context.Context, _ client.Reader, t *tenancyv1alpha1.Tenant, namespaces []string) ([]client.Object, error) {
	return render.RBAC(t, namespaces), nil
}

// Disabled implements concern.Concern.
func (Concern) Disabled(*tenancyv1alpha1.Tenant) string { return "" }

// Setup registers the RBAC controller and the runnable that keeps the tenant
// ClusterRoles, both with mgr.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	r := &concern.Reconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Settings: s, Concern: Concern{}}
	if err := r.SetupWithManager(mgr, []client.Object{&rbacv1.RoleBinding{}, &rbacv1.ClusterRoleBinding{}}, nil); err != nil {
		return err
	}
	return mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		return EnsureClusterRoles(ctx, mgr.GetClient())
	}))
}

// EnsureClusterRoles applies Bulkhead's tenant ClusterRoles.
func EnsureClusterRoles(ctx context.Context, c client.Client) error {
	for _, role := range render.ClusterRoles() {
		role.SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind("ClusterRole"))
		if err := c.Patch(ctx, role, client.Apply, client.FieldOwner(concern.FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying ClusterRole %s: %w", role.Name, err)
		}
	}
	return nil
}
