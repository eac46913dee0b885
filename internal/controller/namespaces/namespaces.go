package namespaces

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/ssa"
	"github.com/bulkhead-dev/bulkhead/internal/tenantstatus"
)

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenants,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenants/finalizers,verbs=update

// Reconciler labels tenant namespaces and applies the deletion policy.
type Reconciler struct {
	Client client.Client
	// Live reads the RoleBindings of a namespace being retained from the
	// API server: the cache holds only Bulkhead's.
	Live     client.Reader
	Settings render.Settings
}

// Reconcile labels one Tenant's namespaces, or releases them when it is deleted.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	t := &tenancyv1alpha1.Tenant{}
	if err := r.Client.Get(ctx, req.NamespacedName, t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// The effective spec (the Tenant's, completed by its profile) is
	// computed once, for every phase below. The namespaces are listed
	// live, by label, not through the scope's index.
	sc := render.NewScope(t, nil, r.Settings)
	if !t.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, sc)
	}
	if err := tenantstatus.AddFinalizers(ctx, r.Client, t, tenancyv1alpha1.FinalizerNamespaces); err != nil {
		return ctrl.Result{}, err
	}

	list, err := r.namespaces(ctx, t.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	want := render.Namespace(sc)
	var errs []error
	for i := range list {
		if err := r.ensureMetadata(ctx, &list[i], want); err != nil {
			errs = append(errs, err)
		}
	}
	cond := Condition(t, sc.Spec, len(list), errors.Join(errs...))
	if err := tenantstatus.ApplyCondition(ctx, r.Client, t, tenantstatus.Manager("namespaces"), cond); err != nil {
		errs = append(errs, err)
	}
	return ctrl.Result{}, errors.Join(errs...)
}

// Condition computes NamespacesReady from the namespace count and the result
// of labelling; spec is t's effective spec (render.Effective).
func Condition(t *tenancyv1alpha1.Tenant, spec tenancyv1alpha1.TenantSpec, count int, applyErr error) metav1.Condition {
	c := metav1.Condition{Type: tenancyv1alpha1.ConditionNamespacesReady, ObservedGeneration: t.Generation}
	max := int(*spec.Namespaces.Max)
	switch {
	case applyErr != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, tenancyv1alpha1.ReasonApplyFailed, tenantstatus.FailureMessage(applyErr)
	case count > max:
		c.Status, c.Reason = metav1.ConditionFalse, tenancyv1alpha1.ReasonOverLimit
		c.Message = fmt.Sprintf("the tenant has %d namespaces but namespaces.max is %d: raise the limit or release namespaces", count, max)
	case count == 0:
		c.Status, c.Reason = metav1.ConditionTrue, tenancyv1alpha1.ReasonNoNamespaces
		c.Message = fmt.Sprintf("no namespaces yet: an owner creates one with `kubectl create namespace %sNAME`", render.NamespacePrefix(t.Name))
	default:
		c.Status, c.Reason = metav1.ConditionTrue, tenancyv1alpha1.ReasonApplied
		// The count is in status.namespaceCount; keeping it out of the
		// message spares a status write per namespace created.
		c.Message = fmt.Sprintf("every namespace is labelled for the tenant (namespaces.max is %d)", max)
	}
	return c
}

func (r *Reconciler) namespaces(ctx context.Context, tenant string) ([]corev1.Namespace, error) {
	list := &corev1.NamespaceList{}
	if err := r.Client.List(ctx, list, client.MatchingFields{concern.NamespaceTenantIndex: tenant}); err != nil {
		return nil, fmt.Errorf("listing namespaces of tenant %s: %w", tenant, err)
	}
	var out []corev1.Namespace
	for _, ns := range list.Items {
		if ns.DeletionTimestamp.IsZero() && !r.Settings.IsSystemNamespace(ns.Name) {
			out = append(out, ns)
		}
	}
	return out, nil
}

