// Package namespace decides namespace self-service: an owner's new namespace
// is assigned to their tenant (and stamped with its Pod Security and locked
// labels before it exists), within namespaces.max, the name prefix and the
// names other tenants own (the longest matching "<tenant>-" prefix decides),
// whether it is named or created with generateName; and nobody but a cluster
// admin sets, changes or removes a reserved label or annotation (package
// reserved) or what ties a namespace to its tenant.
//
// namespaces.max is counted through the API server, not in a replica's
// memory: the namespaces in the cache plus those admitted moments ago,
// which the tenant's NamespaceLedger records with a compare-and-swap
// (package claims), so any number of webhook replicas admit no more than
// one would. Dry runs read the ledger but never write it.
//
// Failure policy: Fail. Without the webhook an owner could create namespaces
// outside every limit; the webhook never sees cluster admins or system
// namespaces, so when it is down only owners' namespace creation waits.
package namespace
