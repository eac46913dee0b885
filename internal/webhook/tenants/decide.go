package tenants

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/reserved"
)

// RuleName is the rule a Tenant's name breaks when its namespace prefix
// would take names that are not free.
const RuleName = "tenant.name"

// maxListed bounds how many namespaces a message names.
const maxListed = 3

// Decision is the answer to one Tenant creation.
type Decision struct {
	Allowed bool
	// Message says, when denied, which tenant, which rule and how to fix it.
	Message string
}

func deny(tenant, problem, fix string) Decision {
	return Decision{Message: fmt.Sprintf("tenant %s: %s [rule %s]. %s", tenant, problem, RuleName, fix)}
}

// DecideCreate decides whether Tenant t may be created, given the Tenants
// and namespaces that exist.
func DecideCreate(t *tenancyv1alpha1.Tenant, tenants []tenancyv1alpha1.Tenant, namespaces []corev1.Namespace, s render.Settings) Decision {
	prefix := render.NamespacePrefix(t.Name)
	if reserved.IsKubernetesNamespace(prefix) {
		return deny(t.Name, fmt.Sprintf("its namespaces would be named %q..., in the names Kubernetes keeps for itself (%q...)", prefix, reserved.KubernetesNamespacePrefix),
			"Choose a tenant name that does not start with \"kube-\" and is not \"kube\"")
	}
	var system []string
	for _, n := range s.SystemNamespaces {
		if strings.HasPrefix(n, prefix) {
			system = append(system, n)
		}
	}
	if len(system) > 0 {
		sort.Strings(system)
		return deny(t.Name, fmt.Sprintf("its namespace prefix %q covers the system namespaces %s", prefix, list(system)),
			"Choose another tenant name")
	}

	names := []string{t.Name}
	for i := range tenants {
		if tenants[i].Name != t.Name {
			names = append(names, tenants[i].Name)
		}
	}
	var inOther, inNone []string
	for i := range namespaces {
		ns := &namespaces[i]
		// Only a name under the prefix can be t's; the longest match among
		// every tenant decides the few that are.
		if !ns.DeletionTimestamp.IsZero() || !strings.HasPrefix(ns.Name, prefix) || render.NamespaceOwner(ns.Name, names) != t.Name {
			continue
		}
		switch label := ns.Labels[tenancyv1alpha1.TenantLabel]; label {
		case t.Name:
			// Labelled for this tenant in advance by an admin: adopted.
		case "":
			inNone = append(inNone, ns.Name)
		default:
			inOther = append(inOther, fmt.Sprintf("%s (tenant %s)", ns.Name, label))
		}
	}
	adopt := fmt.Sprintf("label them %s=%s to hand them to the new tenant", tenancyv1alpha1.TenantLabel, t.Name)
	if len(inOther) > 0 {
		sort.Strings(inOther)
		return deny(t.Name, fmt.Sprintf("its namespace prefix %q would take namespaces that belong to other tenants: %s", prefix, list(inOther)),
			"Choose another tenant name, or move those namespaces first: delete them, or "+adopt)
	}
	if len(inNone) > 0 {
		sort.Strings(inNone)
		return deny(t.Name, fmt.Sprintf("its namespace prefix %q covers namespaces outside any tenant: %s", prefix, list(inNone)),
			"Choose another tenant name, or first delete those namespaces, or "+adopt)
	}
	return Decision{Allowed: true}
}

// list names up to maxListed items, and how many more there are.
func list(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}
