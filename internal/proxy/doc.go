// Package proxy is bulkhead-proxy: a tenant-scoped front of the API server,
// and the authorization webhook that lets the API server itself serve a
// tenant its own slice of the cluster-scoped world (package tenantview).
//
// Every request is authenticated (a client certificate the cluster's client
// CA signed, or a bearer token the API server's TokenReview vouches for,
// cached briefly) and forwarded as the caller: the proxy's own credentials
// carry Impersonate-User, -Group, -Uid and -Extra-* of the authenticated
// identity, so RBAC decides and the audit log names the real user. A
// caller that brought a bearer token has it forwarded instead, when the
// proxy's own credential is a token too: the API server authenticates and
// audits the caller itself, and is spared authorizing the impersonation of
// each of its groups. Any Impersonate-* header the client sent is dropped,
// never honoured. The proxy never widens access; it only narrows what is asked:
//
//   - namespaces: a list or watch gets the selector "tenant in (the
//     caller's tenants)" added to the caller's own, which the
//     authorization webhook then allows; a get that RBAC refuses (another
//     tenant's namespace) answers 404, exactly as a name that does not
//     exist;
//   - nodes: a list or watch gets the labels of the tenant's node pool; a
//     tenant without one sees none; a get is a list by name within the pool;
//   - tenants: a list asks for each of the caller's own by name, and a get
//     of another's answers 404;
//   - storage, ingress, priority and runtime classes: those the caller's
//     tenants may use (all, where one does not restrict them); a get of
//     another answers 404;
//   - a list of a namespaced kind across namespaces (kubectl get pods -A)
//     is a list in each of the caller's namespaces, merged; a watch across
//     namespaces is refused with a message, never half-served.
//
// Callers in no tenant (cluster admins) are forwarded unchanged, and so is
// everything else, upgrades and streams (exec, attach, port-forward, logs
// -f) included.
package proxy
