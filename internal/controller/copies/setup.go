package copies

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// sourceIndex indexes cached TenantResources by the sources they
// reference, as sourceKey gives them.
const sourceIndex = "spec.resources.from"

func sourceKey(kind, namespace, name string) string {
	return kind + " " + namespace + "/" + name
}

// NewMarkedCache is a cache of the Secrets and ConfigMaps that carry
// tenancy.bulkhead.dev/copy, whatever its value: sources and copies, and
// nothing else. Reading any other kind through it fails rather than start
// an informer nobody narrowed.
func NewMarkedCache(mgr ctrl.Manager) (cache.Cache, error) {
	marked, err := labels.NewRequirement(tenancyv1alpha1.CopyLabel, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	sel := labels.NewSelector().Add(*marked)
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient:           mgr.GetHTTPClient(),
		Scheme:               mgr.GetScheme(),
		Mapper:               mgr.GetRESTMapper(),
		DefaultLabelSelector: sel,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:    {Label: sel},
			&corev1.ConfigMap{}: {Label: sel},
		},
		DefaultTransform:            cache.TransformStripManagedFields(),
		ReaderFailOnMissingInformer: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the cache of marked Secrets and ConfigMaps: %w", err)
	}
	return c, nil
}

// Setup registers the copies controller, and the cache of marked objects
// it watches, with mgr.
func Setup(mgr ctrl.Manager) error {
	marked, err := NewMarkedCache(mgr)
	if err != nil {
		return err
	}
	// Started with the controllers (on the elected replica only): nothing
	// else reads it.
	if err := mgr.Add(marked); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &tenancyv1alpha1.TenantResource{}, sourceIndex, func(obj client.Object) []string {
		tr, ok := obj.(*tenancyv1alpha1.TenantResource)
		if !ok {
			return nil
		}
		var out []string
		for i := range tr.Spec.Resources {
			if r := &tr.Spec.Resources[i]; IsReference(r) {
				out = append(out, sourceKey(string(r.From.Kind), r.From.Namespace, r.From.Name))
			}
		}
		return out
	}); err != nil {
		return err
	}
	r := &Reconciler{
		Client:   mgr.GetClient(),
		Marked:   marked,
		Live:     mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("bulkhead-copies"),
	}
	all := handler.EnqueueRequestsFromMapFunc(r.all)
	toOwners := handler.EnqueueRequestsFromMapFunc(r.ofMarked)
	return ctrl.NewControllerManagedBy(mgr).
		Named("copies").
		For(&tenancyv1alpha1.TenantResource{}, builder.WithPredicates(specOrDeletion)).
		// A Tenant entering or leaving a selector, and a tenant namespace
		// created, deleted or relabelled, may concern any TenantResource.
		Watches(&tenancyv1alpha1.Tenant{}, all, builder.WithPredicates(labelsOrDeletion)).
		Watches(&corev1.Namespace{}, all, builder.WithPredicates(tenantNamespace, labelsOrDeletion)).
		// A source changed, marked or unmarked, and a copy changed or
		// deleted by someone else: within a second, from the watch.
		WatchesRawSource(source.Kind(marked, client.Object(&corev1.Secret{}), toOwners)).
		WatchesRawSource(source.Kind(marked, client.Object(&corev1.ConfigMap{}), toOwners)).
		Complete(r)
}

// all lists every TenantResource: there are few, written by admins.
func (r *Reconciler) all(ctx context.Context, _ client.Object) []ctrl.Request {
	list := &tenancyv1alpha1.TenantResourceList{}
	if err := r.Client.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing TenantResources")
		return nil
	}
	out := make([]ctrl.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, ctrl.Request{NamespacedName: types.NamespacedName{Name: list.Items[i].Name}})
	}
	return out
}

// ofMarked maps a marked Secret or ConfigMap to the TenantResources it
// concerns: the one a copy names, and those referencing a source.
func (r *Reconciler) ofMarked(ctx context.Context, obj client.Object) []ctrl.Request {
	var out []ctrl.Request
	if name := obj.GetLabels()[tenancyv1alpha1.TenantResourceLabel]; name != "" {
		out = append(out, ctrl.Request{NamespacedName: types.NamespacedName{Name: name}})
	}
	list := &tenancyv1alpha1.TenantResourceList{}
	if err := r.Client.List(ctx, list, client.MatchingFields{sourceIndex: sourceKey(kindOf(obj), obj.GetNamespace(), obj.GetName())}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing TenantResources by source")
		return out
	}
	for i := range list.Items {
		out = append(out, ctrl.Request{NamespacedName: types.NamespacedName{Name: list.Items[i].Name}})
	}
	return out
}

// specOrDeletion passes a TenantResource whose spec changed or whose
// deletion began, not the status writes of this controller.
var specOrDeletion = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
		e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
}}

// labelsOrDeletion passes objects created, deleted, relabelled or whose
// deletion began: the only changes that move them in or out of a selection.
var labelsOrDeletion = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	return !equality.Semantic.DeepEqual(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels()) ||
		e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
}}

// tenantNamespace passes namespaces that carry, or carried, a tenant label.
var tenantNamespace = predicate.Funcs{
	CreateFunc: func(e event.CreateEvent) bool { return e.Object.GetLabels()[tenancyv1alpha1.TenantLabel] != "" },
	DeleteFunc: func(e event.DeleteEvent) bool { return e.Object.GetLabels()[tenancyv1alpha1.TenantLabel] != "" },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetLabels()[tenancyv1alpha1.TenantLabel] != "" || e.ObjectNew.GetLabels()[tenancyv1alpha1.TenantLabel] != ""
	},
	GenericFunc: func(event.GenericEvent) bool { return false },
}
