package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ContainerUsage is what one container of a workload asked for and used,
// over the samples the manager took of its pods.
type ContainerUsage struct {
	// namespace is the workload's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// workload is the pods' owner as Kind/name (a ReplicaSet's pods count
	// under their Deployment); Pod/name for a pod of its own.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	Workload string `json:"workload,omitempty"`
	// container is the container's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Container string `json:"container,omitempty"`
	// pods is how many of the workload's pods were sampled last.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Pods int32 `json:"pods,omitempty"`
	// samples is how many usage samples the figures rest on.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Samples int32 `json:"samples,omitempty"`
	// request is the container's current request (cpu, memory).
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=2
	Request corev1.ResourceList `json:"request,omitempty"`
	// p95 is the 95th percentile of the samples.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=2
	P95 corev1.ResourceList `json:"p95,omitempty"`
	// peak is the largest sample.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=2
	Peak corev1.ResourceList `json:"peak,omitempty"`
	// recommendation is the request Bulkhead recommends: p95 plus the
	// tenant's headroom, never below the peak; empty until there are
	// enough samples.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=2
	Recommendation corev1.ResourceList `json:"recommendation,omitempty"`
	// rightsizing is what the last resize pass did with these pods, when
	// the tenant's rightsizing.mode is Resize: which pods it resized, or
	// why it left them alone.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Rightsizing string `json:"rightsizing,omitempty"`
}

// Resize is one in-place resize Bulkhead made of a tenant's container.
type Resize struct {
	// time is when the API server accepted the resize.
	// +required
	Time metav1.Time `json:"time,omitempty,omitzero"`
	// namespace is the pod's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// pod is the pod's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Pod string `json:"pod,omitempty"`
	// container is the container's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Container string `json:"container,omitempty"`
	// from is the request before.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=2
	From corev1.ResourceList `json:"from,omitempty"`
	// to is the request after.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=2
	To corev1.ResourceList `json:"to,omitempty"`
}

// TenantUsageStatus is the tenant's measured usage.
type TenantUsageStatus struct {
	// observedSince is the time of the oldest sample the figures rest on.
	// The samples live in the leading manager's memory: a new leader
	// starts again, and resizes nothing until it has enough of its own.
	// +optional
	ObservedSince metav1.Time `json:"observedSince,omitempty,omitzero"`
	// lastSampleTime is when usage was last sampled.
	// +optional
	LastSampleTime metav1.Time `json:"lastSampleTime,omitempty,omitzero"`
	// requests is the sum of the sampled pods' requests (cpu, memory).
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=2
	Requests corev1.ResourceList `json:"requests,omitempty"`
	// usage is the sum of the sampled pods' latest usage.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=2
	Usage corev1.ResourceList `json:"usage,omitempty"`
	// recommended is the sum of the recommendations, per pod.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=2
	Recommended corev1.ResourceList `json:"recommended,omitempty"`
	// containers are the figures per workload container, the most
	// over-requested first; at most 256 (truncated says how many more).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Containers []ContainerUsage `json:"containers,omitempty"`
	// truncated is how many workload containers did not fit in containers.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Truncated int32 `json:"truncated,omitempty"`
	// resizes are the latest in-place resizes, newest first; at most 32.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Resizes []Resize `json:"resizes,omitempty"`
}

// TenantUsage is what a tenant's pods request against what they use, as
// the manager samples it from metrics.k8s.io, with a recommended request
// per workload container. The manager keeps one per Tenant, of the same
// name, and deletes it with the Tenant. It has no spec.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:printcolumn:name="CPU Requested",type=string,JSONPath=`.status.requests.cpu`
// +kubebuilder:printcolumn:name="CPU Used",type=string,JSONPath=`.status.usage.cpu`
// +kubebuilder:printcolumn:name="CPU Recommended",type=string,JSONPath=`.status.recommended.cpu`
// +kubebuilder:printcolumn:name="Memory Requested",type=string,JSONPath=`.status.requests.memory`
// +kubebuilder:printcolumn:name="Memory Used",type=string,JSONPath=`.status.usage.memory`
// +kubebuilder:printcolumn:name="Memory Recommended",type=string,JSONPath=`.status.recommended.memory`
// +kubebuilder:printcolumn:name="Since",type=date,JSONPath=`.status.observedSince`
type TenantUsage struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata; the name is the Tenant's.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// status is the measured usage.
	// +optional
	Status TenantUsageStatus `json:"status,omitempty,omitzero"`
}

// TenantUsageList is a list of TenantUsages.
// +kubebuilder:object:root=true
type TenantUsageList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the usages.
	Items []TenantUsage `json:"items"`
}

func init() {
	register(&TenantUsage{}, &TenantUsageList{})
}
