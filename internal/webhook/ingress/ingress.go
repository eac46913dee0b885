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
// Failure policy: Fail. With Bulkhead down, tenants wait to create or change
// Ingresses (nothing else); admitting them blind could hand one tenant's
// traffic to another. Two tenants creating the same hostname at the same
// instant on two replicas could both pass: each replica serialises its own
// requests and reserves what it admitted until its cache shows it.
package ingress

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenantof"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch

// Path the webhook is served on.
const Path = "/ingresses/validate"

// HostIndex is the cache index of Ingresses by IndexKeys of their hosts.
const HostIndex = "bulkhead.hosts"

// CatchAll stands for the hostnames nobody else claims: a rule without a
// host, or a default backend, serves them.
const CatchAll = "*"

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

// wildcardOf is the wildcard that would match host ("*.b.c" for "a.b.c"),
// or "" for a wildcard or a single label.
func wildcardOf(host string) string {
	if strings.HasPrefix(host, "*") {
		return ""
	}
	i := strings.Index(host, ".")
	if i < 0 {
		return ""
	}
	return "*" + host[i:]
}

// IndexKeys are the index entries of an Ingress: "host:" each hostname, and
// "under:" the wildcard each concrete hostname falls under.
func IndexKeys(ing *networkingv1.Ingress) []string {
	var out []string
	for _, h := range Hosts(ing) {
		out = append(out, "host:"+h)
		if w := wildcardOf(h); w != "" {
			out = append(out, "under:"+w)
		}
	}
	return out
}

// LookupKeys are the index entries whose Ingresses conflict with host.
func LookupKeys(host string) []string {
	out := []string{"host:" + host}
	if w := wildcardOf(host); w != "" {
		out = append(out, "host:"+w)
	}
	if strings.HasPrefix(host, "*.") {
		out = append(out, "under:"+host)
	}
	return out
}

// Index registers HostIndex with the cache.
func Index(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &networkingv1.Ingress{}, HostIndex, func(obj client.Object) []string {
		return IndexKeys(obj.(*networkingv1.Ingress))
	})
}

// Handler refuses hostnames that another tenant, or the platform, serves.
type Handler struct {
	Client client.Reader

	mu       sync.Mutex
	reserved map[string]reservation // host -> who admitted it last, until the cache shows it
}

type reservation struct {
	tenant string
	until  time.Time
}

const reservationTTL = 30 * time.Second

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	ing := &networkingv1.Ingress{}
	if err := json.Unmarshal(req.Object.Raw, ing); err != nil {
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
	hosts := Hosts(ing)
	for _, host := range hosts {
		if PatternOfAnother(host, tenant, patterns) {
			return admission.Denied(fmt.Sprintf("tenant %s: host %s falls under a hostname pattern another tenant's Tenant declares [rule ingress.hostnames]. "+
				"Use a hostname under the tenant's own patterns; a cluster admin decides who owns which names", tenant, host))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	for _, host := range hosts {
		other, where, err := h.servedElsewhere(ctx, host, tenant, now)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if other != "" {
			what := "host " + host
			if host == CatchAll {
				what = "the default (a rule without host, or a default backend)"
			}
			return admission.Denied(fmt.Sprintf("tenant %s: %s is already served %s [rule ingress.hostnames]. "+
				"Use a hostname of your own; a hostname is never served for two tenants", tenant, what, where))
		}
	}
	if req.DryRun == nil || !*req.DryRun {
		if h.reserved == nil {
			h.reserved = map[string]reservation{}
		}
		for _, host := range hosts {
			h.reserved[host] = reservation{tenant: tenant, until: now.Add(reservationTTL)}
		}
	}
	return admission.Allowed("")
}

// servedElsewhere finds an Ingress outside tenant whose hostnames conflict
// with host, in the cache or among recent admissions. It returns who serves
// it ("" when nobody) and a description for the denial.
func (h *Handler) servedElsewhere(ctx context.Context, host, tenant string, now time.Time) (string, string, error) {
	for _, key := range LookupKeys(host) {
		list := &networkingv1.IngressList{}
		if err := h.Client.List(ctx, list, client.MatchingFields{HostIndex: key}); err != nil {
			return "", "", err
		}
		for _, other := range list.Items {
			owner, err := tenantof.Namespace(ctx, h.Client, other.Namespace)
			if err != nil {
				return "", "", err
			}
			if owner != tenant {
				// Say no more of another tenant than that it exists.
				if owner != "" {
					return owner, "by another tenant", nil
				}
				return other.Namespace, "outside any tenant", nil
			}
		}
	}
	for reservedHost, r := range h.reserved {
		if now.After(r.until) {
			delete(h.reserved, reservedHost)
			continue
		}
		if r.tenant != tenant && conflicts(host, reservedHost) {
			return r.tenant, "by another tenant (admitted moments ago)", nil
		}
	}
	return "", "", nil
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

// conflicts reports whether two hostnames would route the same requests.
func conflicts(a, b string) bool {
	return a == b || wildcardOf(a) == b || wildcardOf(b) == a
}
