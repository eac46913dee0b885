package testutil

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NamespaceWrapper builds a Namespace as a tenant would write it.
type NamespaceWrapper struct {
	ns corev1.Namespace
}

// Namespace starts a Namespace with the given name.
func Namespace(name string) *NamespaceWrapper {
	return &NamespaceWrapper{ns: corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}}
}

// Generated starts a Namespace the API server names from generateName.
func Generated(generateName string) *NamespaceWrapper {
	return &NamespaceWrapper{ns: corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: generateName}}}
}

// Label sets a label.
func (w *NamespaceWrapper) Label(key, value string) *NamespaceWrapper {
	if w.ns.Labels == nil {
		w.ns.Labels = map[string]string{}
	}
	w.ns.Labels[key] = value
	return w
}

// Annotation sets an annotation.
func (w *NamespaceWrapper) Annotation(key, value string) *NamespaceWrapper {
	if w.ns.Annotations == nil {
		w.ns.Annotations = map[string]string{}
	}
	w.ns.Annotations[key] = value
	return w
}

// Obj returns a deep copy of the Namespace built so far.
func (w *NamespaceWrapper) Obj() *corev1.Namespace {
	return w.ns.DeepCopy()
}
