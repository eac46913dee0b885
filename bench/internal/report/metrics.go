package report

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// Metrics are metric families by name, as scraped at one moment.
type Metrics map[string]*dto.MetricFamily

// ScrapeAPIServer reads the API server's /metrics with cfg.
func ScrapeAPIServer(ctx context.Context, cfg *rest.Config) (Metrics, error) {
	return testenv.ScrapeAPIServer(ctx, cfg)
}

// ScrapeSelf reads this process's controller-runtime registry: the metrics
// of a manager running in it.
func ScrapeSelf() (Metrics, error) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	out := make(Metrics, len(families))
	for _, f := range families {
		out[f.GetName()] = f
	}
	return out, nil
}

// Histogram sums the count and sum of histogram name over the series whose
// labels include every pair of match.
func (m Metrics) Histogram(name string, match map[string]string) (count uint64, sum float64) {
	f := m[name]
	if f == nil {
		return 0, 0
	}
	for _, series := range f.GetMetric() {
		if h := series.GetHistogram(); h != nil && matches(series, match) {
			count += h.GetSampleCount()
			sum += h.GetSampleSum()
		}
	}
	return count, sum
}

// Counter sums counter name over the series whose labels include every
// pair of match.
func (m Metrics) Counter(name string, match map[string]string) float64 {
	f := m[name]
	if f == nil {
		return 0
	}
	var total float64
	for _, series := range f.GetMetric() {
		if c := series.GetCounter(); c != nil && matches(series, match) {
			total += c.GetValue()
		}
	}
	return total
}

func matches(series *dto.Metric, match map[string]string) bool {
	found := 0
	for _, l := range series.GetLabel() {
		if want, ok := match[l.GetName()]; ok && want == l.GetValue() {
			found++
		}
	}
	return found == len(match)
}

// MeanDelta is the mean of histogram name over the observations made
// between before and after, in seconds, and how many there were.
func MeanDelta(before, after Metrics, name string, match map[string]string) (mean float64, n uint64) {
	c0, s0 := before.Histogram(name, match)
	c1, s1 := after.Histogram(name, match)
	if c1 <= c0 {
		return 0, 0
	}
	return (s1 - s0) / float64(c1-c0), c1 - c0
}

// HistogramBy sums histogram name by the value of label: count and sum of
// each.
func (m Metrics) HistogramBy(name, label string) map[string]Observed {
	out := map[string]Observed{}
	m.eachBy(name, label, func(value string, series *dto.Metric) {
		if h := series.GetHistogram(); h != nil {
			o := out[value]
			o.Count += h.GetSampleCount()
			o.Sum += h.GetSampleSum()
			out[value] = o
		}
	})
	return out
}

// eachBy calls f with each series of metric name that carries label, and
// the label's value.
func (m Metrics) eachBy(name, label string, f func(value string, series *dto.Metric)) {
	for _, series := range m[name].GetMetric() {
		for _, l := range series.GetLabel() {
			if l.GetName() == label {
				f(l.GetValue(), series)
			}
		}
	}
}

// Observed is a histogram's count and sum (seconds).
type Observed struct {
	Count uint64
	Sum   float64
}

// MeansBy is, for each value of label, the mean of histogram name over the
// observations made between before and after, and how many there were.
func MeansBy(before, after Metrics, name, label string) map[string]Observed {
	b, a := before.HistogramBy(name, label), after.HistogramBy(name, label)
	out := map[string]Observed{}
	for k, o := range a {
		d := Observed{Count: o.Count - b[k].Count, Sum: o.Sum - b[k].Sum}
		if d.Count > 0 {
			out[k] = d
		}
	}
	return out
}

// CounterBy sums counter name by the value of label.
func (m Metrics) CounterBy(name, label string) map[string]float64 {
	out := map[string]float64{}
	m.eachBy(name, label, func(value string, series *dto.Metric) {
		if c := series.GetCounter(); c != nil {
			out[value] += c.GetValue()
		}
	})
	return out
}

// GaugeBy reads gauge name by the value of label.
func (m Metrics) GaugeBy(name, label string) map[string]float64 {
	out := map[string]float64{}
	m.eachBy(name, label, func(value string, series *dto.Metric) {
		if g := series.GetGauge(); g != nil {
			out[value] += g.GetValue()
		}
	})
	return out
}

// RequestsByVerb are the API server's requests between before and after,
// by verb.
func RequestsByVerb(before, after Metrics) map[string]float64 {
	b, a := before.CounterBy("apiserver_request_total", "verb"), after.CounterBy("apiserver_request_total", "verb")
	out := map[string]float64{}
	for verb, n := range a {
		if d := n - b[verb]; d > 0 {
			out[verb] = d
		}
	}
	return out
}

// RequestsByResource are the API server's requests with verb between
// before and after, by resource (and subresource).
func RequestsByResource(before, after Metrics, verb string) map[string]float64 {
	count := func(m Metrics) map[string]float64 {
		out := map[string]float64{}
		f := m["apiserver_request_total"]
		if f == nil {
			return out
		}
		for _, series := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range series.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["verb"] != verb {
				continue
			}
			key := labels["resource"]
			if labels["subresource"] != "" {
				key += "/" + labels["subresource"]
			}
			out[key] += series.GetCounter().GetValue()
		}
		return out
	}
	b, a := count(before), count(after)
	out := map[string]float64{}
	for k, n := range a {
		if d := n - b[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// ProfileAPIServer records the API server's CPU profile for d with cfg
// and writes it to path, for `go tool pprof`: where the API server's time
// goes while a benchmark runs.
func ProfileAPIServer(ctx context.Context, cfg *rest.Config, d time.Duration, path string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	seconds := strconv.Itoa(int(d.Seconds()))
	raw, err := cs.RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", seconds).Timeout(d + time.Minute).DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("profiling the API server: %w", err)
	}
	return os.WriteFile(path, raw, 0o644)
}
