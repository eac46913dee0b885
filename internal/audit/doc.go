// Package audit runs the isolation checks of the Multi-Tenancy Benchmarks
// (the 19 of the retired kubectl-mtb, summarised in Bulkhead's oracles)
// against a live cluster as one tenant identity, for `kubectl bulkhead
// audit` and for the end-to-end suite.
//
// It never leaves anything behind: every check is an access review
// (SelfSubjectAccessReview as the identity) or a server-side dry run of a
// create or delete as the identity. A refusal counts only for the reason
// the check is about (Pod Security naming the field, RBAC naming the verb,
// a Bulkhead rule), never for another (a quota, a missing service
// account): such a check says ERROR, inconclusive, rather than PASS. Checks
// that the tenant's profile does not promise (runAsNonRoot for a Soft
// tenant at Pod Security baseline) say N/A, with the reason.
//
// What is pure lives apart from what asks the API server: which tenant and
// role an identity has (TenantOf), which checks apply (Applies), and how a
// refusal is judged (judgeRefusal) are tables in their tests.
package audit
