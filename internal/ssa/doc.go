// Package ssa is the one way Bulkhead writes the objects it owns: server-side
// apply as one field manager, skipped when the cluster already holds the
// object as rendered. Every writer uses it (the per-concern reconcilers, the
// cluster-wide keeper), so that an unchanged object costs a cache read, not a
// write, and ownership of fields is the same whoever writes.
//
// "As rendered" means every field the renderer sets is present with the same
// value (isSubset); fields the API server defaults or other managers add are
// not drift.
package ssa
