package audit

import (
	"slices"
	"sort"
	"strings"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Role is what an identity is in a tenant.
type Role string

// The roles, strongest first.
const (
	RoleOwner  Role = "owner"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Identity is who is audited: a user and its groups, as the API server
// authenticates them.
type Identity struct {
	User   string   `json:"user"`
	Groups []string `json:"groups,omitempty"`
}

// Membership is one tenant an identity belongs to, with its strongest role.
type Membership struct {
	Tenant string `json:"tenant"`
	Role   Role   `json:"role"`
	// Via is the subject of the Tenant that names the identity: "User
	// alice", "Group acme-devs", "ServiceAccount acme-web/ci".
	Via string `json:"via"`
}

// RoleIn is id's strongest role in the Tenant whose spec is spec, and the
// subject that grants it; ok is false when spec names id nowhere. A
// service account is named by kind ServiceAccount, or belongs to the
// tenant through its namespace: namespaces lists the tenant's.
func RoleIn(spec tenancyv1alpha1.TenantSpec, namespaces []string, id Identity) (role Role, via string, ok bool) {
	for _, r := range []struct {
		role     Role
		subjects []tenancyv1alpha1.Subject
	}{{RoleOwner, spec.Owners}, {RoleMember, spec.Members}, {RoleViewer, spec.Viewers}} {
		for _, s := range r.subjects {
			if names(s, id) {
				return r.role, string(s.Kind) + " " + subjectName(s), true
			}
		}
	}
	// A service account of a tenant namespace is the tenant's workload:
	// RBAC-wise, whatever its namespace's bindings give it; audited as a
	// member would be, the most a workload is ever granted by Bulkhead.
	if ns, _, isSA := serviceAccount(id.User); isSA && slices.Contains(namespaces, ns) {
		return RoleMember, "ServiceAccount of namespace " + ns, true
	}
	return "", "", false
}

// Memberships lists every tenant id belongs to, by tenant name.
func Memberships(tenants []tenancyv1alpha1.Tenant, id Identity) []Membership {
	var out []Membership
	for _, t := range tenants {
		if role, via, ok := RoleIn(t.Spec, t.Status.Namespaces, id); ok {
			out = append(out, Membership{Tenant: t.Name, Role: role, Via: via})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tenant < out[j].Tenant })
	return out
}

func names(s tenancyv1alpha1.Subject, id Identity) bool {
	switch s.Kind {
	case tenancyv1alpha1.SubjectUser:
		return s.Name == id.User
	case tenancyv1alpha1.SubjectGroup:
		return slices.Contains(id.Groups, s.Name)
	case tenancyv1alpha1.SubjectServiceAccount:
		ns, name, ok := serviceAccount(id.User)
		return ok && ns == s.Namespace && (s.Name == name || s.Name == "*")
	}
	return false
}

func subjectName(s tenancyv1alpha1.Subject) string {
	if s.Kind == tenancyv1alpha1.SubjectServiceAccount {
		return s.Namespace + "/" + s.Name
	}
	return s.Name
}

// serviceAccount splits a service account's user name.
func serviceAccount(user string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(user, "system:serviceaccount:")
	if !found {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	return namespace, name, ok && namespace != "" && name != ""
}
