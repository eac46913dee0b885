package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pollEvery is how often convergence is counted. Each count lists
// namespaces, and once they all exist, every counted kind: the same load
// on the API server for every system.
const pollEvery = 500 * time.Millisecond

// mostMissing is how many missing things a diagnosis names.
const mostMissing = 10

// tally is how far a system has come: the tenants' namespaces that exist,
// and the objects it must create that exist, each counted up to what is
// expected so that a surplus of one kind cannot hide a lack of another.
type tally struct {
	namespaces, wantNamespaces int
	objects, wantObjects       int
	// missing names what is missing, at most mostMissing, and
	// missingMore how many more.
	missing     []string
	missingMore int
	// incomplete are the tenants that lack anything.
	incomplete []string
}

// done reports whether everything exists.
func (t tally) done() bool {
	return t.namespaces == t.wantNamespaces && t.objects == t.wantObjects
}

func (t *tally) miss(format string, args ...any) {
	if len(t.missing) < mostMissing {
		t.missing = append(t.missing, fmt.Sprintf(format, args...))
		return
	}
	t.missingMore++
}

// describe prints the tally and what is missing.
func (t tally) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d namespaces, %d/%d objects", t.namespaces, t.wantNamespaces, t.objects, t.wantObjects)
	if n := len(t.incomplete); n > 0 {
		shown := t.incomplete[:min(n, 3*mostMissing)]
		fmt.Fprintf(&b, "\n  %d tenants lack something: %s", n, strings.Join(shown, ", "))
		if n > len(shown) {
			b.WriteString(", ...")
		}
	}
	for _, m := range t.missing {
		b.WriteString("\n  missing " + m)
	}
	if t.missingMore > 0 {
		fmt.Fprintf(&b, "\n  and %d more missing", t.missingMore)
	}
	return b.String()
}

// counter counts a system's progress with its tenants by listing, never
// trusting any status.
type counter struct {
	admin   client.Client
	exp     expectation
	tenants []benchTenant
	// lastRefusal is a tenant's last refused namespace create, for the
	// diagnosis.
	lastRefusal func(tenant string) string
}

// count lists the namespaces and, once they all exist or when full is
// set, the system's objects of every expected kind (metadata only).
func (c *counter) count(ctx context.Context, full bool) (tally, error) {
	t := tally{wantObjects: c.exp.total(c.tenants)}
	present, err := c.names(ctx, schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, nil)
	if err != nil {
		return tally{}, err
	}
	for _, tn := range c.tenants {
		for _, ns := range tn.namespaces {
			t.wantNamespaces++
			if present[ns] {
				t.namespaces++
				continue
			}
			t.lacks(tn.name)
			if last := c.lastRefusal(tn.name); last != "" {
				t.miss("namespace %s of tenant %s (its owner's last refusal: %s)", ns, tn.name, last)
			} else {
				t.miss("namespace %s of tenant %s", ns, tn.name)
			}
		}
	}
	if t.namespaces < t.wantNamespaces && !full {
		return t, nil
	}
	byNamespace, byTenant, err := c.objects(ctx)
	if err != nil {
		return tally{}, err
	}
	for _, tn := range c.tenants {
		for _, gvk := range sortedKinds(c.exp.perTenant) {
			t.add(tn.name, byTenant[tn.name][gvk], c.exp.perTenant[gvk], "%s of tenant %s", gvk.Kind, tn.name)
		}
		for _, ns := range tn.namespaces {
			for _, gvk := range sortedKinds(c.exp.perNamespace) {
				t.add(tn.name, byNamespace[ns][gvk], c.exp.perNamespace[gvk], "%s in namespace %s", gvk.Kind, ns)
			}
		}
	}
	return t, nil
}

// add counts got objects of tenant of which want are expected.
func (t *tally) add(tenant string, got, want int, format string, args ...any) {
	t.objects += min(got, want)
	if got < want {
		t.lacks(tenant)
		t.miss("%d of %d %s", want-got, want, fmt.Sprintf(format, args...))
	}
}

// lacks notes that tenant lacks something.
func (t *tally) lacks(tenant string) {
	if !slices.Contains(t.incomplete, tenant) {
		t.incomplete = append(t.incomplete, tenant)
	}
}

// kindCounts are object counts by key (a namespace or a tenant), then kind.
type kindCounts map[string]map[schema.GroupVersionKind]int

func (k kindCounts) inc(key string, gvk schema.GroupVersionKind) {
	if k[key] == nil {
		k[key] = map[schema.GroupVersionKind]int{}
	}
	k[key][gvk]++
}

// objects counts the system's objects of every expected kind: namespaced
// ones by namespace, cluster-scoped ones by the tenant their label names.
func (c *counter) objects(ctx context.Context) (byNamespace, byTenant kindCounts, err error) {
	byNamespace, byTenant = kindCounts{}, kindCounts{}
	for gvk := range c.exp.perNamespace {
		if err := c.each(ctx, gvk, func(m metav1.PartialObjectMetadata) { byNamespace.inc(m.Namespace, gvk) }); err != nil {
			return nil, nil, err
		}
	}
	for gvk := range c.exp.perTenant {
		if err := c.each(ctx, gvk, func(m metav1.PartialObjectMetadata) { byTenant.inc(m.Labels[c.exp.label], gvk) }); err != nil {
			return nil, nil, err
		}
	}
	return byNamespace, byTenant, nil
}

// each calls f with the metadata of every object of kind gvk that carries
// the system's label.
func (c *counter) each(ctx context.Context, gvk schema.GroupVersionKind, f func(metav1.PartialObjectMetadata)) error {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := c.admin.List(ctx, list, client.HasLabels{c.exp.label}); err != nil {
		return fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	for _, m := range list.Items {
		f(m)
	}
	return nil
}

// names lists the names of the objects of kind gvk, with opts.
func (c *counter) names(ctx context.Context, gvk schema.GroupVersionKind, opts []client.ListOption) (map[string]bool, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := c.admin.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	out := make(map[string]bool, len(list.Items))
	for _, m := range list.Items {
		out[m.Name] = true
	}
	return out, nil
}

// sortedKinds are the keys of m, by kind name.
func sortedKinds(m map[schema.GroupVersionKind]int) []schema.GroupVersionKind {
	out := make([]schema.GroupVersionKind, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// waitConverged counts every pollEvery until everything exists, the
// system's process exits or ctx ends; it returns the last tally.
func (c *counter) waitConverged(ctx context.Context, failed func() error) (tally, error) {
	for {
		t, err := c.count(ctx, false)
		if err != nil && ctx.Err() == nil {
			return tally{}, err
		}
		if err == nil && t.done() {
			return t, nil
		}
		if ferr := failed(); ferr != nil {
			return t, ferr
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}
