package render

import "strings"

// Settings are the cluster-wide inputs of rendering: what the cluster is like,
// as opposed to what a Tenant asks for.
type Settings struct {
	// SystemNamespaces are never assigned to a tenant nor touched.
	SystemNamespaces []string
	// AdminGroups are cluster admins: the namespace webhook never sees them.
	AdminGroups []string
	// PodSecurityVersion pins the Pod Security Standards version ("v1.36") so
	// that an API server upgrade never silently changes what tenants may run.
	PodSecurityVersion string
	// SandboxRuntimeClass is the RuntimeClass Hard tenants must use (gVisor, Kata).
	SandboxRuntimeClass string
	// DNSNamespace and DNSPodLabels select the cluster DNS pods that tenant
	// egress may always reach on port 53.
	DNSNamespace string
	DNSPodLabels map[string]string
	// ManagerNamespace is where Bulkhead runs; its service accounts are never
	// sent to its own webhook.
	ManagerNamespace string
	// TenantClusterRoles are the ClusterRoles a RoleBinding inside a Hard
	// tenant may reference, besides the ones Bulkhead binds itself, and the
	// ones owners (of any profile) may bind: the owner role grants the bind
	// verb on exactly these.
	TenantClusterRoles []string
	// InlineCSIDrivers are the CSI drivers tenant pods may name in inline
	// volumes; any other inline CSI volume is refused.
	InlineCSIDrivers []string
	// Schedulers are the schedulerNames tenant pods may use: schedulers
	// that honour node pools' taints.
	Schedulers []string
	// ClusterCIDRs are the cluster's pod and Service address ranges. A
	// tenant's own NetworkPolicies may admit ipBlock sources only outside
	// them (many network plugins match pod addresses against ipBlocks, so
	// 0.0.0.0/0 would let every tenant in); when empty, Bulkhead cannot
	// tell, and refuses ipBlock sources wherever isolation is on.
	ClusterCIDRs []string
	// TenantTokenMaxSeconds is the longest ServiceAccount token a tenant
	// identity may ask for: how long a token minted by an owner acts after
	// the owner is removed.
	TenantTokenMaxSeconds int64
	// TenantPriorityShares are the nominal concurrency shares of the
	// priority level tenants share (TenantsPriorityLevel): the tenants'
	// part, together, of the API server's concurrency, which the API
	// server divides among all levels in proportion to their shares.
	TenantPriorityShares int32
	// MaxDedicatedPriorityLevels caps how many tenants get a priority
	// level of their own (apiFairness.shares > 0). Every level takes its
	// shares from all the others, so the cap bounds how thin the
	// control plane's own levels can be spread.
	MaxDedicatedPriorityLevels int
	// RenderVersion selects the rendering of an earlier release, so that a
	// rollback renders what that release did and an upgrade can be tested
	// from it; 0 is CurrentRenderVersion. RenderVersions lists what differs.
	RenderVersion int
}

// Render versions. Each release that changes what Bulkhead writes in a way
// that must be replaced on the cluster (a renamed object, a policy split or
// renamed, a changed binding) gets a new version, and the previous
// rendering stays behind the older number, so that an upgrade and a
// rollback are tested on a real API server. No version may protect less
// than another: versions differ in names and shape, never in what they
// refuse.
//
//   - 1: the ingress NetworkPolicy was named LegacyIngressPolicy and the
//     tokens policy LegacyTokensPolicy; the managed-objects binding also
//     audited its denials (validationActions Deny, Audit).
//   - 2: today's rendering.
const (
	RenderVersion1       = 1
	CurrentRenderVersion = 2
)

// Version is the render version the settings select: CurrentRenderVersion
// unless RenderVersion names an earlier one.
func (s Settings) Version() int {
	if s.RenderVersion == 0 {
		return CurrentRenderVersion
	}
	return s.RenderVersion
}

// DefaultSettings are the settings of a stock cluster.
func DefaultSettings() Settings {
	return Settings{
		SystemNamespaces:    []string{"kube-system", "kube-public", "kube-node-lease", "default", "bulkhead-system"},
		AdminGroups:         []string{"system:masters"},
		PodSecurityVersion:  "v1.36",
		SandboxRuntimeClass: "gvisor",
		DNSNamespace:        "kube-system",
		DNSPodLabels:        map[string]string{"k8s-app": "kube-dns"},
		ManagerNamespace:    "bulkhead-system",
		TenantClusterRoles:  []string{"admin", "edit", "view"},
		Schedulers:          []string{"default-scheduler"},
		// kubectl create token's default.
		TenantTokenMaxSeconds: 3600,
		// The API server's built-in levels hold 245 shares (global-default
		// 20, workload-low 100, workload-high 40, ...): 40 more gives the
		// tenants together 14% of its concurrency, and every other level
		// keeps 86% of what it had.
		TenantPriorityShares:       40,
		MaxDedicatedPriorityLevels: 8,
	}
}

// IsSystemNamespace reports whether name is one of the settings' system namespaces.
func (s Settings) IsSystemNamespace(name string) bool {
	for _, n := range s.SystemNamespaces {
		if n == name {
			return true
		}
	}
	return false
}

// ManagerServiceAccount is the service account bulkhead-manager runs as.
const ManagerServiceAccount = "bulkhead-manager"

// ManagerUser is the user name bulkhead-manager authenticates as.
func (s Settings) ManagerUser() string {
	return "system:serviceaccount:" + s.ManagerNamespace + ":" + ManagerServiceAccount
}

// NotBulkheadCEL is a CEL condition on an admission request, true unless
// Bulkhead itself (any service account of its namespace) sent it. Policies
// and webhooks skip Bulkhead with it: what it writes is rendered from the
// Tenant, and must not wait on the rules it maintains.
func (s Settings) NotBulkheadCEL() string {
	return "!request.userInfo.username.startsWith('system:serviceaccount:" + s.ManagerNamespace + ":')"
}

// NotAdminCEL are CEL conditions on an admission request, one per admin
// group, each true unless the user is in that group.
func (s Settings) NotAdminCEL() []string {
	out := make([]string, 0, len(s.AdminGroups))
	for _, g := range s.AdminGroups {
		out = append(out, "!('"+g+"' in request.userInfo.groups)")
	}
	return out
}

// AdminCEL is a CEL condition on an admission request, true when the user is
// in one of the admin groups.
func (s Settings) AdminCEL() string {
	if len(s.AdminGroups) == 0 {
		return "false"
	}
	return "!(" + strings.Join(s.NotAdminCEL(), " && ") + ")"
}
