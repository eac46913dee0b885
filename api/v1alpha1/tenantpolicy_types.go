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
	// nodeSelector is merged into every pod's nodeSelector: the tenant's
	// nodes.selector and its default runtime class's scheduling.nodeSelector.
	// +required
	// +kubebuilder:validation:MaxProperties=128
	NodeSelector map[string]string `json:"nodeSelector"`
	// tolerations are added to every pod: the tenant's nodes.tolerations
	// and its default runtime class's scheduling.tolerations.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Tolerations []corev1.Toleration `json:"tolerations"`
	// allowedTolerations are Tolerations in canonical form
	// ("key|operator|value|effect|seconds"), and those of the allowed
	// runtime classes: the only ones a pod may carry besides tolerations of
	// node conditions.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=512
	AllowedTolerations []string `json:"allowedTolerations"`
	// runtimeClassDefault is set on pods that name no runtimeClassName.
	// +required
	// +kubebuilder:validation:MaxLength=253
	RuntimeClassDefault string `json:"runtimeClassDefault"`
	// runtimeClassOverhead is the default class's pod overhead, set with
	// it: the API server's RuntimeClass admission step runs before
	// Bulkhead's defaults and would not set it.
	// +required
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=64
	RuntimeClassOverhead corev1.ResourceList `json:"runtimeClassOverhead"`
	// runtimeClasses a pod may name; empty allows any.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MaxLength=253
	RuntimeClasses []string `json:"runtimeClasses"`
	// requireUserNamespace forces hostUsers: false.
	// +required
	RequireUserNamespace bool `json:"requireUserNamespace"`
	// enableServiceLinks is set on every pod.
	// +required
	EnableServiceLinks bool `json:"enableServiceLinks"`
	// enforceServiceLinks refuses pods whose enableServiceLinks differs.
	// +required
	EnforceServiceLinks bool `json:"enforceServiceLinks"`
	// automountServiceAccountToken is the default for pods and ServiceAccounts.
	// +required
	AutomountServiceAccountToken bool `json:"automountServiceAccountToken"`
	// registries are the image prefixes allowed; empty allows any.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=512
	Registries []string `json:"registries"`
	// pullPolicy is forced on every container when not empty.
	// +required
	// +kubebuilder:validation:MaxLength=16
	PullPolicy string `json:"pullPolicy"`
	// priorityClassDefault is set on pods that name no priority class.
	// +required
	// +kubebuilder:validation:MaxLength=253
	PriorityClassDefault string `json:"priorityClassDefault"`
	// priorityDefault is set with priorityClassDefault: the class's value.
	// +required
	PriorityDefault int32 `json:"priorityDefault"`
	// preemptionDefault is the default class's preemptionPolicy.
	// +required
	// +kubebuilder:validation:MaxLength=32
	PreemptionDefault string `json:"preemptionDefault"`
	// priorityClasses a pod may name; empty allows any.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MaxLength=253
	PriorityClasses []string `json:"priorityClasses"`
	// priorityClassGlobalDefault is the cluster's global default
	// PriorityClass, if any. The API server's Priority step fills it into
	// pods that name no class before any policy runs, so the policies treat
	// it as unset.
	// +required
	// +kubebuilder:validation:MaxLength=253
	PriorityClassGlobalDefault string `json:"priorityClassGlobalDefault"`
	// podAffinityScope is Tenant (pod affinity terms select only the
	// tenant's namespaces) or Cluster.
	// +required
	PodAffinityScope PodAffinityScope `json:"podAffinityScope"`
}

