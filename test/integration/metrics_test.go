package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// gathered returns the manager's metric families by name (the manager runs
// in this process, so its registry is this one).
func gathered(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range families {
		out[f.GetName()] = f
	}
	return out
}

// series finds the series of family name whose labels include want.
func series(f *dto.MetricFamily, want map[string]string) *dto.Metric {
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			if have[k] != v {
				ok = false
			}
		}
		if ok {
			return m
		}
	}
	return nil
}

// TestTenantMetricsAndEvents: a tenant's namespaces, limits, usage and
// conditions are exported per tenant; a webhook denial is counted by rule
// and told as a Warning Event on the Tenant; a condition change is told as
// an Event too.
func TestTenantMetricsAndEvents(t *testing.T) {
	l := testutil.Quantities
	tn := testutil.Tenant("obs").Owner("obs-owner").TenantQuota(l("pods", "7")).NamespaceQuota(l("pods", "3")).Obj()
	owner := env.TenantWithNamespace(t, tn, "obs-a")
	deleteLedgerAtEnd(t, "obs")
	testenv.OwnerCreatesNamespace(t, owner, "obs-b")

	testenv.Eventually(t, "the tenant's series", func() error {
		g := gathered(t)
		for _, c := range []struct {
			family string
			labels map[string]string
			want   float64
		}{
			{"bulkhead_tenant_info", map[string]string{"tenant": "obs", "isolation": "Soft", "state": "Active"}, 1},
			{"bulkhead_tenant_namespaces", map[string]string{"tenant": "obs"}, 2},
			{"bulkhead_tenant_condition", map[string]string{"tenant": "obs", "type": "Ready"}, 1},
			{"bulkhead_tenant_quota_hard", map[string]string{"tenant": "obs", "scope": "tenant", "resource": "pods"}, 7},
			{"bulkhead_tenant_quota_used", map[string]string{"tenant": "obs", "scope": "tenant", "resource": "pods"}, 0},
			{"bulkhead_tenant_quota_hard", map[string]string{"tenant": "obs", "scope": "namespace", "resource": "pods"}, 6},
		} {
			m := series(g[c.family], c.labels)
			if m == nil {
				return fmt.Errorf("no %s%v", c.family, c.labels)
			}
			if got := m.GetGauge().GetValue(); got != c.want {
				return fmt.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
			}
		}
		return nil
	})

	denied := func() float64 {
		m := series(gathered(t)["bulkhead_webhook_decisions_total"], map[string]string{"webhook": "namespaces-mutate", "decision": "denied", "rule": "namespaces.requirePrefix"})
		return m.GetCounter().GetValue()
	}
	before := denied()
	err := testenv.CreateNamespaceAs(owner, "elsewhere", nil)
	testenv.Rejected(t, err, "obs", "namespaces.requirePrefix")
	if after := denied(); after != before+1 {
		t.Errorf("denials by namespaces.requirePrefix went from %v to %v, want one more", before, after)
	}
	testenv.Eventually(t, "a Warning Event on the Tenant for the denial", func() error {
		return eventOn("obs", "Denied", "namespaces.requirePrefix")
	})

	// A condition that changes: the tenant frozen.
	env.UpdateTenant(t, "obs", func(t *tenancyv1alpha1.Tenant) { t.Spec.State = tenancyv1alpha1.TenantFrozen })
	testenv.Eventually(t, "an Event for the Frozen condition", func() error {
		return eventOn("obs", "", "Frozen is True")
	})
}

// eventOn finds an Event about Tenant name with reason (any when empty)
// whose note contains text.
func eventOn(name, reason, text string) error {
	list := &eventsv1.EventList{}
	if err := env.Client.List(ctx, list, client.InNamespace("default")); err != nil {
		return err
	}
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Kind != "Tenant" || e.Regarding.Name != name {
			continue
		}
		if (reason == "" || e.Reason == reason) && strings.Contains(e.Note, text) {
			return nil
		}
		notes = append(notes, e.Reason+": "+e.Note)
	}
	return fmt.Errorf("no Event %q with %q on Tenant %s among %q", reason, text, name, notes)
}

// TestDashboardQueriesExportedMetrics: every metric the Grafana dashboard
// queries is one the manager exports.
// needMetricsAPI are the series that exist only where metrics.k8s.io is
// served, which this tier's cluster does not: TestRightsizing (end-to-end
// tier) checks that the manager exports them.
var needMetricsAPI = []string{
	"bulkhead_tenant_resource_requests", "bulkhead_tenant_resource_usage",
	"bulkhead_tenant_resource_recommendation", "bulkhead_rightsizing_resizes_total",
}

func TestDashboardQueriesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "grafana", "bulkhead-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`\b(bulkhead_[a-z_]+|controller_runtime_[a-z_]+)\b`)
	var queried []string
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, m := range name.FindAllString(target.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if strings.HasSuffix(m, suffix) && strings.HasPrefix(m, "controller_runtime_reconcile_time") {
						m = strings.TrimSuffix(m, suffix)
					}
				}
				if !slices.Contains(queried, m) {
					queried = append(queried, m)
				}
			}
		}
	}
	if len(queried) < 8 {
		t.Fatalf("the dashboard queries only %v", queried)
	}
	// The tenant series exist once a Tenant with quotas does, the
	// decisions once a webhook answered.
	l := testutil.Quantities
	env.TenantWithNamespace(t, testutil.Tenant("dash").Owner("dash-owner").TenantQuota(l("pods", "5")).NamespaceQuota(l("pods", "2")).Obj(), "dash-a")
	deleteLedgerAtEnd(t, "dash")
	testenv.Eventually(t, "every queried metric exported", func() error {
		g := gathered(t)
		var missing []string
		for _, m := range queried {
			if g[m] == nil && !slices.Contains(needMetricsAPI, m) {
				missing = append(missing, m)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("the dashboard queries %v, which the manager does not export", missing)
		}
		return nil
	})
}
