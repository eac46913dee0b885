// Package discovery answers what the API server serves, for the parts of
// Bulkhead whose output depends on it (MutatingAdmissionPolicy is GA since
// Kubernetes 1.36 and absent from older servers unless switched on). It only
// reads discovery through a RESTMapper; it decides nothing and writes nothing,
// so controllers and webhooks alike may import it without importing each other.
package discovery
