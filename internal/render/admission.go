package render

import (
	"fmt"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// NodeConditionTaints are the taints Kubernetes puts on nodes for their
// condition. Pods may tolerate them whatever their tenant: the API server
// and the DaemonSet controller add such tolerations themselves, and they
// never open a dedicated pool.
var NodeConditionTaints = []string{
	"node.kubernetes.io/not-ready",
	"node.kubernetes.io/unreachable",
	"node.kubernetes.io/disk-pressure",
	"node.kubernetes.io/memory-pressure",
	"node.kubernetes.io/pid-pressure",
	"node.kubernetes.io/unschedulable",
	"node.kubernetes.io/network-unavailable",
}

// CanonicalToleration is the string form a toleration is compared in, by
// the admission policies as by Go: "key|operator|value|effect|seconds", an
// unset operator written as Equal. The policies compute the same string in
// CEL (see tolerationCEL).
func CanonicalToleration(t corev1.Toleration) string {
	op := string(t.Operator)
	if op == "" {
		op = string(corev1.TolerationOpEqual)
	}
	secs := ""
	if t.TolerationSeconds != nil {
		secs = strconv.FormatInt(*t.TolerationSeconds, 10)
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s", t.Key, op, t.Value, t.Effect, secs)
}

// CanonicalSubject is the string form of an RBAC subject in TenantPolicy.
func CanonicalSubject(kind, namespace, name string) string {
	if kind == "ServiceAccount" {
		return kind + ":" + namespace + ":" + name
	}
	return kind + ":" + name
}

// PolicyInputs are what a TenantPolicy needs beyond the Tenant: facts of
// the cluster the controller looks up.
type PolicyInputs struct {
	// PriorityValue and PreemptionPolicy are those of the default
	// PriorityClass, if any.
	PriorityValue    int32
	PreemptionPolicy string
	// GlobalDefaultPriorityClass names the cluster's PriorityClass with
	// globalDefault set, if any.
	GlobalDefaultPriorityClass string
	// RuntimeClasses are the RuntimeClasses the tenant's pods may name
	// (the default among them), by name.
	RuntimeClasses map[string]*nodev1.RuntimeClass
	// Protected are the namespaces whose NetworkPolicies exist: only they
	// admit pods.
	Protected map[string]bool
}

// TenantPolicies renders the TenantPolicy of each of t's namespaces: the
// admission parameters the shared policies (see Policies) read.
func TenantPolicies(t *tenancyv1alpha1.Tenant, namespaces []string, s Settings, in PolicyInputs) []client.Object {
	spec := TenantPolicySpec(t, namespaces, s, in)
	var out []client.Object
	for _, ns := range sortedCopy(namespaces) {
		p := &tenancyv1alpha1.TenantPolicy{
			ObjectMeta: objectMeta(t, ConcernAdmission, ns, tenancyv1alpha1.TenantPolicyName),
			Spec:       *spec.DeepCopy(),
		}
		p.Spec.Protected = in.Protected[ns]
		out = append(out, p)
	}
	return out
}

// TenantPolicySpec flattens t's effective spec into admission parameters.
// Every list and map is non-nil: the policies never test for presence.
func TenantPolicySpec(t *tenancyv1alpha1.Tenant, namespaces []string, s Settings, in PolicyInputs) tenancyv1alpha1.TenantPolicySpec {
	spec := Effective(t, s)
	hard := spec.Isolation == tenancyv1alpha1.IsolationHard
	p := spec.Pods

	pods := tenancyv1alpha1.PodRules{
		NodeSelector:                 map[string]string{},
		Tolerations:                  []corev1.Toleration{},
		AllowedTolerations:           []string{},
		RuntimeClasses:               []string{},
		RequireUserNamespace:         p.UserNamespaces == tenancyv1alpha1.UserNamespacesRequired,
		EnableServiceLinks:           *p.ServiceLinks,
		EnforceServiceLinks:          hard && !*p.ServiceLinks,
		AutomountServiceAccountToken: *p.AutomountServiceAccountToken,
		Registries:                   []string{},
		PriorityClasses:              []string{},
		PriorityClassGlobalDefault:   in.GlobalDefaultPriorityClass,
		PodAffinityScope:             p.PodAffinityScope,
	}
	if n := spec.Nodes; n != nil {
		for k, v := range n.Selector {
			pods.NodeSelector[k] = v
		}
		for _, tol := range n.Tolerations {
			pods.Tolerations = append(pods.Tolerations, *tol.DeepCopy())
			pods.AllowedTolerations = append(pods.AllowedTolerations, CanonicalToleration(tol))
		}
	}
	pods.RuntimeClassOverhead = corev1.ResourceList{}
	if rc := p.RuntimeClass; rc != nil {
		pods.RuntimeClassDefault = rc.Default
		pods.RuntimeClasses = nonNil(rc.Allowed)
		for _, name := range append([]string{rc.Default}, rc.Allowed...) {
			class := in.RuntimeClasses[name]
			if class == nil || class.Scheduling == nil {
				continue
			}
			for _, tol := range class.Scheduling.Tolerations {
				if c := CanonicalToleration(tol); !contains(pods.AllowedTolerations, c) {
					pods.AllowedTolerations = append(pods.AllowedTolerations, c)
				}
			}
		}
		// What the RuntimeClass admission step would have done for the
		// default class, had the class been set before it ran.
		if class := in.RuntimeClasses[rc.Default]; class != nil {
			if class.Overhead != nil {
				pods.RuntimeClassOverhead = class.Overhead.PodFixed.DeepCopy()
			}
			if sch := class.Scheduling; sch != nil {
				for k, v := range sch.NodeSelector {
					if _, ok := pods.NodeSelector[k]; !ok {
						pods.NodeSelector[k] = v
					}
				}
				pods.Tolerations = append(pods.Tolerations, sch.Tolerations...)
			}
		}
	}
	if p.Images != nil {
		pods.Registries = nonNil(p.Images.Registries)
		pods.PullPolicy = string(p.Images.PullPolicy)
	}
	if pc := p.PriorityClasses; pc != nil {
		pods.PriorityClassDefault = pc.Default
		pods.PriorityDefault = in.PriorityValue
		pods.PreemptionDefault = in.PreemptionPolicy
		pods.PriorityClasses = nonNil(pc.Allowed)
	}

	egress := spec.Network.Egress
	net := tenancyv1alpha1.NetworkRules{
		ServiceTypes: []string{}, IngressClasses: nonNil(spec.Ingress.Classes), Hostnames: nonNil(spec.Ingress.Hostnames),
		Isolation:        spec.Network.Isolation,
		AllowFromTenants: []string{},
		EgressRestricted: egressRestricted(egress),
		AllowInternet:    egress.AllowInternet != nil && *egress.AllowInternet,
		AllowCIDRs:       nonNil(egress.AllowCIDRs),
		DenyCIDRs:        nonNil(egress.DenyCIDRs),
	}
	for _, typ := range spec.Services.AllowedTypes {
		net.ServiceTypes = append(net.ServiceTypes, string(typ))
	}
	for _, a := range spec.Network.AllowFrom {
		if a.Tenant != "" && !contains(net.AllowFromTenants, a.Tenant) {
			net.AllowFromTenants = append(net.AllowFromTenants, a.Tenant)
		}
	}
	sort.Strings(net.AllowFromTenants)

	rbac := tenancyv1alpha1.RBACRules{Restricted: hard, Subjects: []string{}, Namespaces: sortedCopy(namespaces), ClusterRoles: []string{}}
	if rbac.Namespaces == nil {
		rbac.Namespaces = []string{}
	}
	// Subjects are checked in every profile (see Identities); the
	// ClusterRoles a binding may name only in Hard.
	// The admission rule and the RBAC sweep read one set of identities.
	rbac.Subjects = append(rbac.Subjects, TenantIdentities(t, namespaces, s).Subjects()...)
	if hard {
		roles := map[string]bool{OwnerClusterRole: true, MemberClusterRole: true, ViewerClusterRole: true}
		for _, r := range s.TenantClusterRoles {
			roles[r] = true
		}
		for r := range roles {
			rbac.ClusterRoles = append(rbac.ClusterRoles, r)
		}
		sort.Strings(rbac.ClusterRoles)
	}

	return tenancyv1alpha1.TenantPolicySpec{
		Tenant:    t.Name,
		Isolation: spec.Isolation,
		Pods:      pods,
		Network:   net,
		Storage:   tenancyv1alpha1.StorageRules{Classes: nonNil(spec.Storage.Classes)},
		RBAC:      rbac,
	}
}

func nonNil(in []string) []string {
	return append([]string{}, in...)
}
