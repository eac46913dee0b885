// Package ingress serves the webhook that keeps a hostname from being
// served for two tenants. It needs every other Ingress of the cluster,
// which an admission policy cannot see: Bulkhead caches Ingresses with an
// index of the hostnames they claim.
//
// A hostname conflicts with another when they are equal, or when one is a
// wildcard ("*.example.com") that matches the other (one more label, as
// Ingress wildcards do). An Ingress in a tenant namespace is refused if a
// conflicting hostname is served by an Ingress in any namespace outside the
// tenant: another tenant's, or the platform's.
//
// A hostname pattern a Tenant declares (spec.ingress.hostnames) belongs to
// that tenant alone: a host that the most specific matching pattern gives to
// another tenant is refused, whether or not that tenant serves it yet, and
// so is a wildcard host that would cover another tenant's pattern.
//
// The cache shows an Ingress only a moment after it is stored, and each
// webhook replica has its own: two tenants creating the same hostname at the
// same instant would both pass a check of the cache alone. So before
// admitting, the webhook holds each hostname for the tenant in a
// HostnameClaim, written with a compare-and-swap through the API server
// (package claims); the first tenant's write wins on every replica. Dry
// runs read the claims but never write them (the webhook declares
// sideEffects NoneOnDryRun).
//
// Failure policy: Fail. With Bulkhead down, tenants wait to create or change
// Ingresses (nothing else); admitting them blind could hand one tenant's
// traffic to another.
package ingress

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/claims"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenantof"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch

// Path the webhook is served on.
const Path = "/ingresses/validate"

// HostIndex is the cache index of Ingresses by IndexKeys of their hosts.
const HostIndex = "bulkhead.hosts"

// CatchAll stands for the hostnames nobody else claims: a rule without a
// host, or a default backend, serves them.
const CatchAll = claims.CatchAll

