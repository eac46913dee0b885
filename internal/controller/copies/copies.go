package copies

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantresources,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantresources/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantresources/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch;create;patch;delete

// Event reasons on a TenantResource.
const (
	// ReasonCopiesWritten: copies were created or brought up to date.
	ReasonCopiesWritten = "CopiesWritten"
	// ReasonCopiesRemoved: copies no longer wanted were deleted.
	ReasonCopiesRemoved = "CopiesRemoved"
)

// recheck is when a TenantResource with a problem no watch reports the end
// of is looked at again: a tenant's own object deleted to free a name, a
// missing source created without the label.
const recheck = 30 * time.Second

// Reconciler keeps the copies of each TenantResource.
type Reconciler struct {
	// Client reads TenantResources, Tenants and namespaces from the
	// manager's cache, and writes. It must never read Secrets or
	// ConfigMaps: that would cache every one of the cluster.
	Client client.Client
	// Marked reads Secrets and ConfigMaps from the cache of marked objects
	// (sources and copies).
	Marked client.Reader
	// Live reads from the API server: metadata of unmarked objects, and
	// every copy when a TenantResource is deleted.
	Live client.Reader
	// Recorder tells, on the TenantResource, what was copied and removed.
	Recorder events.EventRecorder
}

// Reconcile brings the copies of one TenantResource in line with its
// sources and selectors, and writes its status.
//
// Deletion: while the TenantResource exists it carries FinalizerCopies;
// once it is being deleted, every copy labelled as its own is deleted, then
// the finalizer is removed. The copies' owner reference is the backstop
// should the finalizer be removed by hand: the garbage collector deletes
// them then.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	tr := &tenancyv1alpha1.TenantResource{}
	if err := r.Client.Get(ctx, req.NamespacedName, tr); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !tr.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, tr)
	}
	if !controllerutil.ContainsFinalizer(tr, tenancyv1alpha1.FinalizerCopies) {
		patch := client.MergeFromWithOptions(tr.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(tr, tenancyv1alpha1.FinalizerCopies)
		if err := r.Client.Patch(ctx, tr, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to TenantResource %s: %w", tr.Name, err)
		}
	}
	out, syncErr := r.sync(ctx, tr)
	statusErr := r.writeStatus(ctx, tr, out)
	if err := errors.Join(syncErr, statusErr); err != nil {
		return ctrl.Result{}, err
	}
	if len(out.Plan.Problems) > 0 || len(out.Conflicts) > 0 {
		return ctrl.Result{RequeueAfter: recheck}, nil
	}
	return ctrl.Result{}, nil
}

// sync writes the wanted copies and deletes the others. A refused write
// is recorded in the outcome and returned, for a retry; nothing is deleted
// on an answer that is not definite.
func (r *Reconciler) sync(ctx context.Context, tr *tenancyv1alpha1.TenantResource) (Outcome, error) {
	var out Outcome
	tenants := &tenancyv1alpha1.TenantList{}
	if err := r.Client.List(ctx, tenants); err != nil {
		return out, fmt.Errorf("listing Tenants: %w", err)
	}
	namespaces := &corev1.NamespaceList{}
	if err := r.Client.List(ctx, namespaces, client.HasLabels{tenancyv1alpha1.TenantLabel}); err != nil {
		return out, fmt.Errorf("listing tenant namespaces: %w", err)
	}
	sel, err := Select(tr, tenants.Items, namespaces.Items)
	if err != nil {
		// Only a new spec mends it; the status says what to change.
		out.Failures = append(out.Failures, err.Error())
		return out, nil
	}
	out.Selection = sel
	sources, err := r.sources(ctx, tr)
	if err != nil {
		return out, err
	}
	out.Plan = Desired(tr, sel.Namespaces, sources)
	have, err := r.copiesOf(ctx, r.Marked, tr.Name)
	if err != nil {
		return out, err
	}

	log := ctrl.LoggerFrom(ctx)
	var errs []error
	var written, removed []string
	wanted := map[string]bool{}
	for _, want := range out.Plan.Copies {
		k := keyOf(want)
		wanted[k] = true
		w, conflict, err := r.ensure(ctx, tr, want, have[k])
		switch {
		case err != nil:
			out.Failures = append(out.Failures, err.Error())
			errs = append(errs, err)
		case conflict != nil:
			out.Conflicts = append(out.Conflicts, *conflict)
		default:
			out.InPlace++
			if w {
				written = append(written, k)
			}
		}
	}
	for k, obj := range have {
		if wanted[k] {
			continue
		}
		if err := r.remove(ctx, obj); err != nil {
			errs = append(errs, err)
			continue
		}
		log.V(1).Info("Removed copy", "object", klog.KObj(obj), "kind", kindOf(obj))
		removed = append(removed, k)
	}
	if len(written) > 0 {
		r.Recorder.Eventf(tr, nil, corev1.EventTypeNormal, ReasonCopiesWritten, "Copy",
			"Wrote %d copies: %s", len(written), summary(written))
	}
	if len(removed) > 0 {
		r.Recorder.Eventf(tr, nil, corev1.EventTypeNormal, ReasonCopiesRemoved, "Delete",
			"Removed %d copies no longer wanted (source gone or unmarked, namespace or tenant no longer selected, or resource dropped): %s",
			len(removed), summary(removed))
	}
	return out, errors.Join(errs...)
}

