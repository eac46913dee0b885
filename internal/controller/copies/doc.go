// Package copies keeps the copies that TenantResources ask for: Secrets and
// ConfigMaps, referenced or written inline, copied into every namespace of
// the Tenants a TenantResource selects, equal to their source, and removed
// when the source goes, when a tenant or namespace leaves the selection, or
// with the TenantResource (a finalizer, with an owner reference as the
// garbage collector's backstop).
//
// It owns the copies and the TenantResource's status; it must not write any
// object it did not create. A copy is created, never applied, so that a
// tenant's own object of the same name makes the create fail and is left
// as it is (the status reports a NameConflict). Copies carry Bulkhead's
// managed-by label, so the managed-objects admission rule keeps tenants
// from changing or deleting them, and no tenant can pass an object off as
// a copy.
//
// Memory and reach. The manager's cache holds no Secret but its own and no
// ConfigMap at all, and this controller must not change that: it never
// reads either kind through the manager's client. Instead, a referenced
// source must carry the label tenancy.bulkhead.dev/copy=source, and a
// second cache (NewMarkedCache) watches only Secrets and ConfigMaps
// carrying that key: marked sources and the copies (labelled
// tenancy.bulkhead.dev/copy=copy). Memory then grows with what admins mark
// and copy, not with the cluster, and a change to a source reaches its
// copies through a watch, not a periodic resync. The label is also
// consent: an object nobody marked is never copied, however a
// TenantResource is written, and a copy is never a source. A reference to
// an object that is not in that cache is looked up live, metadata only,
// so that the status can tell a missing source from an unmarked one.
//
// Whose data. A source in a tenant's namespace is never copied
// (SourceInTenantNamespace), whoever marked it: the tenant could change or
// replace it, and so choose what other tenants receive. And tenants may
// not put the copy label on their own Secrets and ConfigMaps at all (the
// bulkhead-copy-label policy, rule managed-objects), which also keeps their
// objects out of the cache of marked objects.
//
// What goes into a copy is decided by pure functions (Select, Desired,
// Compare, Status) tested with tables; the Reconciler fetches, calls them
// and writes.
package copies
