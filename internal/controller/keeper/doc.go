// Package keeper keeps Bulkhead's cluster-wide objects in the cluster as
// rendered: the shared admission policies and their bindings
// (render.ValidatingPolicies, render.MutatingPolicies where the API server
// serves them), the tenant ClusterRoles (render.ClusterRoles), the priority
// level tenants share and the cluster-admins FlowSchema
// (render.SharedPriorityLevel, render.AdminsFlowSchemaFor), the webhook
// configurations (webhook.Configurations) and the webhook's serving
// certificate Secret.
//
// One controller does it, on the leader only. It watches every kept kind,
// narrowed to the objects labelled as Bulkhead's, and any change to any of
// them (an edit, a deletion) brings one reconcile of the whole set: drift is
// reverted at once rather than at the next timed round, and an unchanged
// object costs a cache read, never a write (ssa.Apply). Admission policies
// and bindings labelled as Bulkhead's that it no longer renders are deleted,
// so that a rule dropped from Bulkhead stops being enforced. The only timed
// wake-up is the certificate's renewal.
//
// Whether the API server serves MutatingAdmissionPolicy is asked at every
// round (package discovery), and decides between the mutating policies and
// the webhook's fallback defaults; the mutating policies are watched only if
// they were served when the manager started. When discovery fails, the round
// still keeps what does not depend on the answer (the ClusterRoles, the
// validating policies and the validating webhook configuration), leaves the
// mutating policies, the mutating webhook configuration and their pruning
// alone, and fails so that it is retried.
//
// A failure to keep the set is said where operators look: a Warning Event on
// the object that could not be written, the
// bulkhead_cluster_object_apply_errors_total counter and the
// bulkhead_cluster_objects_ready gauge, and the ClusterObjectsReady
// condition on every Tenant (written only when it changes), since every
// tenant's isolation rests on these objects.
//
// The serving certificate's Secret is the one object not applied: it is
// created if absent and updated at the resourceVersion read, so that two
// leaders overlapping during a lease handover cannot each overwrite the
// other's certificate; the one that loses reads the winner's at its next
// round.
//
// Renewal overlaps the old and the new CA. Every renewal issues a new CA
// and moves the one it replaces to the Secret's ca-previous.crt (while the
// certificate it signed has not expired), and the webhook configurations
// trust both (caBundle): a replica still serving the old certificate until
// its files follow the Secret is trusted meanwhile. The old CA's key was
// never kept, so it vouches only for the renewed certificate, which expires
// within the renewal margin; it stays until the next renewal replaces it.
//
// Every replica serves the webhook, so every replica needs the certificate
// files; CertFiles copies them from the Secret to disk on every replica, only
// when the Secret holds a certificate it may serve (within its validity, for
// its hosts), and never writes to the API server. Before the manager starts,
// WriteInitialFiles gives the webhook server files to start with (see there).
//
// The package must not render objects itself (render and webhook do) nor
// write except through ssa.Apply, the Secret aside.
package keeper
