package observe

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Quota scopes, the scope label of the quota series.
const (
	// ScopeTenant is spec.quota.tenant: summed over the tenant's namespaces.
	ScopeTenant = "tenant"
	// ScopeNamespace is spec.quota.namespace: the ResourceQuota of each
	// namespace, summed over the tenant's namespaces (so the limit is
	// per-namespace hard times namespaces).
	ScopeNamespace = "namespace"
)

var (
	tenantInfo = prometheus.NewDesc("bulkhead_tenant_info",
		"One series per Tenant, always 1, labelled with its isolation and state.", []string{"tenant", "isolation", "state"}, nil)
	tenantNamespaces = prometheus.NewDesc("bulkhead_tenant_namespaces",
		"Namespaces the tenant holds.", []string{"tenant"}, nil)
	tenantNamespacesMax = prometheus.NewDesc("bulkhead_tenant_namespaces_max",
		"The tenant's effective namespaces.max (0 when unlimited).", []string{"tenant"}, nil)
	tenantCondition = prometheus.NewDesc("bulkhead_tenant_condition",
		"1 when the Tenant's condition of this type is True, 0 otherwise: Ready and one per concern.", []string{"tenant", "type"}, nil)
	quotaUsed = prometheus.NewDesc("bulkhead_tenant_quota_used",
		"Use of each limited quota resource: tenant scope as of the last recount, namespace scope summed over the tenant's ResourceQuotas.",
		[]string{"tenant", "scope", "resource"}, nil)
	quotaHard = prometheus.NewDesc("bulkhead_tenant_quota_hard",
		"Limit of each quota resource: tenant scope from spec.quota.tenant.hard, namespace scope the hard of the tenant's ResourceQuotas, summed.",
		[]string{"tenant", "scope", "resource"}, nil)
)

// TenantCollector exports the per-tenant series, read from Reader (the
// manager's cache) at each scrape.
type TenantCollector struct {
	mu     sync.Mutex
	reader client.Reader
}

var (
	tenantCollector = &TenantCollector{}
	registerOnce    sync.Once
)

// CollectTenants makes the registry's per-tenant series read from r, the
// latest manager's cache: a process that starts a new manager (the tests)
// reads from the new one.
func CollectTenants(r client.Reader) {
	registerOnce.Do(func() { metrics.Registry.MustRegister(tenantCollector) })
	tenantCollector.mu.Lock()
	tenantCollector.reader = r
	tenantCollector.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *TenantCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{tenantInfo, tenantNamespaces, tenantNamespacesMax, tenantCondition, quotaUsed, quotaHard} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *TenantCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.mu.Lock()
	reader := c.reader
	c.mu.Unlock()
	if reader == nil {
		return
	}
	tenants := &tenancyv1alpha1.TenantList{}
	if err := reader.List(ctx, tenants); err != nil {
		ctrl.Log.WithName("metrics").Error(err, "Listing Tenants for the metrics")
		return
	}
	quotas := &corev1.ResourceQuotaList{}
	if err := reader.List(ctx, quotas, client.MatchingLabels{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}); err != nil {
		ctrl.Log.WithName("metrics").Error(err, "Listing ResourceQuotas for the metrics")
	}
	byTenant := map[string][]*corev1.ResourceQuota{}
	for i := range quotas.Items {
		q := &quotas.Items[i]
		if tenant := q.Labels[tenancyv1alpha1.TenantLabel]; tenant != "" {
			byTenant[tenant] = append(byTenant[tenant], q)
		}
	}
	for i := range tenants.Items {
		collectTenant(ch, &tenants.Items[i], byTenant[tenants.Items[i].Name])
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func collectTenant(ch chan<- prometheus.Metric, t *tenancyv1alpha1.Tenant, quotas []*corev1.ResourceQuota) {
	isolation := string(t.Spec.Isolation)
	if isolation == "" {
		isolation = string(tenancyv1alpha1.IsolationSoft)
	}
	state := string(t.Spec.State)
	if state == "" {
		state = string(tenancyv1alpha1.TenantActive)
	}
	gauge(ch, tenantInfo, 1, t.Name, isolation, state)
	gauge(ch, tenantNamespaces, float64(t.Status.NamespaceCount), t.Name)
	gauge(ch, tenantNamespacesMax, float64(t.Status.NamespaceMax), t.Name)
	for _, cond := range t.Status.Conditions {
		v := 0.0
		if cond.Status == "True" {
			v = 1
		}
		gauge(ch, tenantCondition, v, t.Name, cond.Type)
	}
	if t.Spec.Quota.Tenant != nil {
		for name, q := range t.Spec.Quota.Tenant.Hard {
			gauge(ch, quotaHard, q.AsApproximateFloat64(), t.Name, ScopeTenant, string(name))
		}
		for name, q := range t.Status.Usage {
			gauge(ch, quotaUsed, q.AsApproximateFloat64(), t.Name, ScopeTenant, string(name))
		}
	}
	used, hard := corev1.ResourceList{}, corev1.ResourceList{}
	for _, rq := range quotas {
		sum(hard, rq.Spec.Hard)
		sum(used, rq.Status.Used)
	}
	for name, q := range hard {
		gauge(ch, quotaHard, q.AsApproximateFloat64(), t.Name, ScopeNamespace, string(name))
		u := used[name]
		gauge(ch, quotaUsed, u.AsApproximateFloat64(), t.Name, ScopeNamespace, string(name))
	}
}

func sum(into, add corev1.ResourceList) {
	for name, q := range add {
		total := into[name]
		total.Add(q)
		into[name] = total
	}
}
