package devcluster

// The tests in this file start real control-plane processes: they belong to
// the end-to-end tier (make test-e2e), and skip where no binaries are given
// (make test-unit).

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func TestStartStopFullCluster(t *testing.T) {
	requireBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := Full("", 1)
	o.Nodes[0].Labels = map[string]string{"pool": "gpu"}
	o.Nodes[0].Taints = []corev1.Taint{{Key: "pool", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	c, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range c.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	cs := kubernetes.NewForConfigOrDie(c.Config)

	// kwok marks the node Ready and keeps its labels and taints.
	waitFor(t, 60*time.Second, "node-1 Ready", func() bool {
		n, err := cs.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return n.Labels["pool"] == "gpu" && len(n.Spec.Taints) == 1
			}
		}
		return false
	})
	// The controller-manager's serviceaccount controller is running.
	waitFor(t, 60*time.Second, "default service account", func() bool {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
	// The scheduler binds a pod that tolerates the taint, and kwok runs it.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{
			Containers:  []corev1.Container{{Name: "c", Image: "example.invalid/app"}},
			Tolerations: []corev1.Toleration{{Key: "pool", Operator: corev1.TolerationOpExists}},
		},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "pod running on node-1", func() bool {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{})
		return err == nil && p.Spec.NodeName == "node-1" && p.Status.Phase == corev1.PodRunning
	})
	if _, err := os.Stat(c.Dir + "/logs/audit.log"); err != nil {
		t.Errorf("audit log: %v", err)
	}

	c.Stop()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d still running after Stop", pid)
		}
	}
}

func TestStartFailsClearlyWhenPortTaken(t *testing.T) {
	requireBinaries(t)
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := listen(port)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = Start(context.Background(), Options{APIServerPort: port})
	if err == nil || !strings.Contains(err.Error(), "is taken") {
		t.Fatalf("want a port-taken error, got %v", err)
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// requireBinaries skips the test unless the control-plane binaries are given.
func requireBinaries(t *testing.T) {
	t.Helper()
	if os.Getenv("BULKHEAD_K8S_BIN") == "" {
		t.Skip("BULKHEAD_K8S_BIN not set; make test-e2e sets it")
	}
}

func TestRestartAPIServerKeepsData(t *testing.T) {
	requireBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kept", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := c.procs[1].cmd.Process.Pid
	started := time.Now()
	if err := c.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server restarted in %s", time.Since(started).Round(100*time.Millisecond))
	if after := c.procs[1].cmd.Process.Pid; after == before {
		t.Errorf("kube-apiserver still has pid %d: it was not restarted", before)
	}
	if err := syscall.Kill(before, 0); err == nil {
		t.Errorf("the previous kube-apiserver (pid %d) still runs", before)
	}
	got, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "kept", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("ConfigMap after the restart: %v %v, want it kept by etcd", got, err)
	}
	pids, err := os.ReadFile(c.Dir + "/" + pidFile)
	if err != nil || !strings.Contains(string(pids), strconv.Itoa(c.procs[1].cmd.Process.Pid)) {
		t.Errorf("pid file does not name the new kube-apiserver: %q %v", pids, err)
	}
}
