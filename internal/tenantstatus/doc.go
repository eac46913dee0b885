// Package tenantstatus is the one place Bulkhead writes a Tenant's status
// and finalizers. Every controller that writes either goes through it: the
// concern reconcilers and the namespaces controller for their condition and
// finalizer, the status controller for the summary and Ready.
//
// Each writer is its own server-side apply field manager, named by Manager,
// and applies only the fields it owns: a condition is owned by the manager
// that wrote it (conditions are a map keyed by type), so controllers never
// overwrite each other's. Conditions are serialised in one place
// (conditionFields), so that every writer sends the same shape, and nothing
// is written when the status already says it.
//
// It must not decide what a condition says: the controllers compute their
// conditions (pure functions where they can be) and hand them here.
package tenantstatus
