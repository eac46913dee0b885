// Package reserved says, in one place, which namespace label and annotation
// keys and which namespace names belong to Kubernetes, cluster admins and
// Bulkhead rather than to tenants. The namespace webhook, the admission
// policies and the renderer all ask it, so that a key added here is refused
// to tenants everywhere at once.
//
// Every predicate over keys comes with a CEL twin (for admission policies
// and CRD validation rules, which cannot call Go); the tests evaluate both
// on one table and require them to agree.
//
// It must stay a leaf: no client, no Tenant types, no other Bulkhead package.
package reserved
