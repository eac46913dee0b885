package testenv

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/dns/probe"
)

// DNSBlock is a Corefile server block for the dev cluster, bound to
// 127.0.0.1:port: the kubernetes plugin ("pods verified") behind a cache,
// with the tenant plugin in front when tenant is set, both reading the
// cluster through kubeconfig. Without tenant it is the baseline that
// answers every name.
func DNSBlock(kubeconfig string, port int, tenant bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".:%d {\n    bind 127.0.0.1\n    errors\n", port)
	if tenant {
		fmt.Fprintf(&b, "    tenant cluster.local {\n        kubeconfig %s\n    }\n", kubeconfig)
	}
	fmt.Fprintf(&b, "    cache 30\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n        kubeconfig %s\n        pods verified\n    }\n}\n", kubeconfig)
	return b.String()
}

// StartDNSProcess runs bin/bulkhead-dns (make build writes it) with
// corefile, and waits until it answers kubernetes.default on port.
func StartDNSProcess(cluster *devcluster.Cluster, name, corefile string, port int) (*exec.Cmd, error) {
	conf := filepath.Join(cluster.Dir, name+".Corefile")
	if err := os.WriteFile(conf, []byte(corefile), 0o600); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(cluster.Dir, "logs", name+".log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(RepoRoot(), "bin", "bulkhead-dns"), "-conf", conf)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting bin/bulkhead-dns (make build writes it): %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	server := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(time.Minute)
	for {
		m, _, err := probe.Ask(netip.MustParseAddr("127.0.0.1"), server, "kubernetes.default.svc.cluster.local", dns.TypeA)
		if err == nil && m.Rcode == dns.RcodeSuccess {
			return cmd, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("bulkhead-dns exited; see %s", logFile.Name())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("bulkhead-dns not answering after a minute (last: %v); see %s: %w", m, logFile.Name(), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
