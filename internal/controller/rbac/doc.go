// Package rbac reconciles a Tenant's RoleBindings (owners, members, viewers
// in every tenant namespace) and the ClusterRoleBinding that lets its owners
// create namespaces, and keeps Bulkhead's tenant ClusterRoles in the cluster.
// The bindings themselves come from render.RBAC; this package only wires.
//
// It also sweeps the RoleBindings tenants made themselves: any binding in a
// tenant namespace that names someone outside the tenant (render.Identities)
// is deleted on every reconcile, with an Event on the Tenant, so that a
// person removed from the Tenant loses everything they could do there,
// bindings they made while they belonged included. The rbac.subjects
// admission rule refuses creating such bindings in the first place; the two
// read the same set. Tenant-made bindings are not in the cache (it holds
// Bulkhead's objects only, to keep memory proportional to tenants), so the
// sweep lists them live, one LIST per tenant namespace per reconcile.
package rbac
