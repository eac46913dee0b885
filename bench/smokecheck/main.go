// Command smokecheck checks that benchmarks run at a tiny size completed
// and wrote their figures: for each name, bench/results/<name>.json exists,
// was written after -since, and has rows whose figures are numbers. It
// judges nothing about the figures themselves: at a tiny size they mean
// nothing, and no benchmark ever fails on time.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/bulkhead-dev/bulkhead/bench/internal/report"
)

func main() {
	since := flag.Int64("since", 0, "Unix time the smoke run started; results written before it are stale.")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: smokecheck -since UNIXTIME NAME...")
		flag.PrintDefaults()
	}
	flag.Parse()
	failed := false
	for _, name := range flag.Args() {
		if err := check(name, time.Unix(*since, 0)); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", name, err)
			failed = true
			continue
		}
		fmt.Printf("bench %s: completed and wrote its figures\n", name)
	}
	if failed || flag.NArg() == 0 {
		os.Exit(1)
	}
}

func check(name string, since time.Time) error {
	r, err := report.Read(name)
	if err != nil {
		return err
	}
	if r.Finished.Before(since) {
		return fmt.Errorf("%s/%s.json was written at %s, before this run began: the benchmark did not finish", report.Dir, name, r.Finished.Format(time.RFC3339))
	}
	if len(r.Rows) == 0 {
		return fmt.Errorf("%s/%s.json has no rows", report.Dir, name)
	}
	for i, row := range r.Rows {
		for k, v := range row {
			if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				return fmt.Errorf("row %d: %s is %v", i, k, f)
			}
		}
	}
	if r.Machine.Cores == 0 || r.Machine.Bulkhead == "" {
		return fmt.Errorf("the machine is not described: %+v", r.Machine)
	}
	return nil
}
