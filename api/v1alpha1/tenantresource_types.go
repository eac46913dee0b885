package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CopiedKind is the kind of object a TenantResource copies.
// +kubebuilder:validation:Enum=Secret;ConfigMap
type CopiedKind string

const (
	// CopiedSecret is a Secret: its data and type are copied.
	CopiedSecret CopiedKind = "Secret"
	// CopiedConfigMap is a ConfigMap: its data and binaryData are copied.
	CopiedConfigMap CopiedKind = "ConfigMap"
)

// SourceReference names the object a copy is made from.
type SourceReference struct {
	// kind is Secret or ConfigMap.
	// +required
	Kind CopiedKind `json:"kind,omitempty"`
	// namespace of the source.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// name of the source.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
}

// InlineConfigMap is the content of a ConfigMap written into the
// TenantResource itself.
// +kubebuilder:validation:XValidation:rule="has(self.data) || has(self.binaryData)",message="an inline ConfigMap needs data or binaryData"
type InlineConfigMap struct {
	// data is the ConfigMap's data.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	Data map[string]string `json:"data,omitempty"`
	// binaryData is the ConfigMap's binaryData.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	BinaryData map[string][]byte `json:"binaryData,omitempty"`
}

// InlineSecret is the content of a Secret written into the TenantResource
// itself. Anyone who can read TenantResources reads it: prefer a reference
// to a Secret for anything confidential.
type InlineSecret struct {
	// type is the Secret's type; Opaque when unset. A service account
	// token is refused: it would be a credential of the cluster, not data.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self != 'kubernetes.io/service-account-token'",message="a service account token Secret is never copied into tenants"
	Type string `json:"type,omitempty"`
	// data is the Secret's data.
	// +required
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=256
	Data map[string][]byte `json:"data,omitempty"`
}

// CopiedResource is one object copied into every selected namespace: from
// a source object, or from content written here.
// +kubebuilder:validation:XValidation:rule="[has(self.from), has(self.configMap), has(self.secret)].filter(x, x).size() == 1",message="exactly one of from, configMap or secret must be set"
// +kubebuilder:validation:XValidation:rule="has(self.from) || has(self.name)",message="an inline configMap or secret needs a name"
type CopiedResource struct {
	// name of the copy in each namespace. For a reference it defaults to
	// the source's name; an inline configMap or secret requires it.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`
	// from names the source object. It must carry the label
	// tenancy.bulkhead.dev/copy=source.
	// +optional
	From SourceReference `json:"from,omitzero"`
	// configMap is a ConfigMap's content, copied as it is written here.
	// +optional
	ConfigMap *InlineConfigMap `json:"configMap,omitempty"`
	// secret is a Secret's content, copied as it is written here.
	// +optional
	Secret InlineSecret `json:"secret,omitzero"`
}

// TenantResourceSpec says what to copy and where.
type TenantResourceSpec struct {
	// tenantSelector selects the Tenants, by their labels, into whose
	// namespaces the resources are copied. An empty selector selects
	// every Tenant.
	// +required
	TenantSelector metav1.LabelSelector `json:"tenantSelector,omitempty"`
	// namespaceSelector narrows the selected tenants' namespaces to those
	// whose labels it matches; every namespace of the tenant when unset.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	// resources are the objects copied into each selected namespace. Two
	// copies of one kind may not share a name.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.exists_one(b, (has(a.secret) || (has(a.from) && a.from.kind == 'Secret')) == (has(b.secret) || (has(b.from) && b.from.kind == 'Secret')) && (has(a.name) ? a.name : (has(a.from) ? a.from.name : '')) == (has(b.name) ? b.name : (has(b.from) ? b.from.name : ''))))",message="two resources of one kind would be copied under the same name"
	Resources []CopiedResource `json:"resources,omitempty"`
}

// CopyConflict is a name in a tenant namespace held by an object that
// Bulkhead did not copy for this TenantResource, so no copy is written there.
type CopyConflict struct {
	// kind is Secret or ConfigMap.
	// +required
	Kind CopiedKind `json:"kind,omitempty"`
	// namespace where the name is taken.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// name that is taken.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// heldBy says whose object holds the name: "tenant" for an object of
	// the namespace's own, or the TenantResource whose copy it is.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	HeldBy string `json:"heldBy,omitempty"`
}

// TenantResourceStatus is what Bulkhead last did for a TenantResource.
type TenantResourceStatus struct {
	// conditions hold Ready, whose reason says what stands in the way.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the generation the status describes.
	// +optional
	// +kubebuilder:validation:Minimum=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// tenants is how many Tenants the tenantSelector selects.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Tenants int32 `json:"tenants,omitempty"`
	// namespaces is how many namespaces of those tenants are selected.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Namespaces int32 `json:"namespaces,omitempty"`
	// copies is how many copies are in place, all namespaces together.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Copies int32 `json:"copies,omitempty"`
	// conflicts are the names taken by objects Bulkhead did not copy (the
	// first 32, sorted).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Conflicts []CopyConflict `json:"conflicts,omitempty"`
}

// TenantResource copies Secrets and ConfigMaps into every namespace of the
// Tenants it selects, and keeps the copies equal to their source: a
// cluster admin's way to hand every tenant a registry credential, a CA
// bundle or a shared configuration. Copies are Bulkhead's (tenants can read
// them, never change or delete them) and carry nothing of the source but
// its content.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tr
// +kubebuilder:printcolumn:name="Tenants",type=integer,JSONPath=`.status.tenants`
// +kubebuilder:printcolumn:name="Namespaces",type=integer,JSONPath=`.status.namespaces`
// +kubebuilder:printcolumn:name="Copies",type=integer,JSONPath=`.status.copies`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')",message="a TenantResource's name is a label value on its copies: at most 63 characters, lower case letters, digits, '-' and '.'"
type TenantResource struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what a cluster admin asks to copy, and where.
	// +required
	Spec TenantResourceSpec `json:"spec"`
	// status is what Bulkhead last did.
	// +optional
	Status TenantResourceStatus `json:"status,omitempty"`
}

// TenantResourceList is a list of TenantResources.
// +kubebuilder:object:root=true
type TenantResourceList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the TenantResources.
	Items []TenantResource `json:"items"`
}

func init() {
	register(&TenantResource{}, &TenantResourceList{})
}
