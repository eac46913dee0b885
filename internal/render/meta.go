package render

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Concern names a controller and the objects it renders.
type Concern string

// The concerns, one controller each.
const (
	ConcernNamespaces Concern = "namespaces"
	ConcernRBAC       Concern = "rbac"
	ConcernQuota      Concern = "quota"
	ConcernNetwork    Concern = "network"
	ConcernAdmission  Concern = "admission"
)

// ManagedLabels mark an object as rendered by Bulkhead for a tenant and a
// concern; cleanup and pruning find objects by them.
func ManagedLabels(tenant string, c Concern) map[string]string {
	return map[string]string{
		tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue,
		tenancyv1alpha1.TenantLabel:    tenant,
		tenancyv1alpha1.ConcernLabel:   string(c),
	}
}

// objectMeta is the metadata of a rendered object: managed labels, and the
// Tenant as controller owner so that watches bring changes back to it and the
// garbage collector removes what cleanup might miss.
func objectMeta(t *tenancyv1alpha1.Tenant, c Concern, namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       namespace,
		Labels:          ManagedLabels(t.Name, c),
		OwnerReferences: []metav1.OwnerReference{OwnerRef(t)},
	}
}

// OwnerRef is the controller reference every rendered object carries.
func OwnerRef(t *tenancyv1alpha1.Tenant) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         tenancyv1alpha1.GroupVersion.String(),
		Kind:               "Tenant",
		Name:               t.Name,
		UID:                t.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}
