package namespace

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func nsObj(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestDecideCreate(t *testing.T) {
	s := render.DefaultSettings()
	tenants := []tenancyv1alpha1.Tenant{
		*testutil.Tenant("acme").Owner("alice").Group("platform").Max(2).Obj(),
		*testutil.Tenant("globex").Owner("carol").Group("platform").Hard().Obj(),
		*testutil.Tenant("free").Owner("frank").RequirePrefix(false).Obj(),
	}
	for _, tc := range []struct {
		name       string
		ns         *corev1.Namespace
		caller     Caller
		inUse      map[string]int
		wantAllow  bool
		wantMsg    []string
		wantLevel  string
		wantTenant string
	}{
		{name: "owner gets a namespace of their tenant", ns: nsObj("acme-dev", nil), caller: Caller{User: "alice"}, wantAllow: true, wantLevel: "baseline", wantTenant: "acme"},
		{name: "Hard tenant namespace is restricted", ns: nsObj("globex-dev", nil), caller: Caller{User: "carol"}, wantAllow: true, wantLevel: "restricted", wantTenant: "globex"},
		{name: "prefix not required", ns: nsObj("anything", nil), caller: Caller{User: "frank"}, wantAllow: true, wantLevel: "baseline", wantTenant: "free"},
		{name: "limit reached", ns: nsObj("acme-c", nil), caller: Caller{User: "alice"}, inUse: map[string]int{"acme": 2},
			wantMsg: []string{`tenant "acme"`, "namespaces.max is 2, 2 in use", "raise spec.namespaces.max"}},
		{name: "wrong prefix", ns: nsObj("dev", nil), caller: Caller{User: "alice"},
			wantMsg: []string{`tenant "acme"`, `must start with "acme-"`, `try "acme-dev"`}},
		{name: "not an owner of anything", ns: nsObj("acme-x", nil), caller: Caller{User: "mallory"},
			wantMsg: []string{"not an owner of any tenant"}},
		{name: "labelled for a tenant the caller does not own", ns: nsObj("globex-x", map[string]string{tenancyv1alpha1.TenantLabel: "globex"}), caller: Caller{User: "alice"},
			wantMsg: []string{`not an owner of tenant "globex"`, `("acme")`}},
		{name: "owner of several tenants must choose", ns: nsObj("acme-x", nil), caller: Caller{User: "pat", Groups: []string{"platform"}},
			wantMsg: []string{`several tenants ("acme", "globex")`, tenancyv1alpha1.TenantLabel + "=<tenant>"}},
		{name: "owner of several tenants who chooses", ns: nsObj("globex-x", map[string]string{tenancyv1alpha1.TenantLabel: "globex"}),
			caller: Caller{User: "pat", Groups: []string{"platform"}}, wantAllow: true, wantLevel: "restricted", wantTenant: "globex"},
		{name: "a forged Pod Security label is overwritten", ns: nsObj("globex-y", map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}),
			caller: Caller{User: "carol"}, wantAllow: true, wantLevel: "restricted", wantTenant: "globex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideCreate(tc.ns, tc.caller, tenants, tc.inUse, s)
			if d.Allowed != tc.wantAllow {
				t.Fatalf("allowed = %v (%s), want %v", d.Allowed, d.Message, tc.wantAllow)
			}
			for _, w := range tc.wantMsg {
				if !strings.Contains(d.Message, w) {
					t.Errorf("message %q lacks %q", d.Message, w)
				}
			}
			if tc.wantAllow {
				if got := d.Labels["pod-security.kubernetes.io/enforce"]; got != tc.wantLevel {
					t.Errorf("enforce label = %q, want %q", got, tc.wantLevel)
				}
				if got := d.Labels[tenancyv1alpha1.TenantLabel]; got != tc.wantTenant {
					t.Errorf("tenant label = %q, want %q", got, tc.wantTenant)
				}
			}
		})
	}
}

func TestDecideUpdate(t *testing.T) {
	s := render.DefaultSettings()
	tenants := []tenancyv1alpha1.Tenant{*testutil.Tenant("acme").Owner("alice").Labels(map[string]string{"cost": "1"}).Annotations(map[string]string{"team": "a"}).Obj()}
	base := render.Namespace(&tenants[0], s).Labels
	with := func(k, v string) map[string]string {
		out := map[string]string{}
		for kk, vv := range base {
			out[kk] = vv
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		old, ns *corev1.Namespace
		wantMsg string
	}{
		{name: "unrelated label change is allowed", old: nsObj("acme-a", base), ns: nsObj("acme-a", with("app", "x"))},
		{name: "tenant label removed", old: nsObj("acme-a", base), ns: nsObj("acme-a", with(tenancyv1alpha1.TenantLabel, "")),
			wantMsg: `tenant "acme": the label tenancy.bulkhead.dev/tenant on namespace "acme-a" is managed by Bulkhead; put it back to "acme"`},
		{name: "tenant label moved to another tenant", old: nsObj("acme-a", base), ns: nsObj("acme-a", with(tenancyv1alpha1.TenantLabel, "globex")),
			wantMsg: "managed by Bulkhead"},
		{name: "adoption by a non-admin", old: nsObj("plain", nil), ns: nsObj("plain", map[string]string{tenancyv1alpha1.TenantLabel: "acme"}),
			wantMsg: `only a cluster admin can adopt a namespace into tenant "acme"`},
		{name: "Pod Security loosened", old: nsObj("acme-a", base), ns: nsObj("acme-a", with("pod-security.kubernetes.io/enforce", "privileged")),
			wantMsg: "Pod Security label pod-security.kubernetes.io/enforce"},
		{name: "locked label changed", old: nsObj("acme-a", base), ns: nsObj("acme-a", with("cost", "2")),
			wantMsg: "label cost on namespace \"acme-a\" is locked by the tenant's namespaces.labels"},
		{name: "plain namespace edits are not ours", old: nsObj("plain", nil), ns: nsObj("plain", map[string]string{"x": "y"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideUpdate(tc.old, tc.ns, tenants, s)
			if tc.wantMsg == "" {
				if !d.Allowed {
					t.Fatalf("denied: %s", d.Message)
				}
				return
			}
			if d.Allowed || !strings.Contains(d.Message, tc.wantMsg) {
				t.Fatalf("got allowed=%v %q, want denial containing %q", d.Allowed, d.Message, tc.wantMsg)
			}
		})
	}
	t.Run("locked annotation changed", func(t *testing.T) {
		old, ns := nsObj("acme-a", base), nsObj("acme-a", base)
		old.Annotations, ns.Annotations = map[string]string{"team": "a"}, map[string]string{"team": "b"}
		d := DecideUpdate(old, ns, tenants, s)
		if d.Allowed || !strings.Contains(d.Message, "annotation team on namespace \"acme-a\" is locked by the tenant's namespaces.annotations") {
			t.Fatalf("got allowed=%v %q, want the locked-annotation denial", d.Allowed, d.Message)
		}
	})
}
