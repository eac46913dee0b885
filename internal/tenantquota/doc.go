// Package tenantquota is the arithmetic of tenant-wide quota
// (spec.quota.tenant.hard): limits summed over all of a tenant's namespaces.
//
// # Design
//
// A ResourceQuota cannot do this: it is bound to one namespace. Splitting
// the tenant's limit into per-namespace quotas either strands capacity in
// idle namespaces or needs constant rebalancing, and still cannot be exact.
// So the tenant's usage has one ledger, a cluster-scoped TenantQuotaLedger
// named after the Tenant (NewLedger: owned by the Tenant, labelled as
// Bulkhead's, out of every tenant's reach), and every admission writes to
// its status with optimistic concurrency:
//
//  1. A validating webhook, sent only pods and PersistentVolumeClaims of
//     namespaces whose tenant has a tenant-wide quota (a namespace label
//     selects them), computes what the new object would use (PodUsage,
//     ClaimUsage), or what a pod's in-place resize or a claim's expansion
//     adds (Growth). An object with a quantity below zero is refused
//     (NegativeQuantities): the API server never sends one, and a negative
//     part could hide in a positive sum.
//  2. It reads the Tenant (for spec.quota.tenant.hard) and then the ledger,
//     refuses the object if the ledger's usage plus the new amount exceeds
//     any limit (Exceeds), and otherwise adds the amount to the usage and
//     records a reservation for the object (Charge), writing the ledger's
//     status with the resourceVersion it read. A concurrent admission makes
//     that write fail with a conflict; the webhook then reads again and
//     decides again. The API server's compare-and-swap on the one ledger
//     object serialises every charge, across any number of webhook
//     replicas: usage is never charged past the limit. The limits are read
//     from the Tenant just before the ledger; a charge decided on limits a
//     cluster admin changes a moment later is ordered before that change,
//     as it would be had it arrived a moment earlier.
//  3. A recount, run periodically by the manager, creates the ledger when
//     missing, lists the objects the tenant's namespaces hold and sets the
//     ledger's usage to their sum plus the reservations still pending
//     (Recount). A reservation ends when its object is seen (it is now
//     counted) or after ReservationTTL (a later admission step refused the
//     object, so it never existed). The recount writes with the same
//     compare-and-swap, so a charge made while it was counting makes it
//     start over rather than be lost.
//
// Counts of any kind (count/<resource>.<group> limits, count.go) go
// through the same ledger: the webhook is also sent creates of the kinds
// some Tenant counts (its rules are generated from the Tenants, so a kind
// nobody counts never reaches it), charges each object 1 under a
// reservation whose kind is the limit's name, and the recount counts the
// objects from metadata-only informers. Deleting one frees its count at
// the next recount, as for pods.
//
// Only a ledger its Tenant controls and that carries NewLedger's labels
// counts (Owned). One left by an earlier Tenant of the same name, not yet
// garbage-collected, is refused, and so is one without the labels (someone
// given RBAC on ledgers by mistake may have created it before the recount
// did, and the managed-objects rule, which finds ledgers by label, would
// not keep that person off it). The recount takes such a ledger over: it
// empties the account first, then sets the owner and labels, so that no
// moment shows a ledger that is the Tenant's own and counted but holds
// another account; then it counts again. Until the ledger exists and has
// been counted, admissions wait (Counted). On upgrade
// from a version that kept the account in Tenant.status.reservations, the
// old reservations are ignored: the first recount rebuilds the ledger from
// the objects that exist. An object admitted in the moments of the upgrade
// but not yet stored is missed by that recount and counted by the next, so
// for one interval the tenant may hold a little more than its limit.
//
// The Tenant's status.usage is a copy of the ledger's usage, written by the
// recount when it changes, for people reading the Tenant; admissions never
// read or write it. Keeping the account off the Tenant keeps the Tenant a
// quiet object: whatever watches Tenants is not woken by every pod.
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
// The costs: every admitted pod of such a tenant is one write to its
// ledger, and concurrent creates in one tenant are serialised on it. Freed
// quota (a pod deleted or finished) returns at the next recount, not at
// once. Pods created by cluster admins are not charged at admission (the
// webhook never sees them) but the recount counts them. The webhook fails
// closed: with the manager down, only tenants with a tenant-wide quota wait
// to create pods and claims.
package tenantquota
