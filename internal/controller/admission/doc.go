// Package admission keeps the tenants' admission rules inside the API server.
//
// The rules themselves are shared ValidatingAdmissionPolicies and
// MutatingAdmissionPolicies, one per rule family, with one binding each
// (render.Policies); package keeper keeps them in the cluster. What differs
// between tenants is the parameter object the bindings read: a TenantPolicy
// named "bulkhead" in every tenant namespace, which the admission concern
// renders from the Tenant and reports on as AdmissionReady.
//
// Enforcement therefore never calls Bulkhead: with the manager stopped, the
// API server still evaluates every policy with the last parameters written.
// A tenant namespace whose TenantPolicy is missing is closed (the bindings'
// parameterNotFoundAction is Deny), never open.
package admission