// ensureMetadata applies the wanted labels and annotations, through
// ssa.Apply: nothing is written when the namespace already carries them.
// Only the metadata is applied, so that Bulkhead's field manager owns those
// labels and annotations and nothing else of a namespace it did not create.
func (r *Reconciler) ensureMetadata(ctx context.Context, ns *corev1.Namespace, want render.NamespaceMetadata) error {
	if err := r.dropStale(ctx, ns, want); err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	u.SetName(ns.Name)
	u.SetLabels(want.Labels)
	if len(want.Annotations) > 0 {
		u.SetAnnotations(want.Annotations)
	}
	_, _, err := ssa.Apply(ctx, r.Client, u)
	return err
}

// dropStale removes the conditional labels (render.ConditionalNamespaceLabels)
// ns carries that want no longer has: a tenant unfrozen, or without a
// tenant-wide quota any more.
func (r *Reconciler) dropStale(ctx context.Context, ns *corev1.Namespace, want render.NamespaceMetadata) error {
	stale := map[string]any{}
	for _, k := range render.ConditionalNamespaceLabels {
		if _, have := ns.Labels[k]; have {
			if _, wanted := want.Labels[k]; !wanted {
				stale[k] = nil
			}
		}
	}
	if len(stale) == 0 {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": stale}})
	if err != nil {
		return err
	}
	if err := r.Client.Patch(ctx, ns, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("removing labels %v from namespace %s: %w", slices.Sorted(maps.Keys(stale)), ns.Name, err)
	}
	return nil
}

func hasAll(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// finalize deletes or retains the tenant's namespaces as its deletion policy says,
// then removes the namespaces finalizer.
func (r *Reconciler) finalize(ctx context.Context, sc *render.Scope) error {
	t := sc.Tenant
	if !controllerutil.ContainsFinalizer(t, tenancyv1alpha1.FinalizerNamespaces) {
		return nil
	}
	list := &corev1.NamespaceList{}
	if err := r.Client.List(ctx, list, client.MatchingLabels{tenancyv1alpha1.TenantLabel: t.Name}); err != nil {
		return fmt.Errorf("listing namespaces of tenant %s: %w", t.Name, err)
	}
	policy := sc.Spec.Namespaces.DeletionPolicy
	want := render.Namespace(sc)
	var errs []error
	for i := range list.Items {
		ns := &list.Items[i]
		if r.Settings.IsSystemNamespace(ns.Name) {
			continue
		}
		var err error
		if policy == tenancyv1alpha1.DeletionDelete {
			err = client.IgnoreNotFound(r.Client.Delete(ctx, ns))
		} else {
			err = r.retain(ctx, ns, t.Name, want)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := tenantstatus.RemoveFinalizer(ctx, r.Client, t, tenancyv1alpha1.FinalizerNamespaces); err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("Tenant namespaces finalized", "tenant", t.Name, "policy", policy, "namespaces", len(list.Items))
	return nil
}

// retain turns a namespace of tenant into a retained one (see lock); what
// Bulkhead stamped on it goes, whoever wrote it (the webhook writes it on
// behalf of the creating owner). A namespace already being deleted is left
// to its deletion.
func (r *Reconciler) retain(ctx context.Context, ns *corev1.Namespace, tenant string, want render.NamespaceMetadata) error {
	if !ns.DeletionTimestamp.IsZero() {
		return nil
	}
	return lock(ctx, r.Client, r.Live, r.Settings, ns, tenant, render.RetainPatch(ns.Labels, want, tenant, r.Settings))
}

// Setup registers the namespaces controller with mgr.
func Setup(mgr ctrl.Manager, s render.Settings) error {
	r := &Reconciler{Client: mgr.GetClient(), Live: mgr.GetAPIReader(), Settings: s}
	return ctrl.NewControllerManagedBy(mgr).
		Named("tenant-namespaces").
		// Status writes (every concern writes its condition) need no
		// re-render; a spec change or a deletion bumps the generation.
		For(&tenancyv1alpha1.Tenant{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(concern.NamespaceToTenant)).
		Complete(r)
}
