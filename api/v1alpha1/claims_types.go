package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HostnameHold is one hostname held by one tenant.
type HostnameHold struct {
	// host is the hostname, lowercased: a name, a wildcard ("*.example.com")
	// or "*" for the catch-all (a rule without host, or a default backend).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host,omitempty"`
	// tenant holds the hostname.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Tenant string `json:"tenant,omitempty"`
	// claimTime is when an Ingress of the tenant serving the hostname was
	// last admitted. Once a while has passed since, the hold lasts only as
	// long as such an Ingress exists.
	// +required
	ClaimTime metav1.Time `json:"claimTime,omitempty"`
}

// HostnameClaimSpec lists who holds the hostnames that can conflict with
// one another: one wildcard and the names one label under it, a name of a
// single label, or the catch-all.
type HostnameClaimSpec struct {
	// holds are the hostnames held, at most one entry per hostname. The list
	// is replaced whole, with the resourceVersion it was read at.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10000
	Holds []HostnameHold `json:"holds,omitempty"`
}

// HostnameClaim records which tenant holds a group of hostnames that can
// conflict (see package claims for how the name is derived). The Ingress
// webhook writes it with a compare-and-swap on its resourceVersion before
// admitting an Ingress, so that two webhook replicas can never both give one
// hostname to two tenants. Tenants can neither read nor write it.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=hnc
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type HostnameClaim struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec lists the holds.
	// +optional
	Spec HostnameClaimSpec `json:"spec,omitempty"`
}

// HostnameClaimList is a list of HostnameClaims.
// +kubebuilder:object:root=true
type HostnameClaimList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the claims.
	Items []HostnameClaim `json:"items"`
}

// NamespaceReservation is one namespace admitted for a tenant that may not
// exist yet.
type NamespaceReservation struct {
	// name of the namespace; empty when the API server generates it, and
	// then generateName is set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name,omitempty"`
	// generateName is what a generated name starts with (the request's
	// generateName, cut where the API server cuts it).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	GenerateName string `json:"generateName,omitempty"`
	// admissionTime is when the namespace was admitted; the reservation
	// expires a while after it.
	// +required
	AdmissionTime metav1.Time `json:"admissionTime,omitempty"`
}

// NamespaceLedgerSpec holds a tenant's namespace reservations.
type NamespaceLedgerSpec struct {
	// reservations are namespaces admitted but possibly not yet stored.
	// The list is replaced whole, with the resourceVersion it was read at.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10000
	Reservations []NamespaceReservation `json:"reservations,omitempty"`
}

// NamespaceLedger holds the namespaces admitted for one tenant that may not
// be stored yet, named after the Tenant and owned by it. The namespace
// webhook counts them with the tenant's namespaces against namespaces.max
// and adds to them with a compare-and-swap on the resourceVersion, so that
// any number of webhook replicas give the same answer as one. Tenants can
// neither read nor write it.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=nsl
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type NamespaceLedger struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata; the name is the Tenant's.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec holds the reservations.
	// +optional
	Spec NamespaceLedgerSpec `json:"spec,omitempty"`
}

// NamespaceLedgerList is a list of NamespaceLedgers.
// +kubebuilder:object:root=true
type NamespaceLedgerList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the ledgers.
	Items []NamespaceLedger `json:"items"`
}

func init() {
	register(&HostnameClaim{}, &HostnameClaimList{}, &NamespaceLedger{}, &NamespaceLedgerList{})
}
