// Package concern is the machinery every per-concern controller shares: it
// fetches a Tenant and its namespaces, asks the concern for the desired
// objects (a pure render function), applies them with server-side apply and
// one field manager, prunes what is no longer wanted, writes the concern's
// own condition, and on Tenant deletion removes everything it rendered before
// dropping its finalizer, once the namespaces controller has dropped its own
// (so that retained namespaces are locked before the tenant's objects go).
//
// A concern package (rbac, quota, network) supplies only what differs: its
// render function, its kinds and its condition, and optionally a sweep of
// objects tenants made that the Tenant no longer allows (Sweeper). This
// package must not know
// any concern's rules.
package concern
