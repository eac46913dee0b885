package concern

import (
	"context"
	"errors"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/ssa"
	"github.com/bulkhead-dev/bulkhead/internal/tenantstatus"
)

// Concern is what a per-concern controller supplies.
type Concern interface {
	// Name labels the concern's objects and names its controller and finalizer.
	Name() render.Concern
	// Condition is the condition type the concern owns on the Tenant.
	Condition() string
	// Kinds are the object kinds the concern renders, for pruning and cleanup.
	Kinds() []schema.GroupVersionKind
	// Render returns the desired objects for t. It may read other objects
	// (other Tenants, say) through r, and must not write. It returns a
	// *PendingError, with the objects that may be applied already, when
	// others wait for what another concern makes.
	Render(ctx context.Context, r client.Reader, t *tenancyv1alpha1.Tenant, namespaces []string) ([]client.Object, error)
	// Disabled reports a reason when the Tenant turns the concern off, so
	// that the condition says so; "" when enabled.
	Disabled(t *tenancyv1alpha1.Tenant) string
}

// PendingError is returned by Render, with the objects that can be applied
// already, when others must wait for something another concern makes. The
// condition then says what is awaited; it is not a failure.
type PendingError struct{ Message string }

func (e *PendingError) Error() string { return e.Message }

// Sweeper is a Concern that also removes objects it did not render: objects
// tenants made themselves that the Tenant no longer allows. Sweep runs on
// every reconcile, after the rendered objects are applied and pruned.
type Sweeper interface {
	Sweep(ctx context.Context, t *tenancyv1alpha1.Tenant, namespaces []string) error
}

// Reconciler runs one Concern.
type Reconciler struct {
	Client   client.Client
	Scheme   *runtime.Scheme
	Settings render.Settings
	Concern  Concern
}

// Finalizer is the concern's finalizer on Tenants.
func (r *Reconciler) Finalizer() string {
	return tenancyv1alpha1.FinalizerPrefix + string(r.Concern.Name())
}

// Reconcile brings one Tenant's objects of this concern to the rendered state.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	t := &tenancyv1alpha1.Tenant{}
	if err := r.Client.Get(ctx, req.NamespacedName, t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	if !t.DeletionTimestamp.IsZero() {
		if !controllerutil.ContainsFinalizer(t, r.Finalizer()) {
			return ctrl.Result{}, nil
		}
		// The namespaces controller finalizes first: a retained namespace
		// gets its lock (a deny-all NetworkPolicy, the retained policy)
		// before the tenant's NetworkPolicies and TenantPolicy go, so it
		// is never open in between. Its finalizer's removal brings us back.
		if controllerutil.ContainsFinalizer(t, tenancyv1alpha1.FinalizerNamespaces) {
			return ctrl.Result{}, nil
		}
		if err := r.cleanup(ctx, t.Name, nil); err != nil {
			return ctrl.Result{}, err
		}
		log.V(1).Info("Removed tenant objects", "concern", r.Concern.Name())
		return ctrl.Result{}, tenantstatus.RemoveFinalizer(ctx, r.Client, t, r.Finalizer())
	}
	if err := tenantstatus.AddFinalizer(ctx, r.Client, t, r.Finalizer()); err != nil {
		return ctrl.Result{}, err
	}

	namespaces, err := TenantNamespaces(ctx, r.Client, t.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	desired, err := r.Concern.Render(ctx, r.Client, t, namespaces)
	var pending *PendingError
	if err != nil && !errors.As(err, &pending) {
		return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionFalse, tenancyv1alpha1.ReasonApplyFailed, err.Error(), err)
	}
	keep := map[string]bool{}
	var errs []error
	for _, obj := range desired {
		key, _, err := ssa.Apply(ctx, r.Client, obj)
		keep[key] = true
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.cleanup(ctx, t.Name, keep); err != nil {
		errs = append(errs, err)
	}
	if sweeper, ok := r.Concern.(Sweeper); ok {
		if err := sweeper.Sweep(ctx, t, namespaces); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionFalse, tenancyv1alpha1.ReasonApplyFailed, err.Error(), err)
	}
	if pending != nil {
		// A watch brings the Tenant back when what it waits for appears.
		return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionFalse, tenancyv1alpha1.ReasonWaiting, pending.Message, nil)
	}
	if why := r.Concern.Disabled(t); why != "" {
		return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionTrue, tenancyv1alpha1.ReasonDisabled, why, nil)
	}
	// No counts in the message: it would change, and cost a status write,
	// with every namespace the tenant gains. status.namespaces has them.
	msg := fmt.Sprintf("every %s object of the tenant's namespaces matches the Tenant", r.Concern.Name())
	return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionTrue, tenancyv1alpha1.ReasonApplied, msg, nil)
}

// cleanup deletes the concern's objects of tenant that are not in keep (all
// of them when keep is nil).
func (r *Reconciler) cleanup(ctx context.Context, tenant string, keep map[string]bool) error {
	sel := client.MatchingLabels(render.ManagedLabels(tenant, r.Concern.Name()))
	var errs []error
	for _, gvk := range r.Concern.Kinds() {
		// A typed list is served from the cache; an unstructured one would
		// be a live LIST of every object of the kind on each reconcile.
		fresh, err := r.Scheme.New(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		list := fresh.(client.ObjectList)
		if err := r.Client.List(ctx, list, sel); err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", gvk.Kind, err))
			continue
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, o := range items {
			item := o.(client.Object)
			if keep[ssa.Key(gvk, item.GetNamespace(), item.GetName())] {
				continue
			}
			if err := r.Client.Delete(ctx, item); client.IgnoreNotFound(err) != nil {
				errs = append(errs, fmt.Errorf("deleting %s %s/%s: %w", gvk.Kind, item.GetNamespace(), item.GetName(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// setCondition writes the concern's condition when it changed, then returns
// cause so that a failed reconcile is retried with backoff.
func (r *Reconciler) setCondition(ctx context.Context, t *tenancyv1alpha1.Tenant, status metav1.ConditionStatus, reason, msg string, cause error) error {
	cond := metav1.Condition{Type: r.Concern.Condition(), Status: status, Reason: reason, Message: msg, ObservedGeneration: t.Generation}
	if err := tenantstatus.ApplyCondition(ctx, r.Client, t, tenantstatus.Manager(string(r.Concern.Name())), cond); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// TenantNamespaces lists the live namespaces labelled for tenant, sorted,
// through NamespaceTenantIndex. Terminating namespaces are left out: nothing
// can be written into them.
func TenantNamespaces(ctx context.Context, r client.Reader, tenant string) ([]string, error) {
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list, client.MatchingFields{NamespaceTenantIndex: tenant}); err != nil {
		return nil, fmt.Errorf("listing namespaces of tenant %s: %w", tenant, err)
	}
	var out []string
	for _, ns := range list.Items {
		if ns.DeletionTimestamp.IsZero() {
			out = append(out, ns.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// NamespaceToTenant maps a namespace event to the tenant named by its label.
func NamespaceToTenant(_ context.Context, obj client.Object) []ctrl.Request {
	if t := obj.GetLabels()[tenancyv1alpha1.TenantLabel]; t != "" {
		return []ctrl.Request{{NamespacedName: types.NamespacedName{Name: t}}}
	}
	return nil
}
