package claims

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

func TestStanding(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	hold := func(host, tenant string, age time.Duration) tenancyv1alpha1.HostnameHold {
		return tenancyv1alpha1.HostnameHold{Host: host, Tenant: tenant, ClaimTime: metav1.NewTime(now.Add(-age))}
	}
	served := map[string]bool{"a.x/acme": true}
	live := func(_ context.Context, host, tenant string) (bool, error) { return served[host+"/"+tenant], nil }

	holds := []tenancyv1alpha1.HostnameHold{
		hold("a.x", "acme", time.Hour),          // served: stays
		hold("b.x", "acme", time.Hour),          // stale: goes
		hold("c.x", "umbrella", 10*time.Second), // fresh: stays, recheck in 20 s
		hold("d.x", "umbrella", 25*time.Second), // fresh: stays, recheck in 5 s
		hold("a.x", "umbrella", HoldGrace),      // exactly HoldGrace old, unserved: goes
	}
	kept, changed, recheck, err := Standing(context.Background(), holds, now, live)
	if err != nil {
		t.Fatal(err)
	}
	if want := []tenancyv1alpha1.HostnameHold{holds[0], holds[2], holds[3]}; !cmp.Equal(kept, want) {
		t.Errorf("kept (-want +got):\n%s", cmp.Diff(want, kept))
	}
	if !changed {
		t.Error("changed = false, want true: two holds were dropped")
	}
	if recheck != 5*time.Second {
		t.Errorf("recheck = %v, want 5s (when d.x's hold stops being fresh)", recheck)
	}

	// Nothing to drop, nothing fresh: no change, no recheck.
	kept, changed, recheck, _ = Standing(context.Background(), holds[:1], now, live)
	if len(kept) != 1 || changed || recheck != 0 {
		t.Errorf("one served hold: kept %d changed %v recheck %v, want 1 false 0", len(kept), changed, recheck)
	}
	// All stale: nothing kept, so the claim goes.
	kept, changed, _, _ = Standing(context.Background(), holds[1:2], now, live)
	if len(kept) != 0 || !changed {
		t.Errorf("one stale hold: kept %d changed %v, want 0 true", len(kept), changed)
	}

	// A cache that cannot answer keeps everything: the error is returned
	// and nothing is decided on it.
	boom := errors.New("cache not synced")
	if _, _, _, err := Standing(context.Background(), holds, now, func(context.Context, string, string) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
}
