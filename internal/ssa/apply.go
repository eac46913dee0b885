package ssa

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// FieldManager is the one server-side apply manager of every object Bulkhead renders.
const FieldManager = "bulkhead"

// Key names an object for pruning: kind, namespace and name.
func Key(gvk schema.GroupVersionKind, namespace, name string) string {
	return gvk.Kind + "/" + namespace + "/" + name
}

// Apply writes obj with server-side apply, as FieldManager, unless the
// cluster already holds it as rendered (read through c, so from the cache
// for cached kinds). It returns the object's Key and whether it wrote.
func Apply(ctx context.Context, c client.Client, obj client.Object) (key string, changed bool, err error) {
	scheme := c.Scheme()
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return "", false, err
	}
	key = Key(gvk, obj.GetNamespace(), obj.GetName())
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return key, false, err
	}
	u := &unstructured.Unstructured{Object: raw}
	u.SetGroupVersionKind(gvk)
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")

	// Read the typed object so that the read is served from the cache.
	fresh, err := scheme.New(gvk)
	if err != nil {
		return key, false, err
	}
	existing := fresh.(client.Object)
	err = c.Get(ctx, client.ObjectKeyFromObject(obj), existing)
	switch {
	case err == nil:
		have, convErr := runtime.DefaultUnstructuredConverter.ToUnstructured(existing)
		if convErr == nil && isSubset(withoutTypeMeta(u.Object), have) {
			return key, false, nil
		}
	case !apierrors.IsNotFound(err):
		return key, false, fmt.Errorf("reading %s %s: %w", gvk.Kind, describe(obj), err)
	}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return key, false, fmt.Errorf("applying %s %s: %w", gvk.Kind, describe(obj), err)
	}
	ctrl.LoggerFrom(ctx).V(2).Info("Applied object", "kind", gvk.Kind, "object", key)
	return key, true, nil
}

func describe(obj client.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

// withoutTypeMeta drops apiVersion and kind, which cached typed objects lack.
func withoutTypeMeta(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "apiVersion" && k != "kind" {
			out[k] = v
		}
	}
	return out
}
