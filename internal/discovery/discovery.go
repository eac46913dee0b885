package discovery

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/meta"
)

// MutatingPoliciesServed reports whether the API server serves
// MutatingAdmissionPolicy at admissionregistration.k8s.io/v1. A server that
// does not know the kind is an answer (false), not an error; any other
// failure to read discovery is returned.
func MutatingPoliciesServed(mapper meta.RESTMapper) (bool, error) {
	gk := admissionregistrationv1.SchemeGroupVersion.WithKind("MutatingAdmissionPolicy").GroupKind()
	_, err := mapper.RESTMapping(gk, admissionregistrationv1.SchemeGroupVersion.Version)
	if meta.IsNoMatchError(err) {
		return false, nil
	}
	return err == nil, err
}

// DeviceClassesServed reports whether the API server serves DeviceClass at
// resource.k8s.io/v1 (dynamic resource allocation, GA since Kubernetes
// 1.34), as MutatingPoliciesServed does for its kind.
func DeviceClassesServed(mapper meta.RESTMapper) (bool, error) {
	gk := resourcev1.SchemeGroupVersion.WithKind("DeviceClass").GroupKind()
	_, err := mapper.RESTMapping(gk, resourcev1.SchemeGroupVersion.Version)
	if meta.IsNoMatchError(err) {
		return false, nil
	}
	return err == nil, err
}
