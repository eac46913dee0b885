package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// MetadataIP is the cloud metadata endpoint, always denied to Hard tenants:
// it hands out node credentials on most clouds.
const MetadataIP = "169.254.169.254/32"

// Effective returns the Tenant's spec with every unset field taken from its
// isolation profile (Soft or Hard, see DESIGN.md). Fields the admin set are
// kept as they are, so a Hard tenant can still loosen one rule explicitly.
func Effective(t *tenancyv1alpha1.Tenant, s Settings) tenancyv1alpha1.TenantSpec {
	spec := *t.Spec.DeepCopy()
	hard := spec.Isolation == tenancyv1alpha1.IsolationHard
	if spec.Isolation == "" {
		spec.Isolation = tenancyv1alpha1.IsolationSoft
	}

	ns := &spec.Namespaces
	if ns.Max == nil {
		ns.Max = ptr.To[int32](10)
	}
	if ns.RequirePrefix == nil {
		ns.RequirePrefix = ptr.To(true)
	}
	if ns.DeletionPolicy == "" {
		ns.DeletionPolicy = tenancyv1alpha1.DeletionRetain
	}

	if hard && spec.Quota.Namespace == nil {
		spec.Quota.Namespace = &tenancyv1alpha1.ResourceLimits{Hard: hardNamespaceQuota()}
	}
	if spec.Limits == nil {
		spec.Limits = defaultLimits(hard)
	}

	net := &spec.Network
	if net.Isolation == "" {
		net.Isolation = tenancyv1alpha1.NetworkTenant
		if hard {
			net.Isolation = tenancyv1alpha1.NetworkNamespace
		}
	}
	if net.Egress == nil {
		net.Egress = &tenancyv1alpha1.EgressSpec{}
	}
	if net.Egress.AllowInternet == nil {
		net.Egress.AllowInternet = ptr.To(!hard)
	}
	if hard && !contains(net.Egress.DenyCIDRs, MetadataIP) {
		net.Egress.DenyCIDRs = append(net.Egress.DenyCIDRs, MetadataIP)
	}

	pods := &spec.Pods
	if pods.SecurityLevel == "" {
		pods.SecurityLevel = tenancyv1alpha1.SecurityBaseline
		if hard {
			pods.SecurityLevel = tenancyv1alpha1.SecurityRestricted
		}
	}
	if pods.UserNamespaces == "" {
		pods.UserNamespaces = tenancyv1alpha1.UserNamespacesAllowed
		if hard {
			pods.UserNamespaces = tenancyv1alpha1.UserNamespacesRequired
		}
	}
	if pods.PodAffinityScope == "" {
		pods.PodAffinityScope = tenancyv1alpha1.PodAffinityTenant
	}
	if pods.ServiceLinks == "" {
		pods.ServiceLinks = tenancyv1alpha1.ServiceLinksDisabled
		if hard {
			pods.ServiceLinks = tenancyv1alpha1.ServiceLinksForbidden
		}
	}
	if pods.AutomountServiceAccountToken == nil {
		pods.AutomountServiceAccountToken = ptr.To(!hard)
	}
	if hard {
		if pods.RuntimeClass == nil && s.SandboxRuntimeClass != "" {
			pods.RuntimeClass = &tenancyv1alpha1.ClassPolicy{
				Default: s.SandboxRuntimeClass,
				Allowed: []string{s.SandboxRuntimeClass},
			}
		}
		if pods.Images == nil {
			pods.Images = &tenancyv1alpha1.ImagesSpec{}
		}
		if pods.Images.PullPolicy == "" {
			pods.Images.PullPolicy = corev1.PullAlways
		}
	}

	if len(spec.Services.AllowedTypes) == 0 {
		spec.Services.AllowedTypes = []tenancyv1alpha1.ServiceType{tenancyv1alpha1.ServiceTypeClusterIP, tenancyv1alpha1.ServiceTypeLoadBalancer}
		if hard {
			spec.Services.AllowedTypes = []tenancyv1alpha1.ServiceType{tenancyv1alpha1.ServiceTypeClusterIP}
		}
	}
	// apiFairness gets no default in either profile: every tenant shares
	// one priority level unless an admin gives it shares explicitly.

	qps, burst := DNSLimits(&spec)
	spec.DNS = tenancyv1alpha1.DNSSpec{QueriesPerSecond: qps, Burst: burst}
	return spec
}

// The DNS profile: Soft allows what a busy team's services ask of cluster
// DNS; Hard a tenth of it.
const (
	SoftDNSQueriesPerSecond = 1000
	HardDNSQueriesPerSecond = 100
)

// DNSLimits is the tenant's token bucket at the tenant-scoped cluster DNS:
// the queries it may send per second and the burst, each from spec.dns or
// else the profile, with burst twice the rate unless set. It reads only the
// isolation and dns fields, so the DNS server can call it on every query.
func DNSLimits(spec *tenancyv1alpha1.TenantSpec) (qps, burst int32) {
	qps = SoftDNSQueriesPerSecond
	if spec.Isolation == tenancyv1alpha1.IsolationHard {
		qps = HardDNSQueriesPerSecond
	}
	if q := spec.DNS.QueriesPerSecond; q > 0 {
		qps = q
	}
	burst = 2 * qps
	if b := spec.DNS.Burst; b > 0 {
		burst = b
	}
	return qps, burst
}

// hardNamespaceQuota covers every resource the Multi-Tenancy Benchmarks ask a
// namespace quota to limit (PL1-CC-FNS-1 and -2).
func hardNamespaceQuota() corev1.ResourceList {
	q := resource.MustParse
	return corev1.ResourceList{
		corev1.ResourcePods:                     q("50"),
		corev1.ResourceRequestsCPU:              q("8"),
		corev1.ResourceLimitsCPU:                q("16"),
		corev1.ResourceRequestsMemory:           q("16Gi"),
		corev1.ResourceLimitsMemory:             q("32Gi"),
		corev1.ResourceRequestsEphemeralStorage: q("50Gi"),
		corev1.ResourceLimitsEphemeralStorage:   q("100Gi"),
		corev1.ResourceServices:                 q("20"),
		corev1.ResourceServicesNodePorts:        q("0"),
		corev1.ResourceServicesLoadBalancers:    q("0"),
		corev1.ResourceReplicationControllers:   q("0"),
		corev1.ResourceQuotas:                   q("1"),
		corev1.ResourceSecrets:                  q("100"),
		corev1.ResourceConfigMaps:               q("100"),
		corev1.ResourcePersistentVolumeClaims:   q("20"),
	}
}

// defaultLimits gives containers that say nothing a modest request and limit,
// so that a namespace quota on cpu, memory and ephemeral storage never refuses
// a pod merely for leaving them out.
func defaultLimits(hard bool) *tenancyv1alpha1.LimitsSpec {
	q := resource.MustParse
	l := &tenancyv1alpha1.LimitsSpec{
		DefaultRequest: corev1.ResourceList{
			corev1.ResourceCPU:              q("100m"),
			corev1.ResourceMemory:           q("128Mi"),
			corev1.ResourceEphemeralStorage: q("256Mi"),
		},
		Default: corev1.ResourceList{
			corev1.ResourceCPU:              q("500m"),
			corev1.ResourceMemory:           q("512Mi"),
			corev1.ResourceEphemeralStorage: q("1Gi"),
		},
	}
	if hard {
		l.Max = corev1.ResourceList{
			corev1.ResourceCPU:              q("4"),
			corev1.ResourceMemory:           q("8Gi"),
			corev1.ResourceEphemeralStorage: q("20Gi"),
		}
	}
	return l
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
