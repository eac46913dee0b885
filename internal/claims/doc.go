// Package claims decides, through the API server, the two promises of
// Bulkhead that concurrent admissions could otherwise break: that a tenant
// never holds more than namespaces.max namespaces, and that a hostname is
// never served for two tenants. Bulkhead runs its webhook on several
// replicas, and a request may reach any of them; what one replica remembers
// of the requests it admitted is invisible to the others. So nothing here
// is kept in memory: each decision reads an object, and an admission is
// recorded by writing that object back with the resourceVersion it was
// read at (or by creating it, which fails if another replica created it
// first). A concurrent write makes ours fail with a conflict; the webhook
// then reads again and decides again. The API server serialises the
// writes, so any number of replicas gives the answer one would. This is
// the pattern tenant-wide quota already follows (package tenantquota).
//
// # Namespaces
//
// Each tenant with namespaces admitted by the webhook has a NamespaceLedger,
// named after the Tenant, owned by it (so it goes with it) and labelled as
// Bulkhead's. It lists the namespaces admitted in the last ReservationTTL:
// by name, or by the generateName a generated one starts with. The count
// the webhook holds against namespaces.max is the tenant's namespaces in
// the cache plus the reservations that no namespace in the cache stands for
// (InUse): a named reservation is matched by its name, a generated one by a
// namespace of its tenant named from its generateName and created since it
// was admitted, each namespace standing for one reservation at most: one
// reserved by its own name, or being deleted, stands for no generated one
// (else namespaces a tenant names or deletes could absorb the reservations
// of generated ones still on their way). A
// reservation is never removed because its namespace appeared, only when it
// expires: removing it would let that namespace stand for a second one
// later. An expired reservation whose namespace never got stored (a later
// admission step refused it) simply stops counting; one whose namespace
// exists is counted through the cache. The cache has to show a new
// namespace within ReservationTTL, which an informer does in well under a
// second.
//
// Two things keep this cheap without touching correctness. The webhook
// decides one tenant's creates that arrive together on a replica as a
// batch, in order, recorded with one write (package namespace); other
// replicas batch on their own, and the compare-and-swap orders the
// batches. And it reads the ledger from its cache first: a stale read only
// makes the write lose the race, and the retry reads the API server.
//
// A request the API server makes again for the same namespace (it calls a
// mutating webhook again when a later one changed the object) does not
// count its own name's reservation against itself: two creates of one name
// store one namespace at most.
//
// Why a list of reservations rather than a counter: a namespace admitted
// may still be refused by a later step, and its slot must come back on its
// own. Why not one claim object per namespace name: it would count nothing,
// and namespaces.max is a count. Why not the Tenant's status: every
// namespace create would then wake whatever watches Tenants.
//
// # Hostnames
//
// Two hostnames conflict when they are equal or when one is the wildcard
// one label above the other ("*.example.com" and "shop.example.com"). Every
// hostname that can conflict with another shares its group with it (GroupOf):
// a wildcard is its own group, a name with a dot belongs to the wildcard
// above it, a single-label name and the catch-all ("*", a rule without host
// or a default backend) are groups of their own. Each group that a
// tenant's Ingress has used has one cluster-scoped HostnameClaim, named
// from the group (ClaimName), labelled as Bulkhead's and owned by nobody,
// since it may list holds of several tenants (shop.example.com for one,
// api.example.com for another). Claiming all conflicting names in one
// object makes the compare-and-swap cover the wildcard case too: separate
// objects for "*.example.com" and "shop.example.com" could both be created
// at the same instant.
//
// Before admitting an Ingress (never on a dry run, which audits and probes
// use), the webhook writes a hold on each of its hostnames for its tenant,
// stamped with the time. A hold of another tenant on a conflicting name
// refuses the Ingress while it is fresh (younger than HoldGrace: the
// Ingress it was made for may not be in the cache yet) and afterwards while
// an Ingress of that tenant serves that name. A hold that is neither is
// dropped by the next write: the hostname's last Ingress was deleted, or
// the Ingress was never stored. So a freed hostname is claimable again at
// once if it had been held longer than HoldGrace, and an orphan hold
// expires after HoldGrace. The webhook only drops holds in its way, so the
// leader also sweeps every claim (Sweep, from a controller that watches
// claims and Ingresses): it drops the holds that neither are fresh nor
// have an Ingress, and deletes a claim left with none. Claims and holds are
// thus bounded by the Ingresses that exist, and a tenant cycling Ingresses
// through new names cannot grow a claim until the API server refuses to
// store it, which would refuse every tenant's names in its group.
package claims
