package ingress

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
)

func TestIndexAndLookupMeet(t *testing.T) {
	ing := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{
		Rules: []networkingv1.IngressRule{{Host: "Shop.Example.com."}, {Host: "*.apps.example.com"}, {}},
		TLS:   []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com", "api.example.com"}}},
	}}
	if diff := cmp.Diff([]string{"*", "*.apps.example.com", "api.example.com", "shop.example.com"}, Hosts(ing)); diff != "" {
		t.Fatalf("Hosts (-want +got):\n%s", diff)
	}
	keys := map[string]bool{}
	for _, k := range IndexKeys(ing) {
		keys[k] = true
	}
	for _, tc := range []struct {
		host     string
		conflict bool
	}{
		{"shop.example.com", true},
		{"x.apps.example.com", true},   // under the Ingress's wildcard
		{"*.example.com", true},        // a wildcard over its concrete hosts
		{"a.b.apps.example.com", true}, // a wildcard claims its whole tree (Gateway API wildcards match any depth)
		{"*.b.apps.example.com", true}, // so does a narrower wildcard under it
		{"*.org", false},
		{"example.com", false},
		{"other.example.org", false},
		{"*", true}, // two catch-alls
	} {
		found := false
		for _, k := range LookupKeys(tc.host) {
			found = found || keys[k]
		}
		if found != tc.conflict {
			t.Errorf("host %s conflicts = %v, want %v", tc.host, found, tc.conflict)
		}
	}
}

func TestPatternOfAnother(t *testing.T) {
	patterns := map[string][]string{
		"shop":  {"*.shop.example.com"},
		"login": {"login.shop.example.com"},
		"blog":  {"blog.example.com"},
	}
	for _, tc := range []struct {
		host, tenant string
		want         bool
	}{
		{"www.shop.example.com", "shop", false},
		{"www.shop.example.com", "free", true},      // under another tenant's wildcard
		{"login.shop.example.com", "login", false},  // the exact pattern beats the wildcard
		{"login.shop.example.com", "shop", true},    // even for the wildcard's owner
		{"a.login.shop.example.com", "shop", false}, // the exact pattern does not cover deeper names
		{"*.example.com", "free", true},             // a wildcard over others' patterns
		{"*.shop.example.com", "shop", true},        // covers login's carve-out
		{"*.other.example.com", "free", false},      // covers nobody's
		{"blog.example.com", "blog", false},         //
		{"news.example.com", "free", false},         // nobody's pattern: first come, first served
		{CatchAll, "free", false},                   // judged by ingress.defaultBackend
	} {
		if got := PatternOfAnother(tc.host, tc.tenant, patterns); got != tc.want {
			t.Errorf("PatternOfAnother(%s, %s) = %v, want %v", tc.host, tc.tenant, got, tc.want)
		}
	}
	if !PatternOfAnother("x.dup.example.com", "a", map[string][]string{"a": {"*.dup.example.com"}, "b": {"*.dup.example.com"}}) {
		t.Error("a pattern declared by two tenants must belong to neither")
	}
}
