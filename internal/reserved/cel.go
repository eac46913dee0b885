package reserved

import "strings"

// The CEL twins of the key predicates. Each takes a CEL expression of type
// string (a variable such as "k", or "object.metadata.name") and returns a
// boolean CEL expression. They use only the core language and the standard
// string extension (lowerAscii), both in every API server's CEL environment,
// and regular expressions (matches, RE2), so they work in admission policies,
// match conditions and CRD validation rules alike.

// KeyCEL is IsKey as CEL over the string expression v.
func KeyCEL(v string) string {
	return domainsCEL(v, reservedDomains...)
}

// AnnotationKeyCEL is IsAnnotationKey as CEL over the string expression v.
func AnnotationKeyCEL(v string) string {
	return "(" + v + " != '" + LastAppliedAnnotation + "' && " + KeyCEL(v) + ")"
}

// SetByBulkheadCEL is IsSetByBulkhead as CEL over the string expression v.
func SetByBulkheadCEL(v string) string {
	return "(" + domainsCEL(v, BulkheadDomain) + " || (" + v + ").lowerAscii().startsWith('" + PodSecurityPrefix + "'))"
}

// domainsCEL is true when v's prefix (up to the first "/") is one of
// domains or a subdomain of one. "[^/]*" cannot cross the "/", so only the
// prefix is looked at; "[.]" is a literal dot without backslashes, which
// would need escaping once more inside a CEL string.
func domainsCEL(v string, domains ...string) string {
	alts := make([]string, len(domains))
	for i, d := range domains {
		alts[i] = strings.ReplaceAll(d, ".", "[.]")
	}
	return "(" + v + ").lowerAscii().matches('^([^/]*[.])?(" + strings.Join(alts, "|") + ")/')"
}
