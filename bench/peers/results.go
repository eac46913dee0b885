package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
)

// result is one run of one system at one size.
type result struct {
	system string
	n, run int
	// startup is from starting the system until it admitted an owner's
	// namespace.
	startup time.Duration
	// elapsed is the convergence time.
	elapsed             time.Duration
	objects, namespaces int
	refused             int64
	reasons             map[string]int64
	peakRSS             int64 // bytes
	// cpu is the process's CPU time during the workload, cpuTotal since it
	// started.
	cpu, cpuTotal    time.Duration
	requests, writes map[string]float64
	// gets are the API server's GET requests by resource.
	gets    map[string]float64
	latency map[int]latencyStats
}

// header says what the figures mean and how each system runs.
func (b *bench) header() {
	w := b.out
	fmt.Fprintf(w, "Peers: N tenants, one owner and %d namespaces each, created by the owner through each system's webhook;\n", namespacesPerTenant)
	fmt.Fprintf(w, "%d runs per size, a fresh cluster per run, %d tenants set up at once. ", b.o.runs, b.o.workers)
	if b.o.ownersWait {
		fmt.Fprintln(w, "Owners wait until the system shows they may create.")
	} else {
		fmt.Fprintf(w, "Owners retry refused creates every %s.\n", retryEvery)
	}
	fmt.Fprintln(w, "time: from the first Tenant until every namespace and every object the system must create exists (listed, no status read).")
	fmt.Fprintln(w, "RSS: the system's peak resident memory. CPU: its CPU time during the workload. refused: namespace creates it refused.")
	fmt.Fprintln(w, "ns create: afterwards, with the N tenants present, a new tenant's owner creating namespaces; p50/p99 in ms at each client count.")
	fmt.Fprintln(w, "Systems:")
	for _, s := range b.systems {
		fmt.Fprintf(w, "  %-14s %s\n", s.Name(), s.Describe())
	}
	fmt.Fprintln(w)
	cols := []any{"N", "run", "system", "objects", "time", "obj/s", "refused", "peak RSS", "CPU"}
	for _, c := range b.o.clients {
		cols = append(cols, fmt.Sprintf("ns create %dc", c))
	}
	fmt.Fprintf(w, b.rowFormat(), cols...)
}

// rowFormat is the table's row: fixed widths, since rows print as runs
// finish.
func (b *bench) rowFormat() string {
	return "%5s %4s %-14s %8s %8s %6s %8s %9s %7s" + strings.Repeat(" %15s", len(b.o.clients)) + "\n"
}

// noteInstalled prints, once per system, what its installation created.
func (b *bench) noteInstalled(sys system, run *running) {
	if b.installed[sys.Name()] {
		return
	}
	b.installed[sys.Name()] = true
	fmt.Fprintf(b.out, "      (%s: %s)\n", sys.Name(), run.installed)
}

// printRow prints one run's figures, then the API requests it made.
func (b *bench) printRow(r result) {
	cells := []any{strconv.Itoa(r.n), strconv.Itoa(r.run), r.system, strconv.Itoa(r.objects), seconds(r.elapsed),
		fmt.Sprintf("%.0f", float64(r.objects)/r.elapsed.Seconds()), strconv.FormatInt(r.refused, 10),
		fmt.Sprintf("%d MiB", r.peakRSS>>20), seconds(r.cpu)}
	for _, c := range b.o.clients {
		s := r.latency[c]
		cells = append(cells, fmt.Sprintf("%.1f/%.1f", ms(s.p50), ms(s.p99)))
	}
	fmt.Fprintf(b.out, b.rowFormat(), cells...)
	fmt.Fprintf(b.out, "      API requests by verb: %s\n", report.ByCount(r.requests, 0))
	fmt.Fprintf(b.out, "      writes by resource: %s\n", report.ByCount(r.writes, 8))
	fmt.Fprintf(b.out, "      GETs by resource: %s\n", report.ByCount(r.gets, 5))
	if r.refused > 0 {
		fmt.Fprintf(b.out, "      refused: %s\n", topReasons(r.reasons, 3))
	}
	if len(b.o.clients) > 0 {
		var settled []string
		for _, c := range b.o.clients {
			settled = append(settled, fmt.Sprintf("%d clients %s", c, seconds(r.latency[c].settle)))
		}
		fmt.Fprintf(b.out, "      namespaces of each ns-create cell furnished in: %s\n", strings.Join(settled, ", "))
	}
}

