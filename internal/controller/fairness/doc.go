// Package fairness reconciles a Tenant's place in API Priority and Fairness
// from render.Fairness: one FlowSchema per tenant, matching its owners,
// members, viewers and the service accounts of its namespaces, with no flow
// distinguisher, so that the whole tenant is one flow of the shared
// bulkhead-tenants priority level (which the keeper keeps, with the
// cluster-admins FlowSchema). A tenant with apiFairness.shares > 0 gets a
// level of its own, if it is among the oldest --max-dedicated-priority-levels
// tenants asking for one; which ones is decided from the Tenants the API
// server holds (render.DedicatedLevels), never from a count kept in memory,
// and any change to a Tenant's shares brings back every tenant asking, so
// that a level freed goes to the next in line.
//
// The condition is FairnessReady: Applied, Disabled (shares: 0), or
// PriorityLevelCapReached (False, the tenant is in the shared level).
package fairness
