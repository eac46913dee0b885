package tenant

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// The reasons a query is refused.
const (
	reasonRate      = "rate"
	reasonTransfer  = "transfer"
	reasonNotSynced = "not-synced"
)

// The metrics count per tenant; the label is empty for clients of no tenant.
var (
	queries = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "bulkhead", Subsystem: "dns", Name: "queries_total",
		Help: "Queries the tenant plugin let through its token buckets, by tenant (empty: clients of no tenant).",
	}, []string{"tenant"})
	refused = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "bulkhead", Subsystem: "dns", Name: "refused_total",
		Help: "Queries answered REFUSED, by tenant and reason: rate (the token bucket was empty), transfer (AXFR and IXFR), not-synced (the caches had not listed yet).",
	}, []string{"tenant", "reason"})
	hidden = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "bulkhead", Subsystem: "dns", Name: "hidden_total",
		Help: "Queries answered as if the name did not exist, or with records dropped, because they named a namespace the client may not see, by tenant.",
	}, []string{"tenant"})
)
