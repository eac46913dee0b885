package devcluster

// The test in this file starts real control-plane processes: it belongs to
// the end-to-end tier (make test-e2e), and skips where no binaries are given
// (make test-unit).

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// podMetrics is the part of metrics.k8s.io/v1beta1 PodMetrics the test reads.
type podMetrics struct {
	Containers []struct {
		Name  string              `json:"name"`
		Usage corev1.ResourceList `json:"usage"`
	} `json:"containers"`
}

// nodeMetricsList is the part of metrics.k8s.io/v1beta1 NodeMetricsList the
// test reads.
type nodeMetricsList struct {
	Items []struct {
		Metadata metav1.ObjectMeta   `json:"metadata"`
		Usage    corev1.ResourceList `json:"usage"`
	} `json:"items"`
}

func TestMetricsServeSimulatedUsage(t *testing.T) {
	requireBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := Full("", 2)
	o.Metrics = true
	started := time.Now()
	c, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	t.Logf("cluster with metrics-server started in %s", time.Since(started).Round(100*time.Millisecond))
	cs := kubernetes.NewForConfigOrDie(c.Config)

	// The pod is created first, so that its scrapes overlap the wait for
	// the nodes' first figures.
	waitFor(t, 60*time.Second, "default service account", func() bool {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "busy", Namespace: "default",
			Annotations: map[string]string{UsageCPUAnnotation: "200m", UsageMemoryAnnotation: "300Mi"},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "app", Image: "example.invalid/app"},
			{Name: "sidecar", Image: "example.invalid/sidecar"},
		}},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "pod running", func() bool {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "busy", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning
	})
	running := time.Now()

	if err := c.WaitMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("every node's usage listed %s after Start was called", time.Since(started).Round(100*time.Millisecond))
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/nodes").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var nodes nodeMetricsList
	if err := json.Unmarshal(body, &nodes); err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 2 {
		t.Errorf("NodeMetrics for %d nodes, want 2: %s", len(nodes.Items), body)
	}
	for _, n := range nodes.Items {
		// Every node reports at least its own overhead, 100m and 256Mi.
		if cpu, memory := n.Usage[corev1.ResourceCPU], n.Usage[corev1.ResourceMemory]; cpu.Cmp(resource.MustParse("95m")) < 0 || memory.Cmp(resource.MustParse("256Mi")) < 0 {
			t.Errorf("node %s uses cpu %s, memory %s; want at least about 100m and 256Mi", n.Metadata.Name, &cpu, &memory)
		}
	}

	// Each container uses what the annotations say, less at most a fifth.
	var got podMetrics
	waitFor(t, 60*time.Second, "PodMetrics of both containers", func() bool {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy").DoRaw(ctx)
		if err != nil {
			return false
		}
		got = podMetrics{}
		return json.Unmarshal(body, &got) == nil && len(got.Containers) == 2
	})
	t.Logf("PodMetrics served %s after the pod ran", time.Since(running).Round(100*time.Millisecond))
	between := func(q resource.Quantity, low, high string) bool {
		return q.Cmp(resource.MustParse(low)) >= 0 && q.Cmp(resource.MustParse(high)) <= 0
	}
	for _, ctr := range got.Containers {
		cpu, memory := ctr.Usage[corev1.ResourceCPU], ctr.Usage[corev1.ResourceMemory]
		// CPU is a rate over two scrapes, whose clocks differ a little
		// from kwok's: a few millicores either side of 160m-200m.
		if !between(cpu, "150m", "205m") {
			t.Errorf("container %s uses cpu %s, want 160m-200m", ctr.Name, &cpu)
		}
		if !between(memory, "240Mi", "300Mi") {
			t.Errorf("container %s uses memory %s, want 240Mi-300Mi", ctr.Name, &memory)
		}
	}
}
