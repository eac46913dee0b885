package render

import (
	"slices"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Identities are who a RoleBinding in a tenant's namespaces may name: the
// tenant's owners, members and viewers, and the ServiceAccounts of its
// namespaces. It is the same set the rbac.subjects admission rule reads from
// the TenantPolicy (subjects as CanonicalSubject, and namespaces), so that
// what admission refuses to create and what the RBAC controller deletes
// agree: a binding that could not be created today does not survive either.
//
// A retained namespace has no tenant, and so no identities at all.
type Identities struct {
	subjects   map[string]bool
	namespaces map[string]bool
}

// TenantIdentities are the identities of t, whose namespaces are namespaces.
func TenantIdentities(sc *Scope) Identities {
	namespaces, spec := sc.Namespaces, sc.Spec
	ids := Identities{subjects: map[string]bool{}, namespaces: map[string]bool{}}
	for _, list := range [][]tenancyv1alpha1.Subject{spec.Owners, spec.Members, spec.Viewers} {
		for _, sub := range list {
			ids.subjects[CanonicalSubject(string(sub.Kind), sub.Namespace, sub.Name)] = true
		}
	}
	for _, ns := range namespaces {
		ids.namespaces[ns] = true
	}
	return ids
}

// Subjects are the tenant's owners, members and viewers in canonical form
// (see CanonicalSubject), sorted: what TenantPolicy's rbac.subjects lists.
func (ids Identities) Subjects() []string {
	out := make([]string, 0, len(ids.subjects))
	for c := range ids.subjects {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// NoIdentities are the identities of a namespace without a tenant.
func NoIdentities() Identities { return Identities{} }

// Foreign returns the subjects of a RoleBinding in namespace that are
// neither identities nor the platform's (see PlatformSubject), written
// "Kind name" (ServiceAccounts "ServiceAccount namespace/name"). A binding
// with any foreign subject grants access to someone outside the tenant.
func (ids Identities) Foreign(namespace string, subjects []rbacv1.Subject, s Settings) []string {
	var out []string
	for _, sub := range subjects {
		if ids.has(namespace, sub) || PlatformSubject(namespace, sub, s) {
			continue
		}
		name := sub.Name
		if sub.Kind == rbacv1.ServiceAccountKind {
			name = subjectNamespace(namespace, sub) + "/" + sub.Name
		}
		out = append(out, sub.Kind+" "+name)
	}
	return out
}

func (ids Identities) has(namespace string, sub rbacv1.Subject) bool {
	if sub.Kind == rbacv1.ServiceAccountKind {
		// As the rule: any ServiceAccount of the tenant's namespaces, or
		// one named in the Tenant (written with its namespace as given).
		return ids.namespaces[subjectNamespace(namespace, sub)] ||
			ids.subjects[CanonicalSubject(sub.Kind, sub.Namespace, sub.Name)]
	}
	return ids.subjects[CanonicalSubject(sub.Kind, "", sub.Name)]
}

// PlatformSubject reports whether sub belongs to the platform rather than to
// any tenant: a ServiceAccount of a system namespace or of Bulkhead's own, or
// one of the cluster-admin groups. No tenant can act as one, and tenants
// cannot bind them (rbac.subjects), so a binding naming one was made by a
// cluster admin, on purpose, and stays. Users are never platform subjects:
// a user name says nothing of who owns it.
func PlatformSubject(namespace string, sub rbacv1.Subject, s Settings) bool {
	switch sub.Kind {
	case rbacv1.ServiceAccountKind:
		ns := subjectNamespace(namespace, sub)
		return ns == s.ManagerNamespace || s.IsSystemNamespace(ns)
	case rbacv1.GroupKind:
		return slices.Contains(s.AdminGroups, sub.Name)
	}
	return false
}

// subjectNamespace is a ServiceAccount subject's namespace, the binding's own
// when unset (as the rule reads it).
func subjectNamespace(bindingNamespace string, sub rbacv1.Subject) string {
	if sub.Namespace != "" {
		return sub.Namespace
	}
	return bindingNamespace
}
