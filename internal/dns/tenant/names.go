package tenant

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/miekg/dns"
)

// namespaceOf returns the namespace a name in zone speaks of, as the
// kubernetes plugin reads it: the label before "svc" or "pod", which is
// itself the last label before the zone. It also returns that label's index
// in dns.SplitDomainName(name), so the caller can replace it. ok is false
// for names outside zone and names that name no namespace (the zone apex,
// svc.<zone>, dns-version.<zone>, ns.dns.<zone>). zone is fully qualified.
//
// It runs on every query and on every record of every answer, so it cuts
// the name by hand; a name with escapes (a dot inside a label) goes the
// slow way, label by label, as the kubernetes plugin splits it.
func namespaceOf(name, zone string) (ns string, label int, ok bool) {
	if strings.IndexByte(name, '\\') >= 0 {
		return namespaceOfLabels(name, zone)
	}
	// name ends in "."+zone, compared without regard to case.
	if len(name) <= len(zone) || name[len(name)-len(zone)-1] != '.' || !strings.EqualFold(name[len(name)-len(zone):], zone) {
		return "", 0, false
	}
	base := name[:len(name)-len(zone)-1] // "web.acme-a.svc"
	dot := strings.LastIndexByte(base, '.')
	if dot < 0 {
		return "", 0, false
	}
	if kind := base[dot+1:]; !strings.EqualFold(kind, "svc") && !strings.EqualFold(kind, "pod") {
		return "", 0, false
	}
	rest := base[:dot]
	prev := strings.LastIndexByte(rest, '.')
	return strings.ToLower(rest[prev+1:]), strings.Count(rest[:prev+1], "."), true
}

// namespaceOfLabels is namespaceOf, label by label.
func namespaceOfLabels(name, zone string) (ns string, label int, ok bool) {
	if !dns.IsSubDomain(zone, name) {
		return "", 0, false
	}
	labels := dns.SplitDomainName(name)
	n := len(labels) - dns.CountLabel(zone)
	if n < 2 {
		return "", 0, false
	}
	kind := strings.ToLower(labels[n-1])
	if kind != "svc" && kind != "pod" {
		return "", 0, false
	}
	return strings.ToLower(labels[n-2]), n - 2, true
}

// concealer turns a label into one no object can have: an underscore (never
// in a namespace name or an address) and a keyed hash of the label. The key
// is random per process, so a client cannot form the concealed name itself
// and probe whether it is cached; the hash keeps distinct labels distinct,
// so the cache holds one entry for each name asked, as it would had the
// names simply not existed.
type concealer struct{ key []byte }

var concealEncoding = base32.HexEncoding.WithPadding(base32.NoPadding)

func (c concealer) label(l string) string {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(strings.ToLower(l)))
	return "_" + strings.ToLower(concealEncoding.EncodeToString(h.Sum(nil)[:15]))
}

// name replaces label i of name with its concealed form; a name without
// that label (the root) gets a concealed label in front.
func (c concealer) name(name string, i int) string {
	labels := dns.SplitDomainName(name)
	if i >= len(labels) {
		return dns.Fqdn(c.label(name) + "." + strings.TrimPrefix(name, "."))
	}
	labels[i] = c.label(labels[i])
	return dns.Fqdn(strings.Join(labels, "."))
}

// targetOf is the name a record points at, for the types whose data is a
// name: where a CNAME, SRV or PTR leads is as telling as its owner.
func targetOf(rr dns.RR) string {
	switch r := rr.(type) {
	case *dns.CNAME:
		return r.Target
	case *dns.DNAME:
		return r.Target
	case *dns.SRV:
		return r.Target
	case *dns.PTR:
		return r.Ptr
	case *dns.NS:
		return r.Ns
	case *dns.MX:
		return r.Mx
	}
	return ""
}

// isReverse says whether name is in the IPv4 or IPv6 reverse tree.
func isReverse(name string) bool {
	return dns.IsSubDomain("in-addr.arpa.", name) || dns.IsSubDomain("ip6.arpa.", name)
}
