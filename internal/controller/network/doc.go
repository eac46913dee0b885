// Package network reconciles a Tenant's NetworkPolicies from render.Network.
// Because a tenant's egress must let it reach the tenants that allow it in,
// the controller also watches other Tenants' allowFrom lists.
package network
