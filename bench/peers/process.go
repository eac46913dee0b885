package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
)

// process is a program the benchmark runs, in a process group of its own
// so that it and whatever it starts are stopped together.
type process struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// startProcess runs binary with args and env added to this process's
// environment (later entries win), its output going to the file logPath.
func startProcess(binary string, args, env []string, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log %s: %w", logPath, err)
	}
	defer logFile.Close()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	p := &process{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// failed reports that the process has exited.
func (p *process) failed() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%s); see %s", p.cmd.Path, p.cmd.ProcessState, p.log)
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group, and SIGKILL after ten seconds.
func (p *process) stop() {
	devcluster.StopGroup(p.cmd.Process.Pid, 10*time.Second, p.exited)
}

// checkPortFree fails when something listens on port on any address.
func checkPortFree(port int) error {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	return l.Close()
}