// Hosts are the hostnames an Ingress claims, from its rules and TLS, with
// CatchAll for a rule without a host or a default backend.
func Hosts(ing *networkingv1.Ingress) []string {
	seen := map[string]bool{}
	if ing.Spec.DefaultBackend != nil {
		seen[CatchAll] = true
	}
	for _, r := range ing.Spec.Rules {
		seen[normalize(r.Host)] = true
	}
	for _, tls := range ing.Spec.TLS {
		for _, h := range tls.Hosts {
			seen[normalize(h)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// normalize lowercases a hostname and drops a trailing dot; "" is CatchAll.
func normalize(h string) string {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" {
		return CatchAll
	}
	return h
}

// IndexKeys are the index entries of an Ingress (see indexKeys).
func IndexKeys(ing *networkingv1.Ingress) []string {
	return indexKeys(Hosts(ing))
}

// LookupKeys are the index entries whose objects conflict with host: the
// same name, a wildcard over it at any depth and, for a wildcard, any name
// under it at any depth. A Gateway API wildcard matches names of any depth
// ("*.example.com" serves "a.b.example.com"); an Ingress wildcard only one
// label, but a tenant's wildcard claims the whole tree either way, so that
// one ownership model holds whichever kind serves a name.
func LookupKeys(host string) []string {
	out := []string{"host:" + host}
	domain := host
	if d, ok := strings.CutPrefix(host, "*."); ok {
		out = append(out, "in:"+d)
		domain = d
	}
	for _, a := range ancestors(domain) {
		out = append(out, "host:*."+a)
	}
	return out
}

// ancestors are the domains above a name: "b.c" and "c" for "a.b.c".
func ancestors(name string) []string {
	var out []string
	for i := strings.Index(name, "."); i >= 0; i = strings.Index(name, ".") {
		name = name[i+1:]
		if name == "" {
			break
		}
		out = append(out, name)
	}
	return out
}

// MaxHostsPerIngress bounds the hostnames of one tenant Ingress. Each
// hostname group it names costs the webhook a claim read and write before
// the API server stores the Ingress, so an Ingress of thousands of names
// would turn one request into thousands of cluster-scoped writes (and the
// sweeper's deletes after), whether or not it is ever stored.
const MaxHostsPerIngress = 100

// Handler refuses hostnames that another tenant, or the platform, serves.
type Handler struct {
	// Client reads the sources' objects, namespaces and Tenants, from the
	// cache, which has HostIndex for every source.
	Client client.Reader
	// Claims hold each admitted hostname for its tenant.
	Claims *claims.Hostnames
	// Sources are the kinds that serve hostnames: Ingresses, and
	// GatewaySources where the Gateway API is served.
	Sources []Source
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	var src *Source
	for i := range h.Sources {
		if h.Sources[i].Kind.Group == req.Kind.Group && h.Sources[i].Kind.Kind == req.Kind.Kind {
			src = &h.Sources[i]
		}
	}
	if src == nil {
		// The API server serves a kind the manager did not cache (the
		// Gateway API installed after it started): judging blind could
		// hand one tenant's names to another.
		return admission.Errored(http.StatusServiceUnavailable, fmt.Errorf(
			"bulkhead-manager does not watch %s yet (installed after it started?): restart bulkhead-manager", req.Kind.Kind))
	}
	obj := src.New()
	if err := json.Unmarshal(req.Object.Raw, obj); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	tenant, err := tenantof.Namespace(ctx, h.Client, req.Namespace)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if tenant == "" {
		return admission.Allowed("")
	}
	tenants := &tenancyv1alpha1.TenantList{}
	if err := h.Client.List(ctx, tenants); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	patterns := map[string][]string{}
	for _, t := range tenants.Items {
		for _, p := range t.Spec.Ingress.Hostnames {
			patterns[t.Name] = append(patterns[t.Name], normalize(p))
		}
	}
	hosts := src.Hosts(obj)
	if len(hosts) > MaxHostsPerIngress {
		return admission.Denied(fmt.Sprintf("tenant %s: the %s names %d hostnames, more than the %d one %s may [rule ingress.hostnames]. "+
			"Split it into several", tenant, req.Kind.Kind, len(hosts), MaxHostsPerIngress, req.Kind.Kind))
	}
	for _, host := range hosts {
		if PatternOfAnother(host, tenant, patterns) {
			return admission.Denied(fmt.Sprintf("tenant %s: host %s falls under a hostname pattern another tenant's Tenant declares [rule ingress.hostnames]. "+
				"Use a hostname under the tenant's own patterns; a cluster admin decides who owns which names", tenant, host))
		}
	}
	for _, host := range hosts {
		_, where, err := h.servedElsewhere(ctx, host, tenant)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if where != "" {
			return denyServed(tenant, host, where)
		}
	}
	dryRun := req.DryRun != nil && *req.DryRun
	blocked, err := h.Claims.Claim(ctx, tenant, hosts, dryRun, Serves(h.Client, h.Sources))
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if blocked != nil && blocked.TooMany {
		return admission.Denied(fmt.Sprintf("tenant %s: the tenant would hold more than %d hostnames of the group of %s [rule ingress.hostnames]. "+
			"Delete the Ingresses of names you no longer serve; names of Ingresses that were refused are released after %s",
			tenant, claims.MaxHoldsPerTenant, claims.GroupOf(blocked.Host), claims.HoldGrace))
	}
	if blocked != nil {
		where := "by another tenant"
		if blocked.Fresh {
			where += " (admitted moments ago)"
		}
		return denyServed(tenant, blocked.Host, where)
	}
	return admission.Allowed("")
}

func denyServed(tenant, host, where string) admission.Response {
	what := "host " + host
	if host == CatchAll {
		what = "the default (a rule without host, or a default backend)"
	}
	return admission.Denied(fmt.Sprintf("tenant %s: %s is already served %s [rule ingress.hostnames]. "+
		"Use a hostname of your own; a hostname is never served for two tenants", tenant, what, where))
}

// servedElsewhere finds an object of a source in the cache outside tenant
// whose hostnames conflict with host. It returns who serves it ("" when nobody,
// or the namespace for one outside any tenant) and a description for the
// denial ("" when nobody).
func (h *Handler) servedElsewhere(ctx context.Context, host, tenant string) (string, string, error) {
	for _, key := range LookupKeys(host) {
		list, err := listServing(ctx, h.Client, h.Sources, key)
		if err != nil {
			return "", "", err
		}
		for _, other := range list {
			owner, err := tenantof.Namespace(ctx, h.Client, other.GetNamespace())
			if err != nil {
				return "", "", err
			}
			if owner == "" && other.source.Listener {
				// A shared Gateway's listener: routes attach under it.
				continue
			}
			if owner != tenant {
				// Say no more of another tenant than that it exists.
				if owner != "" {
					return owner, "by another tenant", nil
				}
				return other.GetNamespace(), "outside any tenant", nil
			}
		}
	}
	return "", "", nil
}

// Serves is the claims.LiveFunc over c, a cache with HostIndex for every
// source: whether an object of tenant serves host exactly, so that tenant's
// hold on host still stands.
func Serves(c client.Reader, sources []Source) claims.LiveFunc {
	return func(ctx context.Context, host, tenant string) (bool, error) {
		list, err := listServing(ctx, c, sources, "host:"+host)
		if err != nil {
			return false, err
		}
		for _, obj := range list {
			owner, err := tenantof.Namespace(ctx, c, obj.GetNamespace())
			if err != nil {
				return false, err
			}
			if owner == tenant {
				return true, nil
			}
		}
		return false, nil
	}
}

// matchesPattern reports whether host falls under pattern: equal, or under
// a wildcard pattern "*.example.com" at any depth (as the ingress.hostnames
// policy judges a tenant's own hosts).
func matchesPattern(host, pattern string) bool {
	return host == pattern || (strings.HasPrefix(pattern, "*.") && strings.HasSuffix(host, pattern[1:]))
}

// specificity orders patterns: an exact name beats any wildcard, and a
// longer wildcard beats a shorter one.
func specificity(pattern string) int {
	if strings.HasPrefix(pattern, "*") {
		return len(pattern)
	}
	return 1 << 20
}

// PatternOfAnother reports whether host belongs to a tenant other than
// tenant by the declared patterns (tenant -> patterns): the most specific
// pattern matching host is another tenant's (or as specific as tenant's
// own), or host is a wildcard that covers another tenant's pattern.
func PatternOfAnother(host, tenant string, patterns map[string][]string) bool {
	if host == CatchAll {
		return false
	}
	best, owners := -1, map[string]bool{}
	for t, ps := range patterns {
		for _, p := range ps {
			if !matchesPattern(host, p) {
				if t != tenant && strings.HasPrefix(host, "*.") && matchesPattern(p, host) {
					return true
				}
				continue
			}
			switch sp := specificity(p); {
			case sp > best:
				best, owners = sp, map[string]bool{t: true}
			case sp == best:
				owners[t] = true
			}
		}
	}
	return best >= 0 && (!owners[tenant] || len(owners) > 1)
}
