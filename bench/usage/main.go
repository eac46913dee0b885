// Command usage measures what the rightsizing sampler's histograms cost the
// leading manager and how far their p95 strays: a day of samples for many
// workload containers fed to internal/usage's History, against a baseline
// measured in the same run that keeps every sample and sorts them for an
// exact p95. It prints the time per sample recorded and per p95 read, the
// heap per series, and the worst and median relative error of the p95;
// it writes them as JSON and never passes or fails on them.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
	"github.com/bulkhead-dev/bulkhead/internal/usage"
)

func main() {
	series := flag.Int("series", 10000, "Workload containers (one pod each), as many series.")
	samples := flag.Int("samples", 1440, "Samples per series: a day at the default --usage-sample-interval of a minute.")
	runs := flag.Int("runs", 3, "Runs; medians are printed.")
	flag.Parse()
	if err := run(*series, *samples, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "usage:", err)
		os.Exit(1)
	}
}

// workload is one series' usage: a base and a spread, drawn once, so that
// series differ in level and in how much they vary.
type workload struct {
	cpuBase, memBase float64
	spread           float64
}

func (w workload) sample(r *rand.Rand) usage.Amount {
	// Mostly near the base, now and then a burst up to three times it.
	f := 1 + w.spread*(r.Float64()-0.5)
	if r.IntN(50) == 0 {
		f *= 1 + 2*r.Float64()
	}
	return usage.Amount{CPUMilli: max(1, int64(w.cpuBase*f)), MemoryBytes: max(1, int64(w.memBase*f))}
}

type result struct {
	observeNs, statsNs   float64 // per sample recorded, per p95 read
	heapPerSeries        float64 // bytes
	exactNs, exactReadNs float64 // the baseline's
	exactHeap            float64
	worstErr, medianErr  float64 // relative error of the CPU p95
}

func run(nSeries, nSamples, runs int) error {
	rep := report.New("usage", map[string]any{"series": nSeries, "samples": nSamples, "runs": runs})
	var results []result
	for i := 0; i < runs; i++ {
		results = append(results, once(nSeries, nSamples, uint64(i)))
	}
	med := func(f func(result) float64) float64 { return report.MedianOf(results, f) }
	observe, stats := med(func(r result) float64 { return r.observeNs }), med(func(r result) float64 { return r.statsNs })
	exact, exactRead := med(func(r result) float64 { return r.exactNs }), med(func(r result) float64 { return r.exactReadNs })
	heap, exactHeap := med(func(r result) float64 { return r.heapPerSeries }), med(func(r result) float64 { return r.exactHeap })
	worst, median := med(func(r result) float64 { return r.worstErr }), med(func(r result) float64 { return r.medianErr })
	fmt.Printf("\nUsage history: %d series, %d samples each (a day at one a minute), %d runs, median:\n", nSeries, nSamples, runs)
	fmt.Printf("%-34s %14s %14s %8s\n", "", "histograms", "every sample", "ratio")
	fmt.Printf("%-34s %12.0fns %12.0fns\n", "record a sample", observe, exact)
	fmt.Printf("%-34s %12.0fns %12.0fns %8.2f\n", "read a series' p95", stats, exactRead, stats/exactRead)
	day, exactDay := observe*float64(nSamples)+stats, exact*float64(nSamples)+exactRead
	fmt.Printf("%-34s %12.0fns %12.0fns %8.2f\n", "record a day and read its p95", day, exactDay, day/exactDay)
	fmt.Printf("%-34s %13.1fKB %13.1fKB %8.2f\n", "heap per series", heap/1024, exactHeap/1024, heap/exactHeap)
	fmt.Printf("%-34s %13.1fMB %13.1fMB\n", fmt.Sprintf("heap for %d series", nSeries), heap*float64(nSeries)/(1<<20), exactHeap*float64(nSeries)/(1<<20))
	fmt.Printf("p95 from the histograms against the exact p95: median error %.2f%%, worst %.2f%% (buckets are 5%% apart, read rounded up)\n", median*100, worst*100)
	rep.Row("table", "history", "observeNsPerSample", observe, "statsNsPerSeries", stats, "exactNsPerSample", exact, "exactReadNsPerSeries", exactRead,
		"heapBytesPerSeries", heap, "exactHeapBytesPerSeries", exactHeap, "heapRatio", heap/exactHeap,
		"p95MedianRelErr", median, "p95WorstRelErr", worst)
	path, err := rep.Write()
	if err != nil {
		return err
	}
	fmt.Println("\nwrote", path)
	return nil
}

