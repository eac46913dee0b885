// Package namespaces keeps every tenant namespace labelled as render.Namespace
// says (tenant label, Pod Security levels, locked labels and annotations),
// reports NamespacesReady, and on Tenant deletion deletes or releases the
// namespaces per namespaces.deletionPolicy.
//
// Deletion state machine, driven by the tenancy.bulkhead.dev/namespaces
// finalizer: Tenant deleting -> (Delete) delete every tenant namespace, or
// (Retain) strip Bulkhead's labels and annotations from each -> remove the
// finalizer. Which tenant a new namespace belongs to is decided by the
// namespace webhook, not here.
package namespaces
