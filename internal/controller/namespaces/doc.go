// Package namespaces keeps every tenant namespace labelled as render.Namespace
// says (tenant label, Pod Security levels, locked labels and annotations),
// reports NamespacesReady, and on Tenant deletion deletes or retains the
// namespaces per namespaces.deletionPolicy. Which tenant a new namespace
// belongs to is decided by the namespace webhook, not here.
//
// Deletion state machine, driven by the tenancy.bulkhead.dev/namespaces
// finalizer: Tenant deleting -> (Delete) delete every tenant namespace, or
// (Retain) lock each -> remove the finalizer. The other concerns remove
// their objects only once this finalizer is gone (see concern.Reconciler),
// so a retained namespace passes from the tenant's NetworkPolicies and
// admission rules to the lock without a moment open in between.
//
// # Retained namespaces
//
// Retain means kept and locked: the workloads and data stay, nobody of the
// former tenant can act there, nothing new runs, until a cluster admin
// adopts the namespace into a tenant or releases it. What the lock consists
// of is listed in internal/render/retained.go; LIFECYCLE.md beside this
// file lists every moment of a namespace's life and the test of each. The
// choices, and why:
//
//   - The label tenancy.bulkhead.dev/retained=<former tenant> replaces the
//     tenant label instead of joining it. Everything that means "a
//     tenant" (NetworkPolicy peers, policy bindings, webhooks, tenant quota,
//     namespace counts) selects on the tenant label, so dropping it takes the
//     namespace out of all of them in one write, and one shared,
//     parameterless policy binding on the retained label locks it. Keeping
//     the tenant label with strictest-profile parameters instead would keep
//     the namespace counted, selected and matched as the dead tenant's, and
//     need a TenantPolicy that no Tenant owns.
//   - New pods are refused outright, whoever asks, rather than held to the
//     restricted profile: a retained namespace has no tenant to answer for
//     what runs there, and a Deployment or CronJob planted earlier must not
//     start anything, compliant-looking or not. Controllers may still write
//     workloads, so that the refusal shows on the ReplicaSet or Job.
//   - Access is removed by deleting RoleBindings, not refused at
//     admission: reads (of Secrets, say) never reach admission. Every
//     binding naming anyone but the platform goes, since with the tenant
//     gone every such subject is a former tenant identity, or unknown.
//   - The deny-all NetworkPolicy is the only NetworkPolicy left: they add up,
//     so one the tenant left behind would re-open it.
//   - RetainedReconciler, keyed by namespace, keeps the lock afterwards:
//     the Tenant is gone, so nothing keyed by Tenant would ever come back to
//     it. It watches namespaces, so adoption and release take effect at
//     once, and checks each retained namespace again every RecheckRetained.
//   - Adoption keeps the lock until the new tenant's NetworkPolicies exist;
//     its admission rules hold from the moment of the label (closed until
//     its TenantPolicy exists). Release removes the lock's NetworkPolicy and
//     leaves Pod Security at restricted: loosening it is the admin's call.
package namespaces
