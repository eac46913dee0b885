// Package v1alpha1 holds the Tenant API of Bulkhead (tenancy.bulkhead.dev/v1alpha1).
// It has types, markers and constants only; behaviour lives in internal/.
// +kubebuilder:object:generate=true
// +groupName=tenancy.bulkhead.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of the Tenant API.
	GroupVersion = schema.GroupVersion{Group: "tenancy.bulkhead.dev", Version: "v1alpha1"}

	// SchemeBuilder collects the functions that add the API's types to a
	// scheme; each kind's file registers its own (register).
	SchemeBuilder = runtime.NewSchemeBuilder()

	// AddToScheme adds the API's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// register adds objs, and the meta types every group version carries, to
// GroupVersion in the schemes SchemeBuilder builds.
func register(objs ...runtime.Object) {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, objs...)
		metav1.AddToGroupVersion(s, GroupVersion)
		return nil
	})
}
