package render

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The storage family: which StorageClasses a tenant's claims may use, and
// no claim that could bind another tenant's volume or copy another
// namespace's data (rules storage.*). Its parameters are
// TenantPolicySpec.Storage.

// StoragePolicy names the policy of the storage family and its binding.
const StoragePolicy = "bulkhead-storage"

// storageParams flattens the tenant's storage classes into storage.
func storageParams(storage *tenancyv1alpha1.StorageRules, spec *tenancyv1alpha1.TenantSpec) {
	storage.Classes = nonNil(spec.Storage.Classes)
}

// betaStorageClass is the annotation that named a claim's class before
// spec.storageClassName existed; the volume controller still honours it.
const betaStorageClass = "volume.beta.kubernetes.io/storage-class"

// storageValidation judges the tenant's new PersistentVolumeClaims: their
// class, and nothing that reaches a volume or data outside the namespace.
func storageValidation() *admissionregistrationv1.ValidatingAdmissionPolicy {
	return validatingPolicy(StoragePolicy,
		// Only creation: the volume controller binds claims by updating
		// volumeName. A claim naming a volume at creation is judged by the
		// volumes webhook, which can read the volume.
		[]admissionregistrationv1.NamedRuleWithOperations{rules(createOnly, "", "persistentvolumeclaims")},
		nil,
		// The volume controller reads the old beta annotation before the
		// field: both must name an allowed class.
		vars("classes", "(has(object.spec.storageClassName) ? [object.spec.storageClassName] : [])"+
			" + (has(object.metadata.annotations) && '"+betaStorageClass+"' in object.metadata.annotations ? "+
			"[object.metadata.annotations['"+betaStorageClass+"']] : [])"),
		rule{
			name: "storage.classes",
			expr: "size(params.spec.storage.classes) == 0 || (size(variables.classes) > 0 && " +
				"variables.classes.all(c, c in params.spec.storage.classes))",
			problem: "'storage class ' + (size(variables.classes) > 0 ? variables.classes.filter(c, !(c in params.spec.storage.classes))[0] : '(none)') + ' is not allowed; allowed: ' + params.spec.storage.classes.join(', ')",
			fix:     "Set spec.storageClassName to an allowed class",
		},
		rule{
			// A selector asks the volume binder for an existing volume by its
			// labels, and the binder hands over any Available volume that
			// matches, one provisioned for another tenant included. Dynamic
			// provisioning ignores selectors, so only static binding needs it;
			// that is an admin's to set up (pre-bound with a claimRef).
			name:    "storage.selector",
			expr:    "!has(object.spec.selector)",
			problem: "'spec.selector would let the volume binder hand this claim an existing volume of any tenant'",
			fix:     "Remove spec.selector and let the StorageClass provision a volume; for an existing volume, ask a cluster admin to pre-bind it to this claim",
		},
		rule{
			// A cross-namespace data source would copy another namespace's
			// snapshot or claim into this one.
			name: "storage.dataSource",
			expr: "!has(object.spec.dataSourceRef) || !has(object.spec.dataSourceRef.namespace) || " +
				"object.spec.dataSourceRef.namespace == '' || object.spec.dataSourceRef.namespace == request.namespace",
			problem: "'spec.dataSourceRef names namespace ' + object.spec.dataSourceRef.namespace + ', another namespace'",
			fix:     "Restore from a snapshot or claim in this namespace: drop dataSourceRef.namespace",
		},
	)
}
