package rbac

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind;escalate,resourceNames={"bulkhead:tenant-owner","bulkhead:namespace-creator","edit","view"}

// bindings describes the RBAC concern: the tenant's RoleBindings in every
// tenant namespace and its namespace-creator ClusterRoleBinding, with sw
// sweeping the bindings tenants made themselves. A namespace's bindings
// wait for its TenantPolicy, without which they would be refused.
func bindings(sw *sweeper) concern.Concern {
	return concern.Concern{
		Name:      render.ConcernRBAC,
		Condition: tenancyv1alpha1.ConditionRBACReady,
		Kinds:     []client.Object{&rbacv1.RoleBinding{}, &rbacv1.ClusterRoleBinding{}},
		Render: func(ctx context.Context, r client.Reader, sc *render.Scope) ([]client.Object, error) {
			return concern.HoldUntilPolicies(ctx, r, sc, render.RBAC(sc.Tenant, sc.Namespaces))
		},
		Sweep: sw.Sweep,
		Watch: concern.WatchPolicies,
	}
}

// sweeper deletes the bindings tenants made that the Tenant no longer allows.
type sweeper struct {
	// Client deletes swept bindings.
	Client client.Client
	// Live reads RoleBindings from the API server: the cache holds only
	// Bulkhead's own, and the ones tenants made are what Sweep judges.
	Live client.Reader
	// Recorder tells, on the Tenant, which binding was revoked and why.
	Recorder events.EventRecorder
}

// Sweep deletes every RoleBinding in the tenant's namespaces, whoever made
// it, that names anyone who is not an identity of the tenant
// (render.Identities) nor the platform's. An owner removed from the Tenant
// thus loses, within this reconcile, the access a binding they made for
// themselves gave them, as well as Bulkhead's.
func (sw *sweeper) Sweep(ctx context.Context, sc *render.Scope) error {
	t := sc.Tenant
	ids := render.TenantIdentities(sc)
	var errs []error
	for _, ns := range sc.Namespaces {
		revoked, err := RevokeForeignBindings(ctx, sw.Live, sw.Client, ns, ids, sc.Settings)
		for _, r := range revoked {
			sw.Recorder.Eventf(t, nil, corev1.EventTypeNormal, ReasonBindingRevoked, "Delete",
				"deleted RoleBinding %s/%s: it names %s, who is not an owner, member or viewer of the tenant nor a service account of its namespaces. To give them access, add them to the Tenant's owners, members or viewers",
				ns, r.Name, strings.Join(r.Foreign, ", "))
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ReasonBindingRevoked is the reason of the Event telling that a binding
// naming someone outside the tenant was deleted.
const ReasonBindingRevoked = "BindingRevoked"

// Revoked is a RoleBinding deleted for naming Foreign subjects.
type Revoked struct {
	Name    string
	Foreign []string
}

// RevokeForeignBindings deletes the RoleBindings of namespace that name any
// subject foreign to ids, read live through live, and returns those it
// deleted. The list is read on every call, never remembered: a binding made
// since the last call is judged like any other.
func RevokeForeignBindings(ctx context.Context, live client.Reader, w client.Writer, namespace string, ids render.Identities, s render.Settings) ([]Revoked, error) {
	list := &rbacv1.RoleBindingList{}
	if err := live.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing RoleBindings of %s: %w", namespace, err)
	}
	var out []Revoked
	var errs []error
	for i := range list.Items {
		rb := &list.Items[i]
		foreign := ids.Foreign(namespace, rb.Subjects, s)
		if len(foreign) == 0 {
			continue
		}
		// Preconditioned on the version judged: a binding changed since
		// is judged again on the next pass rather than deleted unseen.
		pre := client.Preconditions{UID: &rb.UID, ResourceVersion: &rb.ResourceVersion}
		if err := w.Delete(ctx, rb, pre); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("deleting RoleBinding %s/%s: %w", namespace, rb.Name, err))
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Revoked RoleBinding naming subjects outside the tenant", "namespace", namespace, "roleBinding", rb.Name, "subjects", foreign)
		out = append(out, Revoked{Name: rb.Name, Foreign: foreign})
	}
	return out, errors.Join(errs...)
}

// Setup registers the RBAC controller with mgr. The tenant ClusterRoles it
// binds are kept by package keeper.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	sw := &sweeper{Client: mgr.GetClient(), Live: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("bulkhead-rbac")}
	return concern.Setup(mgr, s, bindings(sw))
}
