// Package discovery answers what the API server serves, for the parts of
// Bulkhead whose output depends on it (MutatingAdmissionPolicy, at
// admissionregistration.k8s.io/v1, is absent from older API servers and from
// those that switch it off). It only reads discovery through a RESTMapper; it
// decides nothing and writes nothing, so controllers and webhooks alike may
// import it without importing each other.
package discovery