// sources finds every source tr references: marked ones in the cache of
// marked objects; for the others, a live read of their metadata tells a
// missing source from an unmarked one.
func (r *Reconciler) sources(ctx context.Context, tr *tenancyv1alpha1.TenantResource) (map[tenancyv1alpha1.SourceReference]Source, error) {
	out := map[tenancyv1alpha1.SourceReference]Source{}
	for i := range tr.Spec.Resources {
		res := &tr.Spec.Resources[i]
		if !IsReference(res) {
			continue
		}
		ref := res.From
		if _, done := out[ref]; done {
			continue
		}
		// A tenant's namespace is the tenant's to write: a source there
		// would let it choose what other tenants receive. Decided before
		// the source is read, and again whenever a namespace's tenant
		// label changes (the namespace watch brings every TenantResource
		// back).
		srcNs := &corev1.Namespace{}
		err := r.Client.Get(ctx, client.ObjectKey{Name: ref.Namespace}, srcNs)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading namespace %s: %w", ref.Namespace, err)
		}
		if tenant := srcNs.Labels[tenancyv1alpha1.TenantLabel]; err == nil && tenant != "" {
			out[ref] = Source{InTenant: tenant}
			continue
		}
		key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
		obj := newObject(ref.Kind)
		err = r.Marked.Get(ctx, key, obj)
		switch {
		case err == nil && isMarked(obj):
			out[ref] = Source{Object: obj}
			continue
		case err == nil:
			// A copy, or an object labelled with another value.
			out[ref] = Source{Unmarked: true}
			continue
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("reading %s %s: %w", ref.Kind, key, err)
		}
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(string(ref.Kind)))
		err = r.Live.Get(ctx, key, m)
		switch {
		case apierrors.IsNotFound(err):
			out[ref] = Source{}
		case err != nil:
			return nil, fmt.Errorf("reading %s %s: %w", ref.Kind, key, err)
		case !isMarked(m):
			out[ref] = Source{Unmarked: true}
		default:
			// Marked a moment ago, not cached yet: read it whole.
			if err := r.Live.Get(ctx, key, obj); err != nil {
				return nil, fmt.Errorf("reading %s %s: %w", ref.Kind, key, err)
			}
			out[ref] = Source{Object: obj}
		}
	}
	return out, nil
}

// ensure makes want exist as wanted, given have, the copy of tr cached
// under its name (nil if none). written says whether it wrote; conflict
// says another object holds the name, which is never touched.
func (r *Reconciler) ensure(ctx context.Context, tr *tenancyv1alpha1.TenantResource, want, have client.Object) (written bool, conflict *tenancyv1alpha1.CopyConflict, err error) {
	if have != nil {
		switch Compare(want, have) {
		case Unchanged:
			return false, nil, nil
		case Update:
			// The lock fails the patch if the object was replaced since
			// the cache saw it: only the copy seen is ever changed.
			patch := client.MergeFromWithOptions(have, client.MergeFromWithOptimisticLock{})
			if err := r.Client.Patch(ctx, Mended(want, have), patch); err != nil {
				return false, nil, fmt.Errorf("updating %s %s: %w", kindOf(want), client.ObjectKeyFromObject(want), err)
			}
			return true, nil, nil
		case Replace:
			if err := r.remove(ctx, have); err != nil {
				return false, nil, err
			}
		}
	}
	// Create, never apply: an object of the same name that Bulkhead did not
	// copy (a tenant's own Secret) makes the create fail, and stays as it is.
	err = r.Client.Create(ctx, want.DeepCopyObject().(client.Object))
	switch {
	case err == nil:
		return true, nil, nil
	case !apierrors.IsAlreadyExists(err):
		return false, nil, fmt.Errorf("creating %s %s: %w", kindOf(want), client.ObjectKeyFromObject(want), err)
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kindOf(want)))
	if err := r.Live.Get(ctx, client.ObjectKeyFromObject(want), m); err != nil {
		return false, nil, fmt.Errorf("reading %s %s: %w", kindOf(want), client.ObjectKeyFromObject(want), err)
	}
	if IsCopyOf(m, tr.Name) {
		// Written by an earlier round and not yet in the cache, whose
		// event brings this TenantResource back.
		return false, nil, nil
	}
	holder := HeldByTenant
	if m.Labels[tenancyv1alpha1.ManagedByLabel] == tenancyv1alpha1.ManagedByValue && m.Labels[tenancyv1alpha1.TenantResourceLabel] != "" {
		holder = m.Labels[tenancyv1alpha1.TenantResourceLabel]
	}
	return false, &tenancyv1alpha1.CopyConflict{
		Kind: tenancyv1alpha1.CopiedKind(kindOf(want)), Namespace: want.GetNamespace(), Name: want.GetName(), HeldBy: holder,
	}, nil
}

