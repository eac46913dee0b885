package keeper

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The keeper's metrics, on the manager's metrics endpoint: a failed round
// shows on dashboards and alerts, not only in a log line.
var (
	applyErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bulkhead_cluster_object_apply_errors_total",
		Help: "Failed writes (or deletions) of the cluster-wide objects Bulkhead keeps, by kind.",
	}, []string{"kind"})
	writes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bulkhead_cluster_object_writes_total",
		Help: "Writes of the cluster-wide objects Bulkhead keeps, by kind: each one created, restored or updated an object that differed from its rendering.",
	}, []string{"kind"})
	// objectsReady has no labels but is a vector all the same: a vector
	// exports nothing until set, so replicas that never led say nothing
	// rather than 0.
	objectsReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bulkhead_cluster_objects_ready",
		Help: "On the leader: 1 when the last round found or put every cluster-wide object Bulkhead keeps in place; 0 when one could not be written.",
	}, nil)
)

func init() {
	metrics.Registry.MustRegister(applyErrors, writes, objectsReady)
}
