// Command chart renders Capsule's own Helm chart, as `helm template` would,
// from the chart directory of the Capsule module this module requires and a
// values file, and writes the manifests to standard output as one YAML
// stream. The benchmark in bench/peers installs Capsule from it.
//
// The chart's one dependency, capsule-proxy, lives in a remote OCI registry
// and is off by default; it is dropped before rendering, so that rendering
// needs no network. Templates that render nothing, and NOTES.txt, are left
// out; hooks are kept, marked with their helm.sh/hook annotation, for the
// reader to skip.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

func main() {
	o := options{}
	flag.StringVar(&o.chartDir, "chart", "", "Directory of Capsule's chart (charts/capsule in the Capsule module).")
	flag.StringVar(&o.valuesFile, "values", "", "YAML values file; the chart's defaults when empty.")
	flag.StringVar(&o.release, "release", "capsule", "Release name.")
	flag.StringVar(&o.namespace, "namespace", "capsule-system", "Release namespace.")
	flag.StringVar(&o.kubeVersion, "kube-version", "v1.36.3", "Kubernetes version the chart is told it installs on.")
	flag.StringVar(&o.version, "version", "", "Chart version and appVersion to stamp, as Capsule's release workflow does (the chart in the module says 0.0.0); left as it is when empty.")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: %s -chart DIR [-values FILE]\n\nRenders Capsule's Helm chart offline to standard output.\n\nFlags:\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := o.run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	chartDir, valuesFile, release, namespace, kubeVersion, version string
}

func (o options) run(out io.Writer) error {
	if o.chartDir == "" {
		return fmt.Errorf("-chart is required")
	}
	chrt, err := loadOffline(o.chartDir)
	if err != nil {
		return err
	}
	if o.version != "" {
		chrt.Metadata.Version, chrt.Metadata.AppVersion = o.version, o.version
	}
	values := chartutil.Values{}
	if o.valuesFile != "" {
		if values, err = chartutil.ReadValuesFile(o.valuesFile); err != nil {
			return fmt.Errorf("reading values %s: %w", o.valuesFile, err)
		}
	}
	rendered, err := o.render(chrt, values)
	if err != nil {
		return err
	}
	return writeManifests(out, rendered)
}

// loadOffline loads the chart and drops its dependencies, which only a
// registry could provide.
func loadOffline(dir string) (*chart.Chart, error) {
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	chrt.Metadata.Dependencies = nil
	chrt.Lock = nil
	return chrt, nil
}

// render coalesces values with the chart's defaults, validates them against
// the chart's schema and renders every template.
func (o options) render(chrt *chart.Chart, values chartutil.Values) (map[string]string, error) {
	kube, err := chartutil.ParseKubeVersion(o.kubeVersion)
	if err != nil {
		return nil, fmt.Errorf("parsing -kube-version: %w", err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = *kube
	top, err := chartutil.ToRenderValues(chrt, values, chartutil.ReleaseOptions{
		Name: o.release, Namespace: o.namespace, Revision: 1, IsInstall: true,
	}, caps)
	if err != nil {
		return nil, fmt.Errorf("preparing values: %w", err)
	}
	rendered, err := engine.Render(chrt, top)
	if err != nil {
		return nil, fmt.Errorf("rendering chart: %w", err)
	}
	return rendered, nil
}

// writeManifests writes every rendered template that holds a manifest, in
// the order of their file names, each document after a separator and a
// comment naming its template.
func writeManifests(out io.Writer, rendered map[string]string) error {
	names := make([]string, 0, len(rendered))
	for name := range rendered {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if path.Base(name) == "NOTES.txt" || strings.TrimSpace(rendered[name]) == "" {
			continue
		}
		if _, err := fmt.Fprintf(out, "---\n# Source: %s\n%s\n", name, strings.TrimSpace(rendered[name])); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}
