// Package tenantview decides what a tenant identity may see of the
// cluster-scoped world: its own namespaces, the nodes of its pool, its own
// Tenants. It is the pure core of bulkhead-proxy and of the authorization
// webhook the proxy serves to the API server.
//
// RBAC cannot say "the namespaces labelled with my tenant": it ignores
// label selectors. Since Kubernetes 1.34 the API server hands a webhook
// authorizer the label and field selectors of a LIST or WATCH, so the
// webhook can allow exactly the selected lists, and nothing wider:
//
//   - namespaces, list and watch, when the label selector requires
//     tenancy.bulkhead.dev/tenant to be one of the caller's tenants;
//   - nodes, list and watch, when it requires every label of the node pool
//     (nodes.selector) of one of the caller's tenants;
//   - tenants, get of one of the caller's own, and list and watch when the
//     field selector requires metadata.name to be one of them;
//   - tenantusages, get of one of the caller's own tenants' (what its
//     workloads request and use, and the recommendations);
//   - storage, ingress, priority and runtime classes: get of one the
//     caller's tenants may use, list and watch by metadata.name of one, or
//     any of them when a tenant of the caller is not restricted.
//
// The webhook only ever allows; everything else gets no opinion, and RBAC,
// which the API server consults first, decides. A tenant going around the
// proxy straight to the API server therefore sees exactly what the proxy
// shows it, no more: the proxy adds these selectors to the caller's own
// request and forwards it as the caller.
//
// Membership comes from an Index built from the Tenants (users, groups,
// service accounts, and every service account of a tenant's namespaces),
// never from one access review per group per request.
package tenantview
