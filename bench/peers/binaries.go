package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// capsuleModule is the module, relative to the repository root, that pins
// Capsule's version and its dependencies apart from Bulkhead's own go.mod.
const capsuleModule = "bench/peers/capsule"

// capsulePath is Capsule's module path.
const capsulePath = "github.com/projectcapsule/capsule"

// binaries are the programs a run needs.
type binaries struct {
	bulkhead string
	// capsuleVersion is the Capsule version capsuleModule requires.
	capsuleVersion string
	// capsule is Capsule's manager, chartRenderer the command that renders
	// its chart, chartDir the chart in the module cache.
	capsule, chartRenderer, chartDir string
}

// findBinaries finds bulkhead-manager (building it when bulkhead is empty
// and bin/ lacks it) and, when withCapsule, Capsule's manager and chart
// renderer, each built once into bin/peers/ under a name holding Capsule's
// version, as `make bench-peers` builds them.
func findBinaries(bulkhead string, withBulkhead, withCapsule bool) (*binaries, error) {
	root := testenv.RepoRoot()
	b := &binaries{bulkhead: bulkhead}
	if withBulkhead {
		if err := b.findBulkhead(root); err != nil {
			return nil, err
		}
	}
	if !withCapsule {
		return b, nil
	}
	var err error
	if b.capsuleVersion, err = requiredVersion(filepath.Join(root, capsuleModule, "go.mod"), capsulePath); err != nil {
		return nil, err
	}
	bin := filepath.Join(root, "bin", "peers")
	b.capsule = filepath.Join(bin, "capsule-"+b.capsuleVersion)
	ldflags := "-X " + capsulePath + "/internal/version.GitTag=" + b.capsuleVersion
	if err := buildOnce(filepath.Join(root, capsuleModule), b.capsule, "-trimpath", "-ldflags", ldflags, capsulePath+"/cmd/controller"); err != nil {
		return nil, err
	}
	b.chartRenderer = filepath.Join(bin, "capsule-chart-"+b.capsuleVersion)
	if err := buildOnce(filepath.Join(root, capsuleModule), b.chartRenderer, "-trimpath", "./chart"); err != nil {
		return nil, err
	}
	if b.chartDir, err = moduleDir(filepath.Join(root, capsuleModule), capsulePath); err != nil {
		return nil, err
	}
	b.chartDir = filepath.Join(b.chartDir, "charts", "capsule")
	return b, nil
}

// findBulkhead uses the given manager, else bin/bulkhead-manager, building
// it there when it is missing.
func (b *binaries) findBulkhead(root string) error {
	if b.bulkhead != "" {
		if _, err := os.Stat(b.bulkhead); err != nil {
			return fmt.Errorf("-bulkhead-manager: %w", err)
		}
		return nil
	}
	b.bulkhead = filepath.Join(root, "bin", "bulkhead-manager")
	if _, err := os.Stat(b.bulkhead); err == nil {
		return nil
	}
	fmt.Println("Building bin/bulkhead-manager (make build does the same).")
	if _, err := testenv.BuildManager(filepath.Dir(b.bulkhead)); err != nil {
		return err
	}
	return nil
}

// requiredVersion reads the version of module path that the go.mod file
// requires.
func requiredVersion(gomod, path string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", gomod, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 && fields[0] == path {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", gomod, path)
}

// buildOnce runs `go build -o out args...` in dir unless out exists,
// writing through a temporary name so that an interrupted build leaves
// nothing that looks finished.
func buildOnce(dir, out string, args ...string) error {
	if _, err := os.Stat(out); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(out), err)
	}
	fmt.Printf("Building %s once (it is kept for later runs).\n", out)
	tmp := out + ".tmp"
	cmd := exec.Command("go", append([]string{"build", "-o", tmp}, args...)...)
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("building %s: %w: %s", out, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("moving %s into place: %w", out, err)
	}
	return nil
}

// moduleDir asks the go command, in module dir, where module path's
// source is (the module cache).
func moduleDir(dir, path string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locating %s: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}
