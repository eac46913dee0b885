// Package rbac reconciles a Tenant's RoleBindings (owners, members, viewers
// in every tenant namespace) and the ClusterRoleBinding that lets its owners
// create namespaces, and keeps Bulkhead's tenant ClusterRoles in the cluster.
// The bindings themselves come from render.RBAC; this package only wires.
package rbac
