// Package report is what every benchmark shares: the figures of a run
// written as JSON beside its printed table (bench/results/<name>.json), so
// that runs can be compared, and the /proc readings the figures come from.
package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Dir is where results are written, relative to the repository root, the
// directory `make bench` runs in. Git ignores it.
const Dir = "bench/results"

// Report is one benchmark run.
type Report struct {
	// Name names the benchmark; the file is <Name>.json.
	Name string `json:"name"`
	// Started and Finished bound the run.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Machine says what the figures were measured on.
	Machine Machine `json:"machine"`
	// Params are the benchmark's flags.
	Params map[string]any `json:"params"`
	// Rows are the table's rows, one object per row, keyed by column.
	Rows []map[string]any `json:"rows"`
	// Summary are the lines printed after the table.
	Summary []string `json:"summary,omitempty"`
}

// Machine describes where a run happened.
type Machine struct {
	Cores      int    `json:"cores"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"goVersion"`
	Kubernetes string `json:"kubernetes"`
	Bulkhead   string `json:"bulkhead"`
}

// New starts the report of benchmark name run with params.
func New(name string, params map[string]any) *Report {
	return &Report{
		Name:    name,
		Started: time.Now().UTC(),
		Params:  params,
		Machine: Machine{
			Cores:      runtime.NumCPU(),
			GOOS:       runtime.GOOS,
			GOARCH:     runtime.GOARCH,
			GoVersion:  runtime.Version(),
			Kubernetes: kubernetesVersion(),
			Bulkhead:   revision(),
		},
	}
}

// Row adds a row; kv are column, value pairs.
func (r *Report) Row(kv ...any) {
	row := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		row[fmt.Sprint(kv[i])] = kv[i+1]
	}
	r.Rows = append(r.Rows, row)
}

// Write writes the report to Dir/<Name>.json and returns the path.
func (r *Report) Write() (string, error) {
	r.Finished = time.Now().UTC()
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(Dir, r.Name+".json")
	return path, os.WriteFile(path, append(data, '\n'), 0o644)
}

// Read reads the report of benchmark name from Dir.
func Read(name string) (*Report, error) {
	data, err := os.ReadFile(filepath.Join(Dir, name+".json"))
	if err != nil {
		return nil, err
	}
	r := &Report{}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// kubernetesVersion is the version of the control plane the benchmark
// runs, the name of the directory make builds it into (bin/k8s/<version>).
func kubernetesVersion() string {
	if dir := os.Getenv("BULKHEAD_K8S_BIN"); dir != "" {
		return filepath.Base(dir)
	}
	return "unknown"
}

// revision is the commit the benchmark was built from, with "+dirty" when
// the tree had changes: from the build info when go embedded it, else git.
func revision() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			return rev + dirty
		}
	}
	out, err := exec.Command("git", "describe", "--always", "--dirty=+dirty", "--abbrev=40").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// PeakRSS reads the high-water resident set size of process pid.
func PeakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// CPUTime reads the user and system CPU time process pid has used.
func CPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}

// CPUMeter sums the CPU time of a set of processes, to tell how much of the
// machine a measurement used.
type CPUMeter []int

// Total is the CPU time the meter's processes have used so far; a process
// that is gone counts for nothing.
func (m CPUMeter) Total() time.Duration {
	var sum time.Duration
	for _, pid := range m {
		if d, err := CPUTime(pid); err == nil {
			sum += d
		}
	}
	return sum
}

// MedianOf is the median of f over items; 0 for none.
func MedianOf[T any](items []T, f func(T) float64) float64 {
	if len(items) == 0 {
		return 0
	}
	v := make([]float64, len(items))
	for i, item := range items {
		v[i] = f(item)
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// Latencies are the durations of one cell's requests.
type Latencies []time.Duration

// Quantile is the q-quantile (0.5: the median) in milliseconds.
func (l Latencies) Quantile(q float64) float64 {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return float64(s[int(q*float64(len(s)-1))].Microseconds()) / 1000
}
