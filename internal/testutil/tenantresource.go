package testutil

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// TenantResourceWrapper builds a TenantResource one setting at a time;
// every method returns the wrapper so calls chain, and Obj returns a copy.
type TenantResourceWrapper struct {
	tr tenancyv1alpha1.TenantResource
}

// TenantResource starts a TenantResource that selects every Tenant and
// copies nothing yet.
func TenantResource(name string) *TenantResourceWrapper {
	return &TenantResourceWrapper{tr: tenancyv1alpha1.TenantResource{
		TypeMeta:   metav1.TypeMeta{APIVersion: tenancyv1alpha1.GroupVersion.String(), Kind: "TenantResource"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}}
}

// Obj returns a deep copy of the TenantResource built so far.
func (w *TenantResourceWrapper) Obj() *tenancyv1alpha1.TenantResource {
	return w.tr.DeepCopy()
}

// Tenants selects the Tenants labelled key=value.
func (w *TenantResourceWrapper) Tenants(key, value string) *TenantResourceWrapper {
	w.tr.Spec.TenantSelector = metav1.LabelSelector{MatchLabels: map[string]string{key: value}}
	return w
}

// Namespaces narrows the selection to namespaces labelled key=value.
func (w *TenantResourceWrapper) Namespaces(key, value string) *TenantResourceWrapper {
	w.tr.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}
	return w
}

// From copies the source kind namespace/name, under the source's name.
func (w *TenantResourceWrapper) From(kind tenancyv1alpha1.CopiedKind, namespace, name string) *TenantResourceWrapper {
	w.tr.Spec.Resources = append(w.tr.Spec.Resources, tenancyv1alpha1.CopiedResource{
		From: tenancyv1alpha1.SourceReference{Kind: kind, Namespace: namespace, Name: name},
	})
	return w
}

// ConfigMap copies an inline ConfigMap of data under name.
func (w *TenantResourceWrapper) ConfigMap(name string, data map[string]string) *TenantResourceWrapper {
	w.tr.Spec.Resources = append(w.tr.Spec.Resources, tenancyv1alpha1.CopiedResource{
		Name: name, ConfigMap: &tenancyv1alpha1.InlineConfigMap{Data: data},
	})
	return w
}

// Secret copies an inline Secret of data and type typ (Opaque when empty) under name.
func (w *TenantResourceWrapper) Secret(name, typ string, data map[string][]byte) *TenantResourceWrapper {
	w.tr.Spec.Resources = append(w.tr.Spec.Resources, tenancyv1alpha1.CopiedResource{
		Name: name, Secret: tenancyv1alpha1.InlineSecret{Type: typ, Data: data},
	})
	return w
}
