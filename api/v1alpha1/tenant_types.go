package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IsolationLevel picks a coherent profile of defaults for a tenant.
// +kubebuilder:validation:Enum=Soft;Hard
type IsolationLevel string

const (
	// IsolationSoft suits trusted teams of one company: convenient defaults.
	IsolationSoft IsolationLevel = "Soft"
	// IsolationHard suits untrusted customers running arbitrary code.
	IsolationHard IsolationLevel = "Hard"
)

// SubjectKind is the kind of identity a tenant grants access to.
// +kubebuilder:validation:Enum=User;Group;ServiceAccount
type SubjectKind string

const (
	// SubjectUser is an authenticated user name.
	SubjectUser SubjectKind = "User"
	// SubjectGroup is an authenticated group.
	SubjectGroup SubjectKind = "Group"
	// SubjectServiceAccount is a ServiceAccount; it needs a namespace.
	SubjectServiceAccount SubjectKind = "ServiceAccount"
)

// Subject names one identity of a tenant.
// +kubebuilder:validation:XValidation:rule="self.kind != 'ServiceAccount' || (has(self.__namespace__) && size(self.__namespace__) > 0)",message="a ServiceAccount subject needs a namespace"
// +kubebuilder:validation:XValidation:rule="self.kind == 'ServiceAccount' || !has(self.__namespace__)",message="only ServiceAccount subjects take a namespace"
type Subject struct {
	// kind is User, Group or ServiceAccount.
	// +required
	Kind SubjectKind `json:"kind,omitempty"`
	// name of the user, group or service account.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name,omitempty"`
	// namespace of a ServiceAccount subject.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:MinLength=1
	Namespace string `json:"namespace,omitempty"`
}

// DeletionPolicy says what happens to a tenant's namespaces when the Tenant is deleted.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

const (
	// DeletionRetain keeps the namespaces and locks them: each is labelled
	// tenancy.bulkhead.dev/retained=<tenant> instead of the tenant label, held
	// at the restricted Pod Security level, cut off the network, stripped of
	// every RoleBinding that names a tenant identity, and admits no new pods,
	// until a cluster admin adopts it into another tenant (sets the tenant
	// label) or releases it (removes the retained label).
	DeletionRetain DeletionPolicy = "Retain"
	// DeletionDelete deletes the namespaces with the Tenant.
	DeletionDelete DeletionPolicy = "Delete"
)

// LabelValue is the value of a Kubernetes label: empty, or at most 63
// characters that begin and end with a letter or digit, with '-', '_' and
// '.' between. The schema checks it, so that a Tenant whose labels no
// namespace could carry is refused at its own field, not at every
// namespace stamped from it.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`
type LabelValue string

