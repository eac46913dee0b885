// Package render computes, with no client and no clock, the objects Bulkhead
// wants in the cluster for a Tenant: namespace labels, RoleBindings,
// ResourceQuotas, LimitRanges and NetworkPolicies. Controllers only fetch
// inputs, call these functions, and apply the result; every rule of what a
// tenant gets is therefore table-tested here.
//
// It must not import a client, read the environment or depend on time.
package render
