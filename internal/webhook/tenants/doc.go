// Package tenants judges a new Tenant against the namespaces that already
// exist. A namespace name belongs to the tenant with the longest matching
// "<tenant>-" prefix, so a new Tenant takes over every name its prefix is
// the longest match for: it is refused when one of those namespaces exists
// and is not labelled for it (it belongs to another tenant, or to none), and
// when its prefix covers a system namespace or Kubernetes' own "kube-"
// names.
//
// Unlike Bulkhead's other webhooks, which skip cluster admins (so that they
// can never block them), this one exists to see cluster admins: they are the
// ones who create Tenants. It cannot block anything else: it is called only
// for Tenant creation, which no part of the control plane does. Only CREATE:
// a Tenant's name, and so its prefix, cannot change afterwards.
//
// Failure policy: Fail. A Tenant admitted unchecked while Bulkhead is down
// could take names for good; and while Bulkhead is down a new Tenant would
// get nothing anyway (no controller renders it, no owner can create a
// namespace), so waiting costs the admin nothing.
package tenants
