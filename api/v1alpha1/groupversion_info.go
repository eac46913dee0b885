// Package v1alpha1 holds the Tenant API of Bulkhead (tenancy.bulkhead.dev/v1alpha1).
// It has types, markers and constants only; behaviour lives in internal/.
// +kubebuilder:object:generate=true
// +groupName=tenancy.bulkhead.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the Tenant API.
	GroupVersion = schema.GroupVersion{Group: "tenancy.bulkhead.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the API's types.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the API's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
