// Package concern is the machinery every per-concern controller shares: it
// fetches a Tenant and its namespaces, asks the concern for the desired
// objects (a pure render function), applies them with server-side apply and
// one field manager, prunes what is no longer wanted, writes the concern's
// own condition, and on Tenant deletion removes everything it rendered before
// dropping its finalizer.
//
// A concern package (rbac, quota, network) supplies only what differs: its
// render function, its kinds and its condition. This package must not know
// any concern's rules.
package concern