// NamespacesSpec governs the namespaces a tenant owns.
type NamespacesSpec struct {
	// max is how many namespaces the tenant may have.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Max *int32 `json:"max,omitempty"`
	// requirePrefix makes every namespace name start with "<tenant>-".
	// +optional
	RequirePrefix *bool `json:"requirePrefix,omitempty"`
	// labels are stamped on every tenant namespace and locked against tenant edits.
	// Keys Bulkhead decides are refused: its own domain (bulkhead.dev and
	// subdomains, such as the tenant label) and the Pod Security labels (set
	// from pods.securityLevel). Other reserved keys (kubernetes.io, k8s.io)
	// are allowed here: the Tenant is a cluster admin's, and tenants still
	// cannot change them.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !((k).lowerAscii().matches('^([^/]*[.])?(bulkhead[.]dev)/') || (k).lowerAscii().startsWith('pod-security.kubernetes.io/')))",message="keys in bulkhead.dev and the Pod Security labels are set by Bulkhead only (pods.securityLevel sets the Pod Security level)"
	Labels map[string]LabelValue `json:"labels,omitempty"`
	// annotations are stamped on every tenant namespace and locked against tenant edits.
	// Keys in Bulkhead's own domain (bulkhead.dev and subdomains) are refused.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !((k).lowerAscii().matches('^([^/]*[.])?(bulkhead[.]dev)/') || (k).lowerAscii().startsWith('pod-security.kubernetes.io/')))",message="keys in bulkhead.dev are set by Bulkhead only"
	Annotations map[string]string `json:"annotations,omitempty"`
	// deletionPolicy says what happens to the namespaces when the Tenant is
	// deleted: Retain keeps them locked (labelled
	// tenancy.bulkhead.dev/retained, restricted Pod Security, no network, no
	// tenant RoleBindings, no new pods) until a cluster admin adopts them into
	// another tenant or releases them; Delete deletes them.
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// Every map of quantities below is refused with a negative entry, at its
// field path. The rule reads the sign the schema's quantity pattern admits
// (a leading "-", or a negative JSON number) rather than calling quantity():
// the CRD's cost budget cannot afford parsing values whose length the schema
// does not bound, and a ResourceList's values cannot carry a maxLength. The
// maps need an explicit Type=object for controller-gen to accept their
// MaxProperties, which bounds the rule's cost.

// ResourceLimits is a set of hard limits.
type ResourceLimits struct {
	// hard is the set of limits, as in a ResourceQuota. Quantities are
	// never negative.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == int ? self[k] >= 0 : !self[k].startsWith('-'))",message="quantities must not be negative"
	Hard corev1.ResourceList `json:"hard,omitempty"`
}

// TenantLimits are limits summed over all of a tenant's namespaces.
type TenantLimits struct {
	// hard is the set of limits. Supported: pods, requests.cpu,
	// requests.memory, requests.ephemeral-storage, limits.cpu, limits.memory,
	// limits.ephemeral-storage, cpu, memory, persistentvolumeclaims,
	// requests.storage, and count/<resource>.<group> (count/<resource> for
	// the core group) for the number of objects of any namespaced kind,
	// custom resources included, such as count/configmaps or
	// count/widgets.example.com. count/pods is pods and
	// count/persistentvolumeclaims is persistentvolumeclaims. Quantities are
	// never negative.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == int ? self[k] >= 0 : !self[k].startsWith('-'))",message="quantities must not be negative"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['pods', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'cpu', 'memory', 'persistentvolumeclaims', 'requests.storage'] || size(k) <= 260 && k.matches('^count/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?([.][a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$'))",message="tenant-wide quota supports pods, requests.cpu, requests.memory, requests.ephemeral-storage, limits.cpu, limits.memory, limits.ephemeral-storage, cpu, memory, persistentvolumeclaims, requests.storage and count/<resource>.<group> (a lowercase plural resource, then its API group, such as count/widgets.example.com; count/configmaps for the core group)"
	Hard corev1.ResourceList `json:"hard,omitempty"`
}

// QuotaSpec sets quotas for the tenant as a whole and for each namespace.
type QuotaSpec struct {
	// tenant limits are summed over all the tenant's namespaces.
	// +optional
	Tenant *TenantLimits `json:"tenant,omitempty"`
	// namespace limits become a ResourceQuota in each tenant namespace.
	// +optional
	Namespace *ResourceLimits `json:"namespace,omitempty"`
}

// LimitsSpec sets per-container defaults and bounds (a LimitRange in each namespace).
type LimitsSpec struct {
	// defaultRequest is the request given to containers that set none.
	// Quantities are never negative.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == int ? self[k] >= 0 : !self[k].startsWith('-'))",message="quantities must not be negative"
	DefaultRequest corev1.ResourceList `json:"defaultRequest,omitempty"`
	// default is the limit given to containers that set none. Quantities
	// are never negative.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == int ? self[k] >= 0 : !self[k].startsWith('-'))",message="quantities must not be negative"
	Default corev1.ResourceList `json:"default,omitempty"`
	// max bounds every container's limits. Quantities are never negative.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == int ? self[k] >= 0 : !self[k].startsWith('-'))",message="quantities must not be negative"
	Max corev1.ResourceList `json:"max,omitempty"`
	// min bounds every container's requests from below. Quantities are never negative.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == int ? self[k] >= 0 : !self[k].startsWith('-'))",message="quantities must not be negative"
	Min corev1.ResourceList `json:"min,omitempty"`
}

// NetworkIsolation says which pods may reach a tenant's pods.
// +kubebuilder:validation:Enum=Tenant;Namespace;Off
type NetworkIsolation string

const (
	// NetworkTenant lets the tenant's namespaces reach each other and nobody else.
	NetworkTenant NetworkIsolation = "Tenant"
	// NetworkNamespace lets only pods of the same namespace reach each other.
	NetworkNamespace NetworkIsolation = "Namespace"
	// NetworkOff renders no NetworkPolicies.
	NetworkOff NetworkIsolation = "Off"
)

// NetworkPeer is one entry of an ingress allowlist: exactly one of tenant or namespaceSelector.
// +kubebuilder:validation:XValidation:rule="has(self.tenant) != has(self.namespaceSelector)",message="set exactly one of tenant or namespaceSelector"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector) || !has(self.namespaceSelector.matchLabels) || !('tenancy.bulkhead.dev/tenant' in self.namespaceSelector.matchLabels)",message="a namespaceSelector selects only namespaces outside every tenant and may not match tenancy.bulkhead.dev/tenant; to let a tenant in, use tenant: <name>"
type NetworkPeer struct {
	// tenant names another tenant whose namespaces may connect.
	// +optional
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MinLength=1
	Tenant string `json:"tenant,omitempty"`
	// namespaceSelector selects non-tenant namespaces (an ingress controller,
	// monitoring). Bulkhead adds "tenancy.bulkhead.dev/tenant DoesNotExist"
	// to it, so no tenant namespace ever matches it, whatever labels a
	// tenant puts on its namespaces.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
}

// EgressSpec governs traffic leaving the tenant's pods.
type EgressSpec struct {
	// allowInternet allows traffic to any address outside denyCIDRs.
	// +optional
	AllowInternet *bool `json:"allowInternet,omitempty"`
	// allowCIDRs are reachable even when the internet is not.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(c, isCIDR(c))",message="every entry must be a CIDR such as 10.0.0.0/8"
	// +listType=set
	AllowCIDRs []string `json:"allowCIDRs,omitempty"`
	// denyCIDRs are never reachable. In Hard isolation 169.254.169.254/32 is always denied.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(c, isCIDR(c))",message="every entry must be a CIDR such as 10.0.0.0/8"
	// +listType=set
	DenyCIDRs []string `json:"denyCIDRs,omitempty"`
}

// NetworkSpec governs the tenant's NetworkPolicies.
type NetworkSpec struct {
	// isolation is Tenant, Namespace or Off.
	// +optional
	Isolation NetworkIsolation `json:"isolation,omitempty"`
	// allowFrom lets other tenants or selected namespaces connect to this tenant's pods.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	AllowFrom []NetworkPeer `json:"allowFrom,omitempty"`
	// egress governs traffic leaving the tenant's pods.
	// +optional
	Egress *EgressSpec `json:"egress,omitempty"`
}

// NodesSpec pins the tenant's pods to a dedicated node pool.
type NodesSpec struct {
	// selector is merged into every pod's nodeSelector.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Selector map[string]string `json:"selector,omitempty"`
	// tolerations are exactly the tolerations the tenant's pods get.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}

// SecurityLevel is a Pod Security Standard.
// +kubebuilder:validation:Enum=baseline;restricted
type SecurityLevel string

const (
	// SecurityBaseline forbids known privilege escalations.
	SecurityBaseline SecurityLevel = "baseline"
	// SecurityRestricted adds hardening best practices.
	SecurityRestricted SecurityLevel = "restricted"
)

// UserNamespacesPolicy says whether pods must run in a user namespace.
// +kubebuilder:validation:Enum=Required;Allowed
type UserNamespacesPolicy string

const (
	// UserNamespacesRequired forces hostUsers: false.
	UserNamespacesRequired UserNamespacesPolicy = "Required"
	// UserNamespacesAllowed lets the pod choose.
	UserNamespacesAllowed UserNamespacesPolicy = "Allowed"
)

// ClassPolicy is a default and an allowlist of class names.
type ClassPolicy struct {
	// default is set on pods that name none.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:MinLength=1
	Default string `json:"default,omitempty"`
	// allowed lists the names a pod may use; empty allows any.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=253
	Allowed []string `json:"allowed,omitempty"`
}

// ImagesSpec governs container images.
type ImagesSpec struct {
	// registries lists allowed registry prefixes (such as "ghcr.io/acme/"); empty allows any.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=512
	Registries []string `json:"registries,omitempty"`
	// pullPolicy is forced on every container when set.
	// +optional
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	PullPolicy corev1.PullPolicy `json:"pullPolicy,omitempty"`
}

// ServiceLinksPolicy says whether pods get every Service of their namespace
// as environment variables (a pod's enableServiceLinks).
// +kubebuilder:validation:Enum=Enabled;Disabled;Forbidden
type ServiceLinksPolicy string

const (
	// ServiceLinksEnabled leaves enableServiceLinks as the pod has it: true
	// unless the pod says false, as Kubernetes does by default.
	ServiceLinksEnabled ServiceLinksPolicy = "Enabled"
	// ServiceLinksDisabled sets enableServiceLinks to false on every new
	// pod. A pod cannot keep true: the API server fills in true, before any
	// admission step, for a pod that leaves the field unset, so a pod that
	// asked for true cannot be told from one that said nothing. Pods find
	// Services through DNS instead.
	ServiceLinksDisabled ServiceLinksPolicy = "Disabled"
	// ServiceLinksForbidden sets enableServiceLinks to false as Disabled
	// does, and also refuses a pod that still carries true when it is
	// validated (should the default not have been applied): the environment
	// would list every Service of the namespace, and with many Services can
	// stop containers starting.
	ServiceLinksForbidden ServiceLinksPolicy = "Forbidden"
)

// PodAffinityScope says which namespaces a pod's affinity terms may select.
// +kubebuilder:validation:Enum=Tenant;Cluster
type PodAffinityScope string

const (
	// PodAffinityTenant lets pod affinity and anti-affinity terms select only
	// the tenant's own namespaces: a term reaching further would let one
	// tenant steer where another tenant's pods can run.
	PodAffinityTenant PodAffinityScope = "Tenant"
	// PodAffinityCluster lets the terms select any namespace.
	PodAffinityCluster PodAffinityScope = "Cluster"
)

// PodsSpec governs the tenant's pods.
type PodsSpec struct {
	// securityLevel is the Pod Security Standard enforced in tenant namespaces.
	// +optional
	SecurityLevel SecurityLevel `json:"securityLevel,omitempty"`
	// runtimeClass defaults and restricts runtimeClassName.
	// +optional
	RuntimeClass *ClassPolicy `json:"runtimeClass,omitempty"`
	// userNamespaces says whether hostUsers: false is forced.
	// +optional
	UserNamespaces UserNamespacesPolicy `json:"userNamespaces,omitempty"`
	// serviceLinks says what enableServiceLinks new pods get. Enabled leaves
	// the pod's own value (true unless it says false). Disabled and
	// Forbidden set false on every new pod, whatever it asked (the API
	// server has already turned unset into true, so a pod's own choice
	// cannot be told from the default), and Forbidden also refuses a pod
	// that still carries true when it is validated.
	// +optional
	ServiceLinks ServiceLinksPolicy `json:"serviceLinks,omitempty"`
	// automountServiceAccountToken is the default for automountServiceAccountToken.
	// +optional
	AutomountServiceAccountToken *bool `json:"automountServiceAccountToken,omitempty"`
	// images governs container images.
	// +optional
	Images *ImagesSpec `json:"images,omitempty"`
	// priorityClasses defaults and restricts priorityClassName.
	// +optional
	PriorityClasses *ClassPolicy `json:"priorityClasses,omitempty"`
	// podAffinityScope is Tenant (the default: pod affinity and
	// anti-affinity terms may select only the tenant's own namespaces) or
	// Cluster (any namespace; only for tenants trusted not to steer other
	// tenants' scheduling).
	// +optional
	PodAffinityScope PodAffinityScope `json:"podAffinityScope,omitempty"`
}

// ServiceType is a Service type a tenant may use.
// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer;ExternalName
type ServiceType string

// The Service types, as in a Service's spec.type.
const (
	// ServiceTypeClusterIP is reachable inside the cluster only.
	ServiceTypeClusterIP ServiceType = "ClusterIP"
	// ServiceTypeNodePort opens a port on every node.
	ServiceTypeNodePort ServiceType = "NodePort"
	// ServiceTypeLoadBalancer asks the cloud for an external load balancer.
	ServiceTypeLoadBalancer ServiceType = "LoadBalancer"
	// ServiceTypeExternalName is a DNS alias to a name outside the cluster.
	ServiceTypeExternalName ServiceType = "ExternalName"
)

// ServicesSpec governs the tenant's Services.
type ServicesSpec struct {
	// allowedTypes lists the Service types the tenant may create. externalIPs are always refused.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4
	AllowedTypes []ServiceType `json:"allowedTypes,omitempty"`
}

// IngressSpec governs the tenant's Ingresses.
type IngressSpec struct {
	// classes lists the allowed ingress classes; empty allows any.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=253
	Classes []string `json:"classes,omitempty"`
	// hostnames lists patterns ("*.acme.example.com") the tenant may claim,
	// with Ingresses and with Gateway API routes and listeners alike.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=253
	Hostnames []string `json:"hostnames,omitempty"`
}

// GatewayParent names a shared Gateway, and optionally some of its
// listeners, that a tenant's routes and ListenerSets may attach to.
type GatewayParent struct {
	// namespace of the Gateway.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// name of the Gateway.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// sectionNames are the listeners a route may attach to, by name; a
	// route must then name one in its parentRef's sectionName. Empty
	// allows every listener of the Gateway.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=253
	SectionNames []string `json:"sectionNames,omitempty"`
}

// GatewayOwnership says whether a tenant may create Gateways of its own.
// +kubebuilder:validation:Enum=Allowed;Forbidden
type GatewayOwnership string

const (
	// GatewaysAllowed lets the tenant create Gateways in its namespaces.
	GatewaysAllowed GatewayOwnership = "Allowed"
	// GatewaysForbidden refuses them: the tenant's routes attach only to
	// the shared Gateways listed in parents.
	GatewaysForbidden GatewayOwnership = "Forbidden"
)

// GatewaySpec governs the tenant's Gateway API objects. Route and listener
// hostnames are governed by ingress.hostnames, the one list for Ingresses
// and routes alike.
type GatewaySpec struct {
	// parents are the shared Gateways (outside the tenant's namespaces)
	// that the tenant's HTTPRoutes, GRPCRoutes, TLSRoutes, TCPRoutes,
	// UDPRoutes and ListenerSets may attach to. A tenant's own Gateways
	// need no entry.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	Parents []GatewayParent `json:"parents,omitempty"`
	// ownGateways is Allowed (the Soft default) or Forbidden (the Hard
	// default, and the only value Hard takes): whether the tenant may
	// create Gateways in its namespaces.
	// +optional
	OwnGateways GatewayOwnership `json:"ownGateways,omitempty"`
	// classes lists the GatewayClasses the tenant's own Gateways may name
	// in gatewayClassName; empty allows any. A class decides what a Gateway
	// gets (a public load balancer, an address on the platform's network),
	// so a platform with classes of its own lists the tenants' here.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=253
	Classes []string `json:"classes,omitempty"`
}

// StorageSpec governs the tenant's storage.
type StorageSpec struct {
	// classes lists the allowed StorageClasses; empty allows any.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=253
	Classes []string `json:"classes,omitempty"`
}

// DevicesSpec governs the devices a tenant may claim through dynamic
// resource allocation (DRA).
type DevicesSpec struct {
	// classes lists the DeviceClasses the tenant's ResourceClaims and
	// ResourceClaimTemplates may name (in every request, and in each
	// firstAvailable alternative), and whose extended resources its pods
	// may request. Empty allows any class in Soft isolation and none in
	// Hard.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=253
	Classes []string `json:"classes,omitempty"`
}

// APIFairnessSpec places the tenant in API Priority and Fairness: every
// request of its owners, members, viewers and the service accounts of its
// namespaces is one flow, so that one tenant flooding the API server waits
// in its own queues while the others are served.
type APIFairnessSpec struct {
	// shares chooses the tenant's priority level. Unset (the default of
	// both profiles): the tenant is one flow of the shared bulkhead-tenants
	// level, whose capacity fair queuing splits evenly among the tenants
	// using it. A positive value: a priority level of the tenant's own
	// with that many nominal shares, capacity guaranteed to it and never
	// lent; each such level takes its shares from every other level of
	// the cluster (an API server's concurrency is divided in proportion
	// to all levels' shares), so the manager caps how many exist
	// (--max-dedicated-priority-levels), and tenants past the cap, by age,
	// stay in the shared level. 0: off; the tenant's requests are
	// classified by the API server's own FlowSchemas, as if Bulkhead were
	// not there.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Shares *int32 `json:"shares,omitempty"`
}

// DNSSpec sets the tenant's share of the tenant-scoped cluster DNS
// (bulkhead-dns). Each DNS server keeps one token bucket per tenant, filled
// at queriesPerSecond up to burst; a query that finds it empty is answered
// REFUSED, so one tenant flooding the server cannot make lookups fail for
// the others. The figures are per bulkhead-dns replica.
type DNSSpec struct {
	// queriesPerSecond is how fast the tenant's bucket refills at each
	// bulkhead-dns replica: the tenant's sustained query rate, all of its
	// pods together. Default: 1000 (Soft), 100 (Hard).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	QueriesPerSecond int32 `json:"queriesPerSecond,omitempty"`
	// burst is how many queries the bucket holds: how far above its rate
	// the tenant may go for a moment. Default: twice queriesPerSecond.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	Burst int32 `json:"burst,omitempty"`
}

// RightsizingMode says what Bulkhead does with a tenant's usage.
// +kubebuilder:validation:Enum=Recommend;Resize
type RightsizingMode string

const (
	// RightsizingRecommend only reports: TenantUsage and kubectl bulkhead
	// usage show each workload's requests, usage and a recommendation.
	RightsizingRecommend RightsizingMode = "Recommend"
	// RightsizingResize also resizes running pods in place (the pods'
	// resize subresource) to the recommendation, within the namespace's
	// quota and LimitRange, never below the observed peak plus headroom
	// and never changing a pod's QoS class. The workload's next rollout
	// undoes it: fix the template to keep it.
	RightsizingResize RightsizingMode = "Resize"
)

// RightsizingSpec says how Bulkhead sizes the tenant's pods from their
// measured usage (metrics.k8s.io).
type RightsizingSpec struct {
	// mode is Recommend (the default: report only) or Resize (also resize
	// running pods in place).
	// +optional
	// +default="Recommend"
	Mode RightsizingMode `json:"mode,omitempty"`
	// headroomPercent is how far above the observed usage a recommendation
	// sits: the request recommended is the 95th percentile of usage plus
	// this much, and a resize never goes below the observed peak plus this
	// much. Default 20.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=400
	HeadroomPercent *int32 `json:"headroomPercent,omitempty"`
}

// TenantState says whether a tenant may start anything new.
// +kubebuilder:validation:Enum=Active;Frozen
type TenantState string

const (
	// TenantActive is the normal state.
	TenantActive TenantState = "Active"
	// TenantFrozen stops a tenant without deleting it: its namespaces admit
	// no new pods, workloads, Services, Ingresses, Gateway API routes or
	// claims (persistent volume and device), no scale-ups and no ephemeral
	// containers, and its owners create no namespaces. What runs keeps
	// running; deletes and scale-downs still work.
	TenantFrozen TenantState = "Frozen"
)

// TenantSpec is what a cluster admin asks of a tenant. Unset fields take the
// defaults of the isolation profile.
// +kubebuilder:validation:XValidation:rule="!(has(self.isolation) && self.isolation == 'Hard' && has(self.gateway) && has(self.gateway.ownGateways) && self.gateway.ownGateways == 'Allowed')",message="a Hard tenant never owns Gateways: gateway.ownGateways must be Forbidden or unset; list shared Gateways in gateway.parents",fieldPath=".gateway.ownGateways"
type TenantSpec struct {
	// isolation picks the profile of defaults: Soft for trusted teams, Hard for untrusted code.
	// +optional
	// +default="Soft"
	Isolation IsolationLevel `json:"isolation,omitempty"`
	// state is Active, or Frozen to stop the tenant starting anything new
	// without deleting it (see TenantFrozen). The freeze is enforced by
	// the admission policies, so it holds with Bulkhead down; the Frozen
	// condition says who froze the tenant.
	// +optional
	// +default="Active"
	State TenantState `json:"state,omitempty"`
	// owners create and delete the tenant's namespaces and manage RBAC inside them.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=128
	// +required
	// +listType=atomic
	Owners []Subject `json:"owners,omitempty"`
	// members deploy workloads in the tenant's namespaces.
	// +optional
	// +kubebuilder:validation:MaxItems=128
	// +listType=atomic
	Members []Subject `json:"members,omitempty"`
	// viewers read the tenant's namespaces.
	// +optional
	// +kubebuilder:validation:MaxItems=128
	// +listType=atomic
	Viewers []Subject `json:"viewers,omitempty"`
	// namespaces governs the tenant's namespaces.
	// +optional
	Namespaces NamespacesSpec `json:"namespaces,omitempty"`
	// quota sets tenant-wide and per-namespace quotas.
	// +optional
	Quota QuotaSpec `json:"quota,omitempty"`
	// limits sets per-container defaults and bounds.
	// +optional
	Limits *LimitsSpec `json:"limits,omitempty"`
	// network governs the tenant's NetworkPolicies.
	// +optional
	Network NetworkSpec `json:"network,omitempty"`
	// nodes pins the tenant's pods to a dedicated node pool.
	// +optional
	Nodes *NodesSpec `json:"nodes,omitempty"`
	// pods governs the tenant's pods.
	// +optional
	Pods PodsSpec `json:"pods,omitempty"`
	// services governs the tenant's Services.
	// +optional
	Services ServicesSpec `json:"services,omitempty"`
	// ingress governs the tenant's Ingresses.
	// +optional
	Ingress IngressSpec `json:"ingress,omitempty"`
	// gateway governs the tenant's Gateway API objects.
	// +optional
	Gateway GatewaySpec `json:"gateway,omitempty"`
	// storage governs the tenant's storage.
	// +optional
	Storage StorageSpec `json:"storage,omitempty"`
	// devices governs the devices the tenant may claim (DRA).
	// +optional
	Devices DevicesSpec `json:"devices,omitempty"`
	// apiFairness gives the tenant its own flow in API Priority and Fairness.
	// +optional
	APIFairness APIFairnessSpec `json:"apiFairness,omitempty"`
	// dns sets the tenant's query rate at the tenant-scoped cluster DNS.
	// +optional
	DNS DNSSpec `json:"dns,omitempty"`
	// rightsizing says whether Bulkhead only recommends requests from the
	// tenant's measured usage (the default) or also resizes its running
	// pods in place.
	// +optional
	Rightsizing RightsizingSpec `json:"rightsizing,omitempty"`
}

// TenantStatus is what Bulkhead observed of a tenant. It holds figures that
// change when the tenant does, not at every admission: the live account of
// tenant-wide quota is the TenantQuotaLedger of the same name.
type TenantStatus struct {
	// conditions are Ready and one per concern.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the generation the Ready condition describes.
	// +optional
	// +kubebuilder:validation:Minimum=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// namespaces are the tenant's namespaces, sorted.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MaxLength=63
	Namespaces []string `json:"namespaces,omitempty"`
	// namespaceCount is len(namespaces), for printing.
	// +optional
	// +kubebuilder:validation:Minimum=0
	NamespaceCount int32 `json:"namespaceCount,omitempty"`
	// namespaceMax is the effective namespaces.max (the profile default when
	// the spec leaves it unset), for printing beside the count.
	// +optional
	// +kubebuilder:validation:Minimum=0
	NamespaceMax int32 `json:"namespaceMax,omitempty"`
	// usage is the tenant's use of quota.tenant.hard as of the last
	// recount: what its namespaces held then, plus the charges not yet
	// counted. The recount writes it only when it changes; admissions
	// between recounts are charged to the TenantQuotaLedger, which holds
	// the live figure. Never negative.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == int ? self[k] >= 0 : !self[k].startsWith('-'))",message="quantities must not be negative"
	Usage corev1.ResourceList `json:"usage,omitempty"`
}

// Tenant is a group of namespaces, identities and limits that Bulkhead isolates
// from every other tenant and from the cluster.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tn
// +kubebuilder:printcolumn:name="Isolation",type=string,JSONPath=`.spec.isolation`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.spec.state`
// +kubebuilder:printcolumn:name="Namespaces",type=integer,JSONPath=`.status.namespaceCount`
// +kubebuilder:printcolumn:name="Max",type=integer,JSONPath=`.status.namespaceMax`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 40 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="tenant name must be a DNS label of at most 40 characters"
type Tenant struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata; the name is the tenant's.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what a cluster admin asks of the tenant.
	// +required
	Spec TenantSpec `json:"spec"`
	// status is what Bulkhead observed of the tenant.
	// +optional
	Status TenantStatus `json:"status,omitempty"`
}

// TenantList is a list of Tenants.
// +kubebuilder:object:root=true
type TenantList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the Tenants.
	Items []Tenant `json:"items"`
}

func init() {
	register(&Tenant{}, &TenantList{})
}
