package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// QuotaObjectKind is the kind of object that uses tenant-wide quota: Pod,
// PersistentVolumeClaim, or, for an object counted by a
// count/<resource>.<group> limit, that limit's name.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=260
// +kubebuilder:validation:XValidation:rule="self in ['Pod', 'PersistentVolumeClaim'] || self.startsWith('count/')",message="kind is Pod, PersistentVolumeClaim or a count/<resource>.<group> limit"
type QuotaObjectKind string

const (
	// QuotaObjectPod is a Pod: one pod, and its cpu, memory and ephemeral storage.
	QuotaObjectPod QuotaObjectKind = "Pod"
	// QuotaObjectClaim is a PersistentVolumeClaim: one claim, and its storage request.
	QuotaObjectClaim QuotaObjectKind = "PersistentVolumeClaim"
)

// QuotaReservation is quota charged at admission to one object.
type QuotaReservation struct {
	// kind is Pod or PersistentVolumeClaim, or the count/<resource>.<group>
	// limit an object of any other kind is counted by.
	// +required
	Kind QuotaObjectKind `json:"kind,omitempty"`
	// namespace of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// name of the object; a pod's in-place resize or a claim's expansion is
	// reserved under the object's name followed by "@resize".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=260
	Name string `json:"name,omitempty"`
	// admissionTime is when the object was admitted; the reservation
	// expires a while after it if the object never appears.
	// +required
	AdmissionTime metav1.Time `json:"admissionTime,omitempty"`
	// amount charged.
	// +required
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=16
	Amount corev1.ResourceList `json:"amount,omitempty"`
}

// TenantQuotaLedgerStatus is the account of a tenant's tenant-wide quota.
type TenantQuotaLedgerStatus struct {
	// usage is the tenant's use of quota.tenant.hard: what its namespaces
	// held at the last recount, plus Reservations. Every limited resource
	// appears once the tenant has been counted, zero if unused. Never
	// negative: an account below zero would let through as much again.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == int ? self[k] >= 0 : !self[k].startsWith('-'))",message="quantities must not be negative"
	Usage corev1.ResourceList `json:"usage,omitempty"`
	// reservations are quota charged to objects admitted but not yet
	// counted: each is dropped once its object is counted, or after a
	// while if the object was never created. One object may hold several
	// (a pod resized twice), so the list is replaced whole.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10000
	Reservations []QuotaReservation `json:"reservations,omitempty"`
}

// TenantQuotaLedger is the running account of one tenant's tenant-wide
// quota (spec.quota.tenant.hard). Bulkhead keeps one for each Tenant with a
// tenant-wide quota, named after the Tenant and owned by it, and charges
// every admitted pod and claim of the tenant to it with a compare-and-swap
// on its resourceVersion. It lives apart from the Tenant so that the Tenant
// changes only when people or the recount change it, and whatever watches
// Tenants is not woken by every pod. Tenants can neither read nor write it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tql
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TenantQuotaLedger struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata; the name is the Tenant's.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// status is the account; the ledger has no spec, the Tenant's
	// spec.quota.tenant.hard being the limits.
	// +optional
	Status TenantQuotaLedgerStatus `json:"status,omitempty"`
}

// TenantQuotaLedgerList is a list of TenantQuotaLedgers.
// +kubebuilder:object:root=true
type TenantQuotaLedgerList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the ledgers.
	Items []TenantQuotaLedger `json:"items"`
}

func init() {
	register(&TenantQuotaLedger{}, &TenantQuotaLedgerList{})
}
