package main

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
)

// system is one of the systems compared, configured one way: how it is
// installed and started on a fresh dev cluster, how an admin declares a
// tenant to it, what tells an owner that they may create namespaces, and
// what it must create for each of a tenant's namespaces.
type system interface {
	// Name names it in the tables, such as capsule-tuned.
	Name() string
	// Describe says how it is configured, for the printed header and the report.
	Describe() string
	// Start installs it on cluster and runs it as a process of its own,
	// returning once its webhook server answers.
	Start(ctx context.Context, cluster *devcluster.Cluster) (*running, error)
	// Tenant is the object an admin creates to declare t.
	Tenant(t benchTenant) (client.Object, error)
	// OwnerGroups are the groups an owner acts in, besides system:authenticated.
	OwnerGroups() []string
	// NamespaceLabel is the label the system's webhook stamps on an owner's
	// new namespace, naming its tenant.
	NamespaceLabel() string
	// OwnerMayCreate reports whether the system shows that t's owner may now
	// create namespaces: what a careful owner would wait for.
	OwnerMayCreate(ctx context.Context, admin client.Client, t benchTenant) (bool, error)
	// Expected are the objects the system must create for its tenants.
	Expected() expectation
}

// running is a system started on a cluster.
type running struct {
	// admin is a cluster admin's client (system:masters).
	admin client.Client
	// pid is the system's process, whose memory and CPU are measured.
	pid int
	// log is where the process writes its output.
	log string
	// failed reports that the process has exited.
	failed func() error
	// stop stops the process.
	stop func()
	// installed says what was installed, for the printed header.
	installed string
}

// benchTenant is one tenant of the workload: its name, its one owner (a
// User), the namespaces the owner creates, and how many it may have.
type benchTenant struct {
	name, owner string
	namespaces  []string
	// maxNamespaces is the tenant's namespace limit.
	maxNamespaces int32
}

// defaultMaxNamespaces is Bulkhead's default namespaces.max, given to
// Capsule's tenants too.
const defaultMaxNamespaces = 10

// namespacesPerTenant is how many namespaces each owner creates.
const namespacesPerTenant = 2

// workloadTenants are the n tenants of a convergence run.
func workloadTenants(n int) []benchTenant {
	out := make([]benchTenant, n)
	for i := range out {
		name := fmt.Sprintf("t%04d", i)
		out[i] = benchTenant{
			name:          name,
			owner:         fmt.Sprintf("owner-%04d", i),
			namespaces:    namespaceNames(name, namespacesPerTenant),
			maxNamespaces: defaultMaxNamespaces,
		}
	}
	return out
}

// namespaceNames are n namespace names carrying tenant's prefix, which
// both systems are told to require.
func namespaceNames(tenant string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-ns%d", tenant, i)
	}
	return out
}

// expectation is what a system must create for its tenants, and how its
// objects are told apart from anyone else's.
type expectation struct {
	// label is the label each of the system's objects carries, naming its
	// tenant.
	label string
	// perNamespace is how many objects of each kind every tenant namespace
	// must hold.
	perNamespace map[schema.GroupVersionKind]int
	// perTenant is how many cluster-scoped objects of each kind every
	// tenant must have.
	perTenant map[schema.GroupVersionKind]int
}

// total is how many objects tenants need in all.
func (e expectation) total(tenants []benchTenant) int {
	perTenant := 0
	for _, n := range e.perTenant {
		perTenant += n
	}
	perNamespace := 0
	for _, n := range e.perNamespace {
		perNamespace += n
	}
	total := 0
	for _, t := range tenants {
		total += perTenant + perNamespace*len(t.namespaces)
	}
	return total
}

// The kinds Capsule creates in a tenant's namespaces.
var (
	roleBindingKind   = rbacv1.SchemeGroupVersion.WithKind("RoleBinding")
	resourceQuotaKind = schema.GroupVersionKind{Version: "v1", Kind: "ResourceQuota"}
	limitRangeKind    = schema.GroupVersionKind{Version: "v1", Kind: "LimitRange"}
	networkPolicyKind = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
)