func once(nSeries, nSamples int, seed uint64) result {
	r := rand.New(rand.NewPCG(seed, 7))
	wls := make([]workload, nSeries)
	keys := make([]usage.Key, nSeries)
	for i := range wls {
		wls[i] = workload{cpuBase: 5 + 2000*r.Float64()*r.Float64(), memBase: float64(16<<20) + float64(2<<30)*r.Float64()*r.Float64(), spread: 0.1 + 0.8*r.Float64()}
		keys[i] = usage.Key{Namespace: fmt.Sprintf("ns-%d", i%500), Workload: fmt.Sprintf("Deployment/w-%d", i), Container: "app"}
	}
	// Both sides get the same samples, drawn up front.
	draws := make([][]usage.Amount, nSeries)
	for i := range draws {
		draws[i] = make([]usage.Amount, nSamples)
		for j := range draws[i] {
			draws[i][j] = wls[i].sample(r)
		}
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	before := heapInUse()
	h := &usage.History{Window: 48 * time.Hour} // the whole day in the window
	t0 := time.Now()
	for j := 0; j < nSamples; j++ {
		ts := start.Add(time.Duration(j) * time.Minute)
		for i := range keys {
			h.Observe(types.UID(keys[i].Workload), ts, ts, map[usage.Key]usage.Amount{keys[i]: draws[i][j]})
		}
	}
	var res result
	res.observeNs = float64(time.Since(t0).Nanoseconds()) / float64(nSeries*nSamples)
	res.heapPerSeries = float64(heapInUse()-before) / float64(nSeries)
	end := start.Add(time.Duration(nSamples) * time.Minute)
	got := make([]int64, nSeries)
	t0 = time.Now()
	for i, k := range keys {
		st, _ := h.Stats(k, end)
		got[i] = st.P95.CPUMilli
	}
	res.statsNs = float64(time.Since(t0).Nanoseconds()) / float64(nSeries)

	// The baseline: every sample kept, sorted at read.
	before = heapInUse()
	raw := make(map[usage.Key][]int64, nSeries)
	t0 = time.Now()
	for j := 0; j < nSamples; j++ {
		for i, k := range keys {
			raw[k] = append(raw[k], draws[i][j].CPUMilli, draws[i][j].MemoryBytes)
		}
	}
	res.exactNs = float64(time.Since(t0).Nanoseconds()) / float64(nSeries*nSamples)
	res.exactHeap = float64(heapInUse()-before) / float64(nSeries)
	runtime.KeepAlive(draws)
	var errs []float64
	t0 = time.Now()
	for i, k := range keys {
		cpu := make([]int64, 0, nSamples)
		for j := 0; j < len(raw[k]); j += 2 {
			cpu = append(cpu, raw[k][j])
		}
		slices.Sort(cpu)
		exact := cpu[int(math.Ceil(0.95*float64(len(cpu))))-1]
		errs = append(errs, math.Abs(float64(got[i]-exact))/float64(exact))
	}
	res.exactReadNs = float64(time.Since(t0).Nanoseconds()) / float64(nSeries)
	// Everything measured stays live until both heaps are read: a
	// collection in between would count what it freed against the other.
	runtime.KeepAlive(raw)
	runtime.KeepAlive(h)
	runtime.KeepAlive(draws)
	slices.Sort(errs)
	res.worstErr, res.medianErr = errs[len(errs)-1], errs[len(errs)/2]
	return res
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
