package claims

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

func TestConflicts(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a.example.com", "a.example.com", true},
		{"a.example.com", "*.example.com", true},
		{"*.example.com", "a.example.com", true},
		{"a.b.example.com", "*.example.com", false},
		{"a.example.com", "b.example.com", false},
		{"*", "*", true},
	} {
		if got := Conflicts(tc.a, tc.b); got != tc.want {
			t.Errorf("Conflicts(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestConflictingHostsShareAClaim: the compare-and-swap covers a conflict
// only if both hostnames are held in one object.
func TestConflictingHostsShareAClaim(t *testing.T) {
	hosts := []string{"*", "localhost", "a.example.com", "b.example.com", "*.example.com", "a.b.example.com", "*.b.example.com", "example.com", "*.com", "w.example.com", "h.example.com", "any"}
	names := map[string]string{}
	for _, h := range hosts {
		name := ClaimName(GroupOf(h))
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("claim name %q of %s: %v", name, h, errs)
		}
		names[h] = name
	}
	for _, a := range hosts {
		for _, b := range hosts {
			if Conflicts(a, b) && names[a] != names[b] {
				t.Errorf("%s and %s conflict but are held in %s and %s", a, b, names[a], names[b])
			}
		}
	}
	// Groups never share a name.
	byName := map[string]string{}
	for _, h := range hosts {
		g := GroupOf(h)
		if other, ok := byName[names[h]]; ok && other != g {
			t.Errorf("groups %s and %s share the claim name %s", g, other, names[h])
		}
		byName[names[h]] = g
	}
}

func TestHold(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) metav1.Time { return metav1.NewTime(now.Add(-ago)) }
	hold := func(host, tenant string, ago time.Duration) tenancyv1alpha1.HostnameHold {
		return tenancyv1alpha1.HostnameHold{Host: host, Tenant: tenant, ClaimTime: at(ago)}
	}
	served := map[string]bool{"live.example.com/globex": true}
	live := func(_ context.Context, host, tenant string) (bool, error) { return served[host+"/"+tenant], nil }
	for _, tc := range []struct {
		name      string
		holds     []tenancyv1alpha1.HostnameHold
		hosts     []string
		want      []tenancyv1alpha1.HostnameHold
		blocked   *Blocked
		wantWrite bool
	}{
		{name: "a new hostname", hosts: []string{"shop.example.com"},
			want: []tenancyv1alpha1.HostnameHold{hold("shop.example.com", "acme", 0)}, wantWrite: true},
		{name: "another tenant's fresh hold", holds: []tenancyv1alpha1.HostnameHold{hold("shop.example.com", "globex", time.Second)},
			hosts: []string{"shop.example.com"}, blocked: &Blocked{Host: "shop.example.com", Holder: "globex", Fresh: true}},
		{name: "another tenant's fresh wildcard", holds: []tenancyv1alpha1.HostnameHold{hold("*.example.com", "globex", time.Second)},
			hosts: []string{"shop.example.com"}, blocked: &Blocked{Host: "shop.example.com", Holder: "globex", Fresh: true}},
		{name: "another tenant's old hold still served", holds: []tenancyv1alpha1.HostnameHold{hold("live.example.com", "globex", time.Hour)},
			hosts: []string{"live.example.com"}, blocked: &Blocked{Host: "live.example.com", Holder: "globex"}},
		{name: "an orphan hold expires", holds: []tenancyv1alpha1.HostnameHold{hold("shop.example.com", "globex", HoldGrace)},
			hosts: []string{"shop.example.com"}, want: []tenancyv1alpha1.HostnameHold{hold("shop.example.com", "acme", 0)}, wantWrite: true},
		{name: "holds that do not conflict stay", holds: []tenancyv1alpha1.HostnameHold{hold("api.example.com", "globex", time.Second), hold("old.example.com", "acme", time.Hour)},
			hosts: []string{"shop.example.com"},
			want:  []tenancyv1alpha1.HostnameHold{hold("api.example.com", "globex", time.Second), hold("old.example.com", "acme", time.Hour), hold("shop.example.com", "acme", 0)}, wantWrite: true},
		{name: "the tenant's own recent hold needs no write", holds: []tenancyv1alpha1.HostnameHold{hold("shop.example.com", "acme", time.Second)},
			hosts: []string{"shop.example.com"}, want: []tenancyv1alpha1.HostnameHold{hold("shop.example.com", "acme", 0)}},
		{name: "the tenant's own older hold is renewed", holds: []tenancyv1alpha1.HostnameHold{hold("shop.example.com", "acme", HoldGrace/2)},
			hosts: []string{"shop.example.com"}, want: []tenancyv1alpha1.HostnameHold{hold("shop.example.com", "acme", 0)}, wantWrite: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, blocked, write, err := Hold(context.Background(), tc.holds, tc.hosts, "acme", now, live)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.blocked, blocked); diff != "" {
				t.Fatalf("blocked (-want +got):\n%s", diff)
			}
			if tc.blocked != nil {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("holds (-want +got):\n%s", diff)
			}
			if write != tc.wantWrite {
				t.Errorf("write = %v, want %v", write, tc.wantWrite)
			}
		})
	}
}

func TestHoldBoundsATenantsHoldsInAGroup(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	never := func(context.Context, string, string) (bool, error) { return false, nil }
	var holds []tenancyv1alpha1.HostnameHold
	for i := range MaxHoldsPerTenant - 1 {
		holds = append(holds, tenancyv1alpha1.HostnameHold{Host: fmt.Sprintf("n%d.x", i), Tenant: "acme", ClaimTime: metav1.NewTime(now)})
	}
	holds = append(holds, tenancyv1alpha1.HostnameHold{Host: "shop.x", Tenant: "umbrella", ClaimTime: metav1.NewTime(now)})

	// The last one the bound allows.
	out, blocked, _, err := Hold(context.Background(), holds, []string{"last.x"}, "acme", now, never)
	if err != nil || blocked != nil {
		t.Fatalf("hold %d: blocked %+v, err %v", MaxHoldsPerTenant, blocked, err)
	}
	// One more is refused, and says so.
	_, blocked, _, err = Hold(context.Background(), out, []string{"more.x"}, "acme", now, never)
	if err != nil || blocked == nil || !blocked.TooMany || blocked.Holder != "acme" {
		t.Fatalf("hold %d: blocked %+v, err %v; want TooMany for acme", MaxHoldsPerTenant+1, blocked, err)
	}
	// Holding again a name it holds adds nothing, so it is allowed...
	if _, blocked, _, _ = Hold(context.Background(), out, []string{"n7.x"}, "acme", now, never); blocked != nil {
		t.Errorf("re-holding n7.x: blocked %+v", blocked)
	}
	// ...and another tenant is not held back by acme's bound.
	if _, blocked, _, _ = Hold(context.Background(), out, []string{"other.x"}, "umbrella", now, never); blocked != nil {
		t.Errorf("umbrella holding other.x: blocked %+v", blocked)
	}
}
