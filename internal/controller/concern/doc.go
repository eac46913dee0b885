// Package concern is the machinery every per-concern controller shares: it
// fetches a Tenant, computes its Scope once (the Tenant, its effective spec
// after the profile, its namespaces), asks the concern for the desired
// objects (a pure render function over the scope), applies them with
// internal/ssa, prunes what is no longer wanted, writes the concern's own
// condition through internal/tenantstatus, and on Tenant deletion removes
// everything it rendered before dropping its finalizer, once the namespaces
// controller has dropped its own (so that retained namespaces are locked
// before the tenant's objects go).
//
// A concern package (rbac, quota, network, admission) supplies only what
// differs, as a Concern description: its name, its condition, the kinds it
// renders, its render function, and optionally why it is disabled, a sweep
// of objects tenants made that the Tenant no longer allows, and extra
// watches. Setup turns the description into a controller. This package must
// not know any concern's rules.
package concern
