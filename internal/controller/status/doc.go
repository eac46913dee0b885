// Package status writes the Tenant's summary: its namespaces, their count,
// observedGeneration, and Ready, computed by the pure Ready function from the
// conditions the concern controllers own. It writes no other condition, and
// writes through tenantstatus like every other writer of Tenant status.
package status
