package reserved

import "strings"

// Domains whose label and annotation keys tenants never write. A key is in a
// domain when its prefix (the part before "/") is the domain or a subdomain
// of it.
const (
	// KubernetesDomain and K8sDomain are reserved by Kubernetes for its own
	// keys (kubernetes.io/metadata.name, pod-security.kubernetes.io/enforce,
	// resource.kubernetes.io/admin-access, app.kubernetes.io/managed-by,
	// ...). The API server, its admission plugins and cluster add-ons read
	// them, and several grant something (Pod Security levels, DRA admin
	// access) or steer scheduling (scheduler.alpha.kubernetes.io/node-selector).
	KubernetesDomain = "kubernetes.io"
	K8sDomain        = "k8s.io"
	// BulkheadDomain is Bulkhead's own: the tenant label
	// (tenancy.bulkhead.dev/tenant) and every other key it writes. The whole
	// domain is reserved, not only tenancy.bulkhead.dev, so that keys of
	// Bulkhead's other components are covered before they exist.
	BulkheadDomain = "bulkhead.dev"
)

// PodSecurityPrefix starts the Pod Security Admission labels, which Bulkhead
// sets from the tenant's pods.securityLevel.
const PodSecurityPrefix = "pod-security.kubernetes.io/"

// LastAppliedAnnotation is written by `kubectl apply` on every object it
// creates. It is in Kubernetes' domain but grants nothing and no selector
// reads annotations, so tenants may carry it.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// reservedDomains are the domains IsKey refuses, in the order KeyCEL tries them.
var reservedDomains = []string{KubernetesDomain, K8sDomain, BulkheadDomain}

// IsKey reports whether a namespace label key is reserved: only Bulkhead and
// cluster admins may set, change or remove it on a tenant namespace.
func IsKey(key string) bool {
	p, ok := prefix(key)
	if !ok {
		return false
	}
	for _, d := range reservedDomains {
		if inDomain(p, d) {
			return true
		}
	}
	return false
}

// IsAnnotationKey reports whether a namespace annotation key is reserved:
// the same domains as labels, except kubectl's last-applied record.
// Annotations matter as much as labels here: the API server's own
// admission plugins read scheduler.alpha.kubernetes.io/node-selector,
// .../defaultTolerations and .../tolerationsWhitelist from the namespace,
// and apply them to every pod in it.
func IsAnnotationKey(key string) bool {
	return key != LastAppliedAnnotation && IsKey(key)
}

// IsBulkheadKey reports whether key is in Bulkhead's own domain.
func IsBulkheadKey(key string) bool {
	p, ok := prefix(key)
	return ok && inDomain(p, BulkheadDomain)
}

// IsPodSecurityLabel reports whether key is a Pod Security Admission label.
func IsPodSecurityLabel(key string) bool {
	return strings.HasPrefix(asciiLower(key), PodSecurityPrefix)
}

// IsSetByBulkhead reports whether Bulkhead alone decides key's value on a
// tenant namespace: its own domain, and the Pod Security labels it derives
// from pods.securityLevel. A Tenant's namespaces.labels and
// .annotations may not name such a key: it would be overwritten, or would
// forge Bulkhead's own state.
func IsSetByBulkhead(key string) bool {
	return IsBulkheadKey(key) || IsPodSecurityLabel(key)
}

// prefix returns key's prefix, lowered. Label key prefixes are DNS
// subdomains, so lowercase in valid keys; lowering keeps a mistyped case
// from slipping past before the API server's validation refuses it. Only
// ASCII is lowered, as CEL's lowerAscii does: Unicode folding would turn
// the Kelvin sign into "k" and make the Go and CEL predicates disagree.
func prefix(key string) (string, bool) {
	i := strings.IndexByte(key, '/')
	if i < 0 {
		return "", false
	}
	return asciiLower(key[:i]), true
}

func inDomain(prefix, domain string) bool {
	return prefix == domain || strings.HasSuffix(prefix, "."+domain)
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
