// Package workers runs a benchmark's setup in parallel.
package workers

import "sync"

// Run runs f(0..n-1) on workers goroutines and returns the first error; it
// stops handing out work once one fails.
func Run(n, workers int, f func(int) error) error {
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var first error
feed:
	for i := 0; i < n; i++ {
		select {
		case jobs <- i:
		case first = <-errs:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if first == nil {
		first = <-errs
	}
	return first
}
