// Command kubectl-bulkhead is the kubectl plugin for Bulkhead's tenants and
// admins; copied onto PATH, kubectl runs it as `kubectl bulkhead`. See
// --help.
package main

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/bulkhead-dev/bulkhead/internal/cli"
)

func main() {
	cmd := cli.NewCommand(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	if err := cmd.Execute(); err != nil {
		if !errors.Is(err, cli.ErrChecksFailed) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}
