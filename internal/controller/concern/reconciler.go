package concern

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/ssa"
	"github.com/bulkhead-dev/bulkhead/internal/tenantstatus"
)

// RecheckWaiting is how often a concern that waits for another's objects
// looks again without being woken.
const RecheckWaiting = 10 * time.Second

// Reconciler runs one Concern.
type Reconciler struct {
	Client   client.Client
	Scheme   *runtime.Scheme
	Settings render.Settings
	Concern  Concern
}

// Finalizer is the concern's finalizer on Tenants.
func (r *Reconciler) Finalizer() string {
	return tenancyv1alpha1.FinalizerPrefix + string(r.Concern.Name)
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
		if err := r.cleanup(ctx, t.Name, nil, nil); err != nil {
			return ctrl.Result{}, err
		}
		log.V(1).Info("Removed tenant objects", "concern", r.Concern.Name)
		return ctrl.Result{}, tenantstatus.RemoveFinalizer(ctx, r.Client, t, r.Finalizer())
	}
	if err := tenantstatus.AddFinalizers(ctx, r.Client, t, r.Finalizer()); err != nil {
		return ctrl.Result{}, err
	}

	sc, err := LoadScope(ctx, r.Client, t, r.Settings)
	if err != nil {
		return ctrl.Result{}, err
	}
	desired, err := r.Concern.Render(ctx, r.Client, sc)
	var pending *PendingError
	if err != nil && !errors.As(err, &pending) {
		return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionFalse, tenancyv1alpha1.ReasonApplyFailed, tenantstatus.FailureMessage(err), err)
	}
	if desired, err = alsoUnderOtherNames(ctx, r.Client, desired); err != nil {
		return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionFalse, tenancyv1alpha1.ReasonApplyFailed, tenantstatus.FailureMessage(err), err)
	}
	held := map[string]bool{}
	if pending != nil {
		for _, ns := range pending.Hold {
			held[ns] = true
		}
	}
	keep := map[string]bool{}
	var errs []error
	for _, obj := range desired {
		if held[obj.GetNamespace()] {
			continue
		}
		key, _, err := ssa.Apply(ctx, r.Client, obj)
		keep[key] = true
		if err != nil {
			errs = append(errs, err)
		}
	}
	// Prune only once everything rendered is in place (held namespaces
	// aside, which keep all they hold until they are furnished): an object renamed
	// by an upgrade (the ingress NetworkPolicy) must not lose its old copy
	// while the new one failed to apply, or the namespace would be open
	// in between. The error brings the Tenant back to prune then.
	if len(errs) == 0 {
		if err := r.cleanup(ctx, t.Name, keep, held); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Concern.Sweep != nil {
		if err := r.Concern.Sweep(ctx, sc); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionFalse, tenancyv1alpha1.ReasonApplyFailed, tenantstatus.FailureMessage(err), err)
	}
	if pending != nil {
		// A watch brings the Tenant back when what it waits for appears;
		// a new Tenant's first wait is likely over before it is written.
		if wait := tenantstatus.HoldFirstWrite(t, r.Concern.Condition, time.Now()); wait > 0 {
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		reason := pending.Reason
		if reason == "" {
			reason = tenancyv1alpha1.ReasonWaiting
		}
		// The watch is what ends a wait; the timed recheck only bounds how
		// long a missed event could leave a namespace waiting.
		return ctrl.Result{RequeueAfter: RecheckWaiting}, r.setCondition(ctx, t, metav1.ConditionFalse, reason, pending.Message, nil)
	}
	if r.Concern.Disabled != nil {
		if why := r.Concern.Disabled(sc); why != "" {
			return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionTrue, tenancyv1alpha1.ReasonDisabled, why, nil)
		}
	}
	// No counts in the message: it would change, and cost a status write,
	// with every namespace the tenant gains. status.namespaces has them.
	msg := fmt.Sprintf("every %s object of the tenant's namespaces matches the Tenant", r.Concern.Name)
	return ctrl.Result{}, r.setCondition(ctx, t, metav1.ConditionTrue, tenancyv1alpha1.ReasonApplied, msg, nil)
}

// alsoUnderOtherNames adds, for each rendered object that an upgrade or a
// rollback renames (render.OtherNames) and that does not exist yet under
// its new name, a copy under each old name that exists. Old copies are
// pruned only once every rendered object applied, so until the new one can
// be created (a quota on NetworkPolicies may refuse it) the old one is
// what protects the namespace, and it must follow the Tenant rather than
// keep the spec of the release that wrote it.
func alsoUnderOtherNames(ctx context.Context, r client.Reader, objs []client.Object) ([]client.Object, error) {
	out := objs
	for _, obj := range objs {
		others := render.OtherNames(obj)
		if len(others) == 0 {
			continue
		}
		found, err := exists(ctx, r, obj, obj.GetName())
		if err != nil {
			return nil, err
		}
		if found {
			continue
		}
		for _, name := range others {
			found, err := exists(ctx, r, obj, name)
			if err != nil {
				return nil, err
			}
			if found {
				copied := obj.DeepCopyObject().(client.Object)
				copied.SetName(name)
				out = append(out, copied)
			}
		}
	}
	return out, nil
}

// exists reports whether Bulkhead's object of obj's kind named name exists
// in obj's namespace. One of that name a tenant wrote itself is not
// Bulkhead's to keep under an old name, nor to prune.
func exists(ctx context.Context, r client.Reader, obj client.Object, name string) (bool, error) {
	got := obj.DeepCopyObject().(client.Object)
	err := r.Get(ctx, client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}, got)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return got.GetLabels()[tenancyv1alpha1.ManagedByLabel] == tenancyv1alpha1.ManagedByValue, nil
}

// cleanup deletes the concern's objects of tenant that are not in keep (all
// of them when keep is nil), except in held namespaces.
func (r *Reconciler) cleanup(ctx context.Context, tenant string, keep, held map[string]bool) error {
	sel := client.MatchingLabels(render.ManagedLabels(tenant, r.Concern.Name))
	var errs []error
	for _, kind := range r.Concern.Kinds {
		gvk, err := apiutil.GVKForObject(kind, r.Scheme)
		if err != nil {
			errs = append(errs, err)
			continue
		}
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
			if keep[ssa.Key(gvk, item.GetNamespace(), item.GetName())] || held[item.GetNamespace()] {
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
	cond := metav1.Condition{Type: r.Concern.Condition, Status: status, Reason: reason, Message: msg, ObservedGeneration: t.Generation}
	if err := tenantstatus.ApplyCondition(ctx, r.Client, t, tenantstatus.Manager(string(r.Concern.Name)), cond); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// NamespaceToTenant maps a namespace event to the tenant named by its label.
func NamespaceToTenant(_ context.Context, obj client.Object) []ctrl.Request {
	if t := obj.GetLabels()[tenancyv1alpha1.TenantLabel]; t != "" {
		return []ctrl.Request{{NamespacedName: types.NamespacedName{Name: t}}}
	}
	return nil
}