// remove deletes a copy, only the one seen (by UID): one deleted and
// replaced meanwhile is no longer this copy.
func (r *Reconciler) remove(ctx context.Context, obj client.Object) error {
	uid := obj.GetUID()
	err := r.Client.Delete(ctx, obj, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting %s %s: %w", kindOf(obj), client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// finalize deletes every copy of a TenantResource being deleted, found by
// a live list (the cache may not have seen the latest), then lets it go.
func (r *Reconciler) finalize(ctx context.Context, tr *tenancyv1alpha1.TenantResource) error {
	if !controllerutil.ContainsFinalizer(tr, tenancyv1alpha1.FinalizerCopies) {
		return nil
	}
	have, err := r.copiesOf(ctx, r.Live, tr.Name)
	if err != nil {
		return err
	}
	var removed []string
	for k, obj := range have {
		if err := r.remove(ctx, obj); err != nil {
			return err
		}
		removed = append(removed, k)
	}
	if len(removed) > 0 {
		r.Recorder.Eventf(tr, nil, corev1.EventTypeNormal, ReasonCopiesRemoved, "Delete",
			"Removed %d copies of a TenantResource being deleted: %s", len(removed), summary(removed))
	}
	patch := client.MergeFromWithOptions(tr.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(tr, tenancyv1alpha1.FinalizerCopies)
	if err := r.Client.Patch(ctx, tr, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing finalizer of TenantResource %s: %w", tr.Name, err)
	}
	return nil
}

// copiesOf lists the copies of the TenantResource name through reader,
// keyed by keyOf.
func (r *Reconciler) copiesOf(ctx context.Context, reader client.Reader, name string) (map[string]client.Object, error) {
	out := map[string]client.Object{}
	mine := client.MatchingLabels{tenancyv1alpha1.TenantResourceLabel: name}
	secrets := &corev1.SecretList{}
	if err := reader.List(ctx, secrets, mine); err != nil {
		return nil, fmt.Errorf("listing copies of %s: %w", name, err)
	}
	for i := range secrets.Items {
		if IsCopyOf(&secrets.Items[i], name) {
			out[keyOf(&secrets.Items[i])] = &secrets.Items[i]
		}
	}
	configMaps := &corev1.ConfigMapList{}
	if err := reader.List(ctx, configMaps, mine); err != nil {
		return nil, fmt.Errorf("listing copies of %s: %w", name, err)
	}
	for i := range configMaps.Items {
		if IsCopyOf(&configMaps.Items[i], name) {
			out[keyOf(&configMaps.Items[i])] = &configMaps.Items[i]
		}
	}
	return out, nil
}

// writeStatus patches tr's status when the outcome changes it, and says
// on a Warning Event when Ready turns False or its reason changes.
func (r *Reconciler) writeStatus(ctx context.Context, tr *tenancyv1alpha1.TenantResource, out Outcome) error {
	st := Status(tr, out)
	if equality.Semantic.DeepEqual(st, tr.Status) {
		return nil
	}
	was := meta.FindStatusCondition(tr.Status.Conditions, tenancyv1alpha1.ConditionReady)
	now := meta.FindStatusCondition(st.Conditions, tenancyv1alpha1.ConditionReady)
	patch := client.MergeFrom(tr.DeepCopy())
	tr.Status = st
	if err := r.Client.Status().Patch(ctx, tr, patch); err != nil {
		return fmt.Errorf("writing status of TenantResource %s: %w", tr.Name, err)
	}
	if now.Status == metav1.ConditionFalse && (was == nil || was.Status != now.Status || was.Reason != now.Reason) {
		note := now.Message
		if len(note) > 1000 {
			note = note[:1000] + "..."
		}
		r.Recorder.Eventf(tr, nil, corev1.EventTypeWarning, now.Reason, "Copy", "%s", note)
	}
	return nil
}

func newObject(k tenancyv1alpha1.CopiedKind) client.Object {
	if k == tenancyv1alpha1.CopiedSecret {
		return &corev1.Secret{}
	}
	return &corev1.ConfigMap{}
}

func isMarked(obj client.Object) bool {
	return obj.GetLabels()[tenancyv1alpha1.CopyLabel] == tenancyv1alpha1.CopySource
}

// kindOf is the kind of a Secret or ConfigMap, typed or metadata only.
func kindOf(obj client.Object) string {
	switch o := obj.(type) {
	case *corev1.Secret:
		return string(tenancyv1alpha1.CopiedSecret)
	case *metav1.PartialObjectMetadata:
		return o.Kind
	}
	return string(tenancyv1alpha1.CopiedConfigMap)
}

// keyOf names a copy: kind, namespace and name.
func keyOf(obj client.Object) string {
	return kindOf(obj) + " " + obj.GetNamespace() + "/" + obj.GetName()
}

// summary lists the first few keys, sorted, for an Event.
func summary(keys []string) string {
	const shown = 5
	slices.Sort(keys)
	s := strings.Join(keys[:min(len(keys), shown)], ", ")
	if len(keys) > shown {
		s += fmt.Sprintf(" and %d more", len(keys)-shown)
	}
	return s
}