// NetworkRules are the effective Service and Ingress rules of a tenant.
type NetworkRules struct {
	// serviceTypes the tenant may create.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=32
	ServiceTypes []string `json:"serviceTypes"`
	// ingressClasses allowed; empty allows any.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	IngressClasses []string `json:"ingressClasses"`
	// hostnames are the patterns an Ingress host must match; empty allows any.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	Hostnames []string `json:"hostnames"`
	// gatewayParents are the shared Gateways routes may attach to, as
	// "<namespace>/<name>/<listener>", or "<namespace>/<name>/*" for every
	// listener.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=2048
	// +kubebuilder:validation:items:MaxLength=571
	GatewayParents []string `json:"gatewayParents"`
	// ownGateways lets the tenant create Gateways.
	// +required
	OwnGateways bool `json:"ownGateways"`
	// gatewayClasses are the GatewayClasses the tenant's own Gateways may
	// use; empty allows any.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	GatewayClasses []string `json:"gatewayClasses"`
	// isolation is the tenant's effective network.isolation. The tenant's
	// own NetworkPolicies may admit traffic only from peers it allows.
	// +required
	Isolation NetworkIsolation `json:"isolation"`
	// allowFromTenants are the tenants whose namespaces the tenant's
	// network.allowFrom lets in.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=40
	AllowFromTenants []string `json:"allowFromTenants"`
	// egressRestricted is true when Bulkhead renders an egress policy (no
	// internet, or CIDRs to deny). NetworkPolicies only ever add, so the
	// tenant's own egress rules must then stay inside what it allows.
	// +required
	EgressRestricted bool `json:"egressRestricted"`
	// allowInternet is the effective network.egress.allowInternet.
	// +required
	AllowInternet bool `json:"allowInternet"`
	// allowCIDRs is the effective network.egress.allowCIDRs.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MaxLength=43
	AllowCIDRs []string `json:"allowCIDRs"`
	// denyCIDRs is the effective network.egress.denyCIDRs, with the
	// metadata address in Hard.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MaxLength=43
	DenyCIDRs []string `json:"denyCIDRs"`
}

// StorageRules are the effective storage rules of a tenant.
type StorageRules struct {
	// classes allowed; empty allows any.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	Classes []string `json:"classes"`
}

// DeviceRules are the effective device (DRA) rules of a tenant.
type DeviceRules struct {
	// anyClass lets claims name any DeviceClass (Soft, with no classes
	// listed).
	// +required
	AnyClass bool `json:"anyClass"`
	// classes are the DeviceClasses claims may name.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	Classes []string `json:"classes"`
	// deniedExtendedResources are the extended resource names that
	// DeviceClasses the tenant may not use declare (extendedResourceName):
	// a pod requesting one would get a device of such a class.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=317
	DeniedExtendedResources []string `json:"deniedExtendedResources"`
}

// RBACRules restrict RoleBindings inside a tenant: in every profile they
// name only the tenant's identities; in Hard, only allowed ClusterRoles.
type RBACRules struct {
	// restricted limits the ClusterRoles a binding may reference (Hard).
	// +required
	Restricted bool `json:"restricted"`
	// subjects are the tenant's users and groups ("User:alice",
	// "Group:acme-devs") and service accounts ("ServiceAccount:ns:name"),
	// the only ones a binding may name besides the service accounts of
	// Namespaces.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=512
	Subjects []string `json:"subjects"`
	// namespaces are the tenant's namespaces: their service accounts may be bound.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MaxLength=63
	Namespaces []string `json:"namespaces"`
	// clusterRoles a RoleBinding may reference.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=253
	ClusterRoles []string `json:"clusterRoles"`
}

// TenantPolicySpec is the whole of what admission policies need to know
// about the tenant of a namespace.
type TenantPolicySpec struct {
	// tenant names the tenant, for denial messages.
	// +required
	// +kubebuilder:validation:MaxLength=40
	Tenant string `json:"tenant"`
	// isolation is the tenant's profile.
	// +required
	Isolation IsolationLevel `json:"isolation"`
	// protected is true once every protection of this namespace that
	// another controller writes (its NetworkPolicies) exists. Until then the
	// namespace admits no pods.
	// +required
	Protected bool `json:"protected"`
	// frozen is true while the tenant's state is Frozen: nothing new is
	// admitted in the namespace (see TenantFrozen).
	// +required
	Frozen bool `json:"frozen"`
	// frozenBy is who froze the tenant, for denial messages; empty when
	// not known.
	// +required
	// +kubebuilder:validation:MaxLength=512
	FrozenBy string `json:"frozenBy"`
	// pods are the pod rules.
	// +required
	Pods PodRules `json:"pods"`
	// network are the Service and Ingress rules.
	// +required
	Network NetworkRules `json:"network"`
	// storage are the storage rules.
	// +required
	Storage StorageRules `json:"storage"`
	// devices are the device (DRA) rules.
	// +required
	Devices DeviceRules `json:"devices"`
	// rbac are the RoleBinding rules.
	// +required
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
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the tenant's effective rules.
	// +required
	Spec TenantPolicySpec `json:"spec"`
}

// TenantPolicyList is a list of TenantPolicies.
// +kubebuilder:object:root=true
type TenantPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the TenantPolicies.
	Items []TenantPolicy `json:"items"`
}

func init() {
	register(&TenantPolicy{}, &TenantPolicyList{})
}
