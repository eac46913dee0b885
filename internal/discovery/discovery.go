package discovery

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Served reports whether the API server serves kind at its group and
// version. A server that does not know the kind is an answer (false), not
// an error; any other failure to read discovery is returned.
func Served(mapper meta.RESTMapper, kind schema.GroupVersionKind) (bool, error) {
	_, err := mapper.RESTMapping(kind.GroupKind(), kind.Version)
	if meta.IsNoMatchError(err) {
		return false, nil
	}
	return err == nil, err
}

// MutatingPoliciesServed reports whether the API server serves
// MutatingAdmissionPolicy at admissionregistration.k8s.io/v1.
func MutatingPoliciesServed(mapper meta.RESTMapper) (bool, error) {
	return Served(mapper, admissionregistrationv1.SchemeGroupVersion.WithKind("MutatingAdmissionPolicy"))
}

// DeviceClassesServed reports whether the API server serves DeviceClass at
// resource.k8s.io/v1 (dynamic resource allocation, GA since Kubernetes
// 1.34).
func DeviceClassesServed(mapper meta.RESTMapper) (bool, error) {
	return Served(mapper, resourcev1.SchemeGroupVersion.WithKind("DeviceClass"))
}

// GatewayAPIServed reports whether the API server serves the Gateway API's
// HTTPRoute at v1, which every kind Bulkhead watches of it comes with.
func GatewayAPIServed(mapper meta.RESTMapper) (bool, error) {
	return Served(mapper, schema.GroupVersionKind{Group: gatewayv1.GroupName, Version: gatewayv1.GroupVersion.Version, Kind: "HTTPRoute"})
}
