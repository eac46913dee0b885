package devcluster

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one control-plane binary running in its own process group, so
// that stopping it also stops anything it started.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

func startProcess(name, binary string, args []string, logDir string) (*process, error) {
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("devcluster: %s not found at %s; build the control plane with `make k8s`", name, binary)
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log for %s: %w", name, err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A new session: the process survives the command that started it (the
	// demo leaves the cluster running) and can be stopped as a group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// failed says whether the process has already exited, with the end of its log.
func (p *process) failed() error {
	select {
	case <-p.exited:
		return fmt.Errorf("devcluster: %s exited early: %s", p.name, tail(p.logPath, 15))
	default:
		return nil
	}
}

func (p *process) stop(timeout time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	StopGroup(p.cmd.Process.Pid, timeout, p.exited)
}

// StopGroup sends SIGTERM to process group pid, then SIGKILL after timeout.
// done, when not nil, is closed when the leader has been reaped.
func StopGroup(pid int, timeout time.Duration, done <-chan struct{}) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if done != nil {
			select {
			case <-done:
				_ = syscall.Kill(-pid, syscall.SIGKILL) // children of the leader, if any
				return
			case <-time.After(50 * time.Millisecond):
			}
		} else {
			if syscall.Kill(pid, 0) != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	if done != nil {
		<-done
	}
}

// FreePort asks the kernel for an unused loopback port. Another process may
// take it before the caller listens; callers fail clearly when that happens.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// checkPortFree fails with a clear message when a chosen port is taken.
func checkPortFree(port int) error {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("devcluster: port %d on 127.0.0.1 is taken (%w); stop what uses it or choose another", port, err)
	}
	return l.Close()
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	all := strings.Split(strings.TrimRight(string(bytes.TrimSpace(data)), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return "\n  " + strings.Join(all, "\n  ") + "\n  (full log: " + path + ")"
}

func listen(port int) (net.Listener, error) {
	return net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
}
