// Package tenantquota is the arithmetic of tenant-wide quota
// (spec.quota.tenant.hard): limits summed over all of a tenant's namespaces.
//
// # Design
//
// A ResourceQuota cannot do this: it is bound to one namespace. Splitting
// the tenant's limit into per-namespace quotas either strands capacity in
// idle namespaces or needs constant rebalancing, and still cannot be exact.
// So the tenant's usage has one ledger, the Tenant's own status, and every
// admission writes to it with optimistic concurrency:
//
//  1. A validating webhook, sent only pods and PersistentVolumeClaims of
//     namespaces whose tenant has a tenant-wide quota (a namespace label
//     selects them), computes what the new object would use (PodUsage,
//     ClaimUsage), or what a pod's in-place resize or a claim's expansion
//     adds (Growth). An object with a quantity below zero is refused
//     (NegativeQuantities): the API server never sends one, and a negative
//     part could hide in a positive sum.
//  2. It reads the Tenant, refuses the object if status.usage plus the new
//     amount exceeds any limit (Exceeds), and otherwise adds the amount to
//     status.usage and records a reservation for the object (Charge),
//     writing the status with the resourceVersion it read. A concurrent
//     admission makes that write fail with a conflict; the webhook then
//     reads again and decides again. The API server's compare-and-swap on
//     the one Tenant object serialises every charge, across any number of
//     webhook replicas: usage is never charged past the limit.
//  3. A recount, run periodically by the manager, lists the objects the
//     tenant's namespaces hold and sets status.usage to their sum plus the
//     reservations still pending (Recount). A reservation ends when its
//     object is seen (it is now counted) or after ReservationTTL (a later
//     admission step refused the object, so it never existed). The recount
//     writes with the same compare-and-swap, so a charge made while it was
//     counting makes it start over rather than be lost.
//
// No arithmetic here goes below zero (Add counts a negative as nothing), and
// a usage on record below zero is not trusted: admissions wait for the
// recount, which writes the truth.
//
// Why not an in-memory counter in the webhook: two replicas would each
// admit up to the limit. Why not count live objects at admission: objects
// admitted but not yet stored are invisible, so concurrent creates all
// squeeze under the limit. Why reservations rather than a bare counter: an
// object the webhook admitted may still be refused by a later admission
// step (ResourceQuota runs last); its charge must expire, not leak.
//
// The costs: every admitted pod of such a tenant is one write to the
// Tenant, and concurrent creates in one tenant are serialised on it. Freed
// quota (a pod deleted or finished) returns at the next recount, not at
// once. Pods created by cluster admins are not charged at admission (the
// webhook never sees them) but the recount counts them. The webhook fails
// closed: with the manager down, only tenants with a tenant-wide quota wait
// to create pods and claims.
package tenantquota
