package devcluster

import (
	"context"
	"strings"
	"testing"
)

// The usage kwok simulates is read from the annotations the package
// documents, and metrics-server finds each node's metrics where the node's
// annotation says.
func TestKwokMetricsConfigNamesAnnotationsAndPath(t *testing.T) {
	config := string(kwokMetricsConfig)
	for _, want := range []string{
		`"` + UsageCPUAnnotation + `" in pod.metadata.annotations`,
		`"` + UsageMemoryAnnotation + `" in pod.metadata.annotations`,
		"path: " + resourceMetricsPath("{nodeName}") + "\n",
	} {
		if !strings.Contains(config, want) {
			t.Errorf("kwok-metrics.yaml does not contain %q", want)
		}
	}
	// metrics-server's decoder reads exactly these series.
	for _, series := range []string{
		"node_cpu_usage_seconds_total", "node_memory_working_set_bytes",
		"container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
		"container_start_time_seconds",
	} {
		if !strings.Contains(config, "- name: "+series+"\n") {
			t.Errorf("kwok-metrics.yaml does not serve %s", series)
		}
	}
}

func TestStartWithMetricsNeedsNodes(t *testing.T) {
	_, err := Start(context.Background(), Options{BinDir: t.TempDir(), Metrics: true})
	if err == nil || !strings.Contains(err.Error(), "Metrics needs Options.Nodes") {
		t.Fatalf("want an error saying Metrics needs nodes, got %v", err)
	}
}
