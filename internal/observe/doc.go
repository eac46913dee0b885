// Package observe is what Bulkhead tells the people who run it, beyond
// conditions: Prometheus metrics per tenant, counts of the webhooks'
// decisions by rule, and Kubernetes Events on the Tenant when a condition
// changes and when a webhook refuses one of its requests.
//
// Per-tenant figures are read at scrape time from the manager's cache
// (TenantCollector), not kept in counters the controllers update: a
// deleted Tenant's series go with it, and nothing is kept in two places.
// Every label set is bounded by one series per tenant per resource (or
// per condition type); the webhook decisions carry the webhook and the
// rule, never the tenant, which the Events on the Tenant say instead.
//
// Reconcile duration and errors are controller-runtime's own
// (controller_runtime_reconcile_time_seconds and
// controller_runtime_reconcile_errors_total, by controller). Denials by
// the admission policies, which the API server evaluates itself, never
// reach Bulkhead: the API server counts them
// (apiserver_validating_admission_policy_check_total, by policy and
// enforcement action) and its audit log holds each, with the rule in the
// message.
package observe