// record adds the run to the report.
func (b *bench) record(r result) {
	kv := []any{"n", r.n, "run", r.run, "system", r.system, "objects", r.objects, "namespaces", r.namespaces,
		"seconds", r.elapsed.Seconds(), "startupSeconds", r.startup.Seconds(), "refusedCreates", r.refused, "refusedByReason", r.reasons,
		"peakRSSBytes", r.peakRSS, "cpuSeconds", r.cpu.Seconds(), "cpuTotalSeconds", r.cpuTotal.Seconds(),
		"requestsByVerb", r.requests, "writesByResource", r.writes, "getsByResource", r.gets}
	for _, c := range b.o.clients {
		s := r.latency[c]
		prefix := "nsCreate" + strconv.Itoa(c) + "Clients"
		kv = append(kv, prefix+"P50Ms", ms(s.p50), prefix+"P99Ms", ms(s.p99), prefix+"CPUPerCreateMs", ms(s.cpuPerCreate),
			prefix+"SettleSeconds", s.settle.Seconds())
	}
	b.rep.Row(kv...)
}

// summary are one system's medians at one size.
type summary struct {
	seconds, rssMiB, cpu, refused float64
	p50, p99                      map[int]float64 // ms, by clients
}

// summarize prints, for size n, each system's medians over its runs and
// Bulkhead's figures over each Capsule system's.
func (b *bench) summarize(n int, results []result) {
	medians := map[string]summary{}
	for _, s := range b.systems {
		medians[s.Name()] = b.medians(s.Name(), results)
	}
	fmt.Fprintf(b.out, "\nN=%d, medians over %d runs:\n", n, b.o.runs)
	for _, s := range b.systems {
		m := medians[s.Name()]
		line := fmt.Sprintf("%s: time %.1fs, peak RSS %.0f MiB, CPU %.1fs, refused creates %.0f", s.Name(), m.seconds, m.rssMiB, m.cpu, m.refused)
		for _, c := range b.o.clients {
			line += fmt.Sprintf(", ns create at %d clients p50 %.1fms p99 %.1fms", c, m.p50[c], m.p99[c])
		}
		b.say(n, line)
	}
	bh, ok := medians[systemBulkhead]
	if !ok {
		fmt.Fprintln(b.out)
		return
	}
	for _, name := range []string{systemCapsule, systemCapsuleTuned} {
		if cp, ok := medians[name]; ok {
			b.say(n, "bulkhead ÷ "+name+": "+ratios(bh, cp, b.o.clients))
		}
	}
	fmt.Fprintln(b.out)
}

// say prints a summary line and keeps it for the report.
func (b *bench) say(n int, line string) {
	fmt.Fprintln(b.out, "  "+line)
	b.rep.Summary = append(b.rep.Summary, fmt.Sprintf("N=%d: %s", n, line))
}

// medians are system's medians over its results.
func (b *bench) medians(system string, results []result) summary {
	var mine []result
	for _, r := range results {
		if r.system == system {
			mine = append(mine, r)
		}
	}
	m := summary{p50: map[int]float64{}, p99: map[int]float64{}}
	m.seconds = median(mine, func(r result) float64 { return r.elapsed.Seconds() })
	m.rssMiB = median(mine, func(r result) float64 { return float64(r.peakRSS) / (1 << 20) })
	m.cpu = median(mine, func(r result) float64 { return r.cpu.Seconds() })
	m.refused = median(mine, func(r result) float64 { return float64(r.refused) })
	for _, c := range b.o.clients {
		m.p50[c] = median(mine, func(r result) float64 { return ms(r.latency[c].p50) })
		m.p99[c] = median(mine, func(r result) float64 { return ms(r.latency[c].p99) })
	}
	return m
}

// ratios prints a's figures over b's: below 1, a takes less.
func ratios(a, b summary, clients []int) string {
	parts := []string{
		"time " + ratio(a.seconds, b.seconds),
		"peak RSS " + ratio(a.rssMiB, b.rssMiB),
		"CPU " + ratio(a.cpu, b.cpu),
	}
	for _, c := range clients {
		parts = append(parts, fmt.Sprintf("ns create at %d clients p50 %s p99 %s", c, ratio(a.p50[c], b.p50[c]), ratio(a.p99[c], b.p99[c])))
	}
	return strings.Join(parts, ", ")
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func median(rs []result, f func(result) float64) float64 { return report.MedianOf(rs, f) }

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
