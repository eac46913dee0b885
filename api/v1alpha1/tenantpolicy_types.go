package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TenantPolicyName is the name of the one TenantPolicy in each tenant namespace.
const TenantPolicyName = "bulkhead"

// PodRules are the effective pod rules of a tenant, flattened for CEL: every
// field is always present, so that policies never test for presence.
type PodRules struct {
	// NodeSelector is merged into every pod's nodeSelector: the tenant's
	// nodes.selector and its default runtime class's scheduling.nodeSelector.
	NodeSelector map[string]string `json:"nodeSelector"`
	// Tolerations are added to every pod: the tenant's nodes.tolerations
	// and its default runtime class's scheduling.tolerations.
	Tolerations []corev1.Toleration `json:"tolerations"`
	// AllowedTolerations are Tolerations in canonical form
	// ("key|operator|value|effect|seconds"), and those of the allowed
	// runtime classes: the only ones a pod may carry besides tolerations of
	// node conditions.
	AllowedTolerations []string `json:"allowedTolerations"`
	// RuntimeClassDefault is set on pods that name no runtimeClassName.
	RuntimeClassDefault string `json:"runtimeClassDefault"`
	// RuntimeClassOverhead is the default class's pod overhead, set with
	// it: the API server's RuntimeClass admission step runs before
	// Bulkhead's defaults and would not set it.
	RuntimeClassOverhead corev1.ResourceList `json:"runtimeClassOverhead"`
	// RuntimeClasses a pod may name; empty allows any.
	RuntimeClasses []string `json:"runtimeClasses"`
	// RequireUserNamespace forces hostUsers: false.
	RequireUserNamespace bool `json:"requireUserNamespace"`
	// EnableServiceLinks is set on every pod.
	EnableServiceLinks bool `json:"enableServiceLinks"`
	// EnforceServiceLinks refuses pods whose enableServiceLinks differs.
	EnforceServiceLinks bool `json:"enforceServiceLinks"`
	// AutomountServiceAccountToken is the default for pods and ServiceAccounts.
	AutomountServiceAccountToken bool `json:"automountServiceAccountToken"`
	// Registries are the image prefixes allowed; empty allows any.
	Registries []string `json:"registries"`
	// PullPolicy, when not empty, is forced on every container.
	PullPolicy string `json:"pullPolicy"`
	// PriorityClassDefault and PriorityDefault are set on pods that name no
	// priority class; PriorityDefault is the class's value.
	PriorityClassDefault string `json:"priorityClassDefault"`
	PriorityDefault      int32  `json:"priorityDefault"`
	// PreemptionDefault is the default class's preemptionPolicy.
	PreemptionDefault string `json:"preemptionDefault"`
	// PriorityClasses a pod may name; empty allows any.
	PriorityClasses []string `json:"priorityClasses"`
	// PriorityClassGlobalDefault is the cluster's global default
	// PriorityClass, if any. The API server's Priority step fills it into
	// pods that name no class before any policy runs, so the policies treat
	// it as unset.
	PriorityClassGlobalDefault string `json:"priorityClassGlobalDefault"`
	// PodAffinityScope is Tenant (pod affinity terms select only the
	// tenant's namespaces) or Cluster.
	PodAffinityScope PodAffinityScope `json:"podAffinityScope"`
}

// NetworkRules are the effective Service and Ingress rules of a tenant.
type NetworkRules struct {
	// ServiceTypes the tenant may create.
	ServiceTypes []string `json:"serviceTypes"`
	// IngressClasses allowed; empty allows any.
	IngressClasses []string `json:"ingressClasses"`
	// Hostnames are the patterns an Ingress host must match; empty allows any.
	Hostnames []string `json:"hostnames"`
	// Isolation is the tenant's effective network.isolation. The tenant's
	// own NetworkPolicies may admit traffic only from peers it allows.
	Isolation NetworkIsolation `json:"isolation"`
	// AllowFromTenants are the tenants whose namespaces the tenant's
	// network.allowFrom lets in.
	AllowFromTenants []string `json:"allowFromTenants"`
	// EgressRestricted is true when Bulkhead renders an egress policy (no
	// internet, or CIDRs to deny). NetworkPolicies only ever add, so the
	// tenant's own egress rules must then stay inside what it allows.
	EgressRestricted bool `json:"egressRestricted"`
	// AllowInternet, AllowCIDRs and DenyCIDRs are the effective
	// network.egress; DenyCIDRs include the metadata address in Hard.
	AllowInternet bool     `json:"allowInternet"`
	AllowCIDRs    []string `json:"allowCIDRs"`
	DenyCIDRs     []string `json:"denyCIDRs"`
}

// StorageRules are the effective storage rules of a tenant.
type StorageRules struct {
	// Classes allowed; empty allows any.
	Classes []string `json:"classes"`
}

// RBACRules restrict RoleBindings inside a tenant: in every profile they
// name only the tenant's identities; in Hard, only allowed ClusterRoles.
type RBACRules struct {
	// Restricted limits the ClusterRoles a binding may reference (Hard).
	Restricted bool `json:"restricted"`
	// Subjects are the tenant's users and groups ("User:alice",
	// "Group:acme-devs") and service accounts ("ServiceAccount:ns:name"),
	// the only ones a binding may name besides the service accounts of
	// Namespaces.
	Subjects []string `json:"subjects"`
	// Namespaces are the tenant's namespaces: their service accounts may be bound.
	Namespaces []string `json:"namespaces"`
	// ClusterRoles a RoleBinding may reference.
	ClusterRoles []string `json:"clusterRoles"`
}

// TenantPolicySpec is the whole of what admission policies need to know
// about the tenant of a namespace.
type TenantPolicySpec struct {
	// Tenant names the tenant, for denial messages.
	Tenant string `json:"tenant"`
	// Isolation is the tenant's profile.
	Isolation IsolationLevel `json:"isolation"`
	// Protected is true once every protection of this namespace that
	// another controller writes (its NetworkPolicies) exists. Until then the
	// namespace admits no pods.
	Protected bool `json:"protected"`
	// Pods are the pod rules.
	Pods PodRules `json:"pods"`
	// Network are the Service and Ingress rules.
	Network NetworkRules `json:"network"`
	// Storage are the storage rules.
	Storage StorageRules `json:"storage"`
	// RBAC are the RoleBinding rules.
	RBAC RBACRules `json:"rbac"`
}

// TenantPolicy holds the admission parameters of one tenant namespace.
// Bulkhead writes one, named "bulkhead", into each tenant namespace from the
// Tenant; the admission policies read it as their parameter. Tenants may read
// it but never write it, and a tenant namespace without one admits no
// workloads.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,shortName=tpol
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenant`
// +kubebuilder:printcolumn:name="Isolation",type=string,JSONPath=`.spec.isolation`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TenantPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TenantPolicySpec `json:"spec"`
}

// TenantPolicyList is a list of TenantPolicies.
// +kubebuilder:object:root=true
type TenantPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TenantPolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TenantPolicy{}, &TenantPolicyList{})
}
