// Package webhook holds Bulkhead's five admission webhooks, each kept narrow:
// only what needs state beyond the incoming object (which tenant a new
// namespace belongs to and how many it has, whether an Ingress hostname is
// another tenant's, whether a claim's volume is the tenant's, what the
// tenant-wide quota has left, whether a new Tenant's name prefix is free),
// plus the pods' defaults where MutatingAdmissionPolicy is not served. The
// handlers live in its subpackages, each a pure decision function plus a
// thin adapter. The package also renders
// the webhook configurations, scoped so that the API server never calls the
// webhook for system namespaces or cluster admins (except for Tenant
// creation, which only cluster admins do: see package tenants); package
// keeper applies them, with the CA bundle of the serving certificate it
// keeps. Its server accepts only the API server, verified by its client
// certificate.
package webhook
