package crash

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// The manager's leader election, as controller-runtime runs it by default
// (setup.NewManager sets no durations of its own).
const (
	leaseDuration = 15 * time.Second
	retryPeriod   = 2 * time.Second
	// leaseName is setup.NewManager's LeaderElectionID.
	leaseName = "bulkhead-manager.tenancy.bulkhead.dev"
)

// replica is one bulkhead-manager process of the two config/default runs.
// Its ports stay the same across restarts, as a pod's address behind a
// Service would: the leader's keeper writes its own webhook URL into the
// webhook configurations, so the API server follows leadership.
type replica struct {
	name        string
	webhookPort int
	metricsPort int
	starts      int
	proc        *testenv.ManagerProcess
	// held says the test killed the replica and restarts it itself.
	held bool
	// down says the replica exited on its own and has not started again.
	down bool
}

// replicas runs two managers and, like a kubelet, restarts one that exits
// on its own (a manager that cannot renew its lease while the API server is
// down exits, by design, rather than go on reconciling without it).
type replicas struct {
	t    *testing.T
	mu   sync.Mutex
	set  [2]*replica
	stop chan struct{}
	done chan struct{}
	// selfExits counts the exits the test did not cause.
	selfExits int
}

func startReplicas(t *testing.T) *replicas {
	t.Helper()
	rs := &replicas{t: t, stop: make(chan struct{}), done: make(chan struct{})}
	for i, name := range []string{"a", "b"} {
		r := &replica{name: name}
		var err error
		if r.webhookPort, err = devcluster.FreePort(); err != nil {
			t.Fatal(err)
		}
		if r.metricsPort, err = devcluster.FreePort(); err != nil {
			t.Fatal(err)
		}
		rs.set[i] = r
		if err := rs.start(r); err != nil {
			t.Fatal(err)
		}
		// The first replica is the leader before the second starts, so
		// that the test knows which one it kills first.
		if i == 0 {
			if _, err := rs.waitLeader(time.Minute); err != nil {
				t.Fatal(err)
			}
		}
	}
	go rs.supervise()
	t.Cleanup(rs.shutdown)
	return rs
}

// start runs r's manager process, its log numbered by the start.
func (rs *replicas) start(r *replica) error {
	r.starts++
	p, err := testenv.StartManagerProcess(cluster, testenv.ManagerConfig{
		Settings:       settings,
		WebhookPort:    r.webhookPort,
		CertDir:        filepath.Join(cluster.Dir, "webhook-certs-"+r.name),
		LeaderElection: true,
	}, testenv.ProcessOptions{
		Binary: binary,
		Log:    filepath.Join(cluster.Dir, "logs", fmt.Sprintf("bulkhead-manager-%s-%d.log", r.name, r.starts)),
		// Metrics on, on a port of the replica's own: they say which
		// replica leads (leader_election_master_status). A later flag
		// overrides the "0" StartManagerProcess gives.
		ExtraArgs: []string{"--metrics-bind-address", "127.0.0.1:" + strconv.Itoa(r.metricsPort)},
	})
	if err != nil {
		return fmt.Errorf("starting manager %s: %w", r.name, err)
	}
	r.proc = p
	return nil
}

// supervise restarts a replica that exited without the test killing it.
func (rs *replicas) supervise() {
	defer close(rs.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-rs.stop:
			return
		case <-tick.C:
		}
		rs.mu.Lock()
		for _, r := range rs.set {
			if r.held || r.proc.Failed() == nil {
				continue
			}
			if !r.down {
				r.down = true
				rs.selfExits++
				rs.t.Logf("manager %s exited on its own (see %s); restarting it", r.name, r.proc.Log)
			}
			// A failed start (the API server still down) is retried at
			// the next tick, as a kubelet retries a crashing container.
			if err := rs.start(r); err == nil {
				r.down = false
				rs.t.Logf("manager %s started again", r.name)
			}
		}
		rs.mu.Unlock()
	}
}

func (rs *replicas) shutdown() {
	close(rs.stop)
	<-rs.done
	for _, r := range rs.set {
		if r.proc != nil {
			r.proc.Stop()
		}
	}
}

// leading reports whether r's manager holds the lease, by its metrics.
func (r *replica) leading() bool {
	if r.proc == nil || r.proc.Failed() != nil {
		return false
	}
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(r.metricsPort) + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "leader_election_master_status{") && strings.Contains(line, `name="`+leaseName+`"`) {
			return strings.HasSuffix(line, " 1")
		}
	}
	return false
}

// waitLeader waits until exactly one replica leads, and returns it.
func (rs *replicas) waitLeader(within time.Duration) (*replica, error) {
	deadline := time.Now().Add(within)
	for {
		rs.mu.Lock()
		var leaders []*replica
		for _, r := range rs.set {
			if r != nil && r.leading() {
				leaders = append(leaders, r)
			}
		}
		rs.mu.Unlock()
		if len(leaders) == 1 {
			return leaders[0], nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d managers lead after %s, want one", len(leaders), within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// killLeader kills the leading manager with SIGKILL, waits until the other
// replica takes over, starts the killed one again as the standby, and
// returns how long the take-over took from the kill.
func (rs *replicas) killLeader(ctx context.Context) (string, time.Duration, error) {
	leader, err := rs.waitLeader(time.Minute)
	if err != nil {
		return "", 0, err
	}
	rs.mu.Lock()
	leader.held = true
	leader.proc.Kill()
	rs.mu.Unlock()
	killed := time.Now()
	var standby *replica
	for _, r := range rs.set {
		if r != leader {
			standby = r
		}
	}
	var took time.Duration
	for {
		rs.mu.Lock()
		leads := standby.leading()
		rs.mu.Unlock()
		if leads {
			took = time.Since(killed)
			break
		}
		if time.Since(killed) > 2*time.Minute {
			return leader.name, 0, fmt.Errorf("manager %s did not take over from %s within two minutes", standby.name, leader.name)
		}
		select {
		case <-ctx.Done():
			return leader.name, 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	leader.held = false
	if err := rs.start(leader); err != nil {
		return leader.name, took, err
	}
	return leader.name, took, nil
}
