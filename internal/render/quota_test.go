package render

import (
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// kindsAndNames summarises rendered objects as "Kind namespace/name".
func kindsAndNames(objs []client.Object) []string {
	var out []string
	for _, o := range objs {
		var kind string
		switch o.(type) {
		case *corev1.ResourceQuota:
			kind = "ResourceQuota"
		case *corev1.LimitRange:
			kind = "LimitRange"
		default:
			kind = fmt.Sprintf("%T", o)
		}
		out = append(out, fmt.Sprintf("%s %s/%s", kind, o.GetNamespace(), o.GetName()))
	}
	return out
}

func TestQuotaObjects(t *testing.T) {
	tests := []struct {
		name       string
		tenant     *tenancyv1alpha1.Tenant
		namespaces []string
		want       []string
	}{
		{
			name:       "Soft has a LimitRange only",
			tenant:     testutil.Tenant("acme").Owner("alice").Obj(),
			namespaces: []string{"acme-b", "acme-a"},
			want:       []string{"LimitRange acme-a/bulkhead", "LimitRange acme-b/bulkhead"},
		},
		{
			name:       "Hard has a ResourceQuota and a LimitRange",
			tenant:     testutil.Tenant("acme").Owner("alice").Hard().Obj(),
			namespaces: []string{"acme-b", "acme-a"},
			want: []string{
				"ResourceQuota acme-a/bulkhead", "LimitRange acme-a/bulkhead",
				"ResourceQuota acme-b/bulkhead", "LimitRange acme-b/bulkhead",
			},
		},
		{
			name:   "no namespaces, nothing",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().Obj(),
		},
		{
			name: "Soft with an explicit namespace quota",
			tenant: func() *tenancyv1alpha1.Tenant {
				t := testutil.Tenant("acme").Owner("alice").Obj()
				t.Spec.Quota.Namespace = &tenancyv1alpha1.ResourceLimits{Hard: resources("pods", "5")}
				return t
			}(),
			namespaces: []string{"acme-a"},
			want:       []string{"ResourceQuota acme-a/bulkhead", "LimitRange acme-a/bulkhead"},
		},
		{
			name: "explicitly empty limits and quota render nothing",
			tenant: func() *tenancyv1alpha1.Tenant {
				t := testutil.Tenant("acme").Owner("alice").Hard().Obj()
				t.Spec.Limits = &tenancyv1alpha1.LimitsSpec{}
				t.Spec.Quota.Namespace = &tenancyv1alpha1.ResourceLimits{}
				return t
			}(),
			namespaces: []string{"acme-a"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := kindsAndNames(Quota(NewScope(tc.tenant, tc.namespaces, DefaultSettings())))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Quota() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHardQuotaCoversBenchmarkResources checks the namespace quota of a Hard
// tenant against the resources the Multi-Tenancy Benchmarks require limited
// (PL1-CC-FNS-1 and PL1-CC-FNS-2).
func TestHardQuotaCoversBenchmarkResources(t *testing.T) {
	want := []string{
		"configmaps",
		"limits.cpu",
		"limits.ephemeral-storage",
		"limits.memory",
		"persistentvolumeclaims",
		"pods",
		"replicationcontrollers",
		"requests.cpu",
		"requests.ephemeral-storage",
		"requests.memory",
		"resourcequotas",
		"secrets",
		"services",
		"services.loadbalancers",
		"services.nodeports",
	}
	tenant := testutil.Tenant("acme").UID("acme-uid").Owner("alice").Hard().Obj()
	var quotas []*corev1.ResourceQuota
	for _, o := range Quota(NewScope(tenant, []string{"acme-a"}, DefaultSettings())) {
		if q, ok := o.(*corev1.ResourceQuota); ok {
			quotas = append(quotas, q)
		}
	}
	if len(quotas) != 1 {
		t.Fatalf("Quota() rendered %d ResourceQuotas, want 1", len(quotas))
	}
	var got []string
	for name := range quotas[0].Spec.Hard {
		got = append(got, string(name))
	}
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ResourceQuota resources mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantMeta("quota", "acme-a", "bulkhead"), quotas[0].ObjectMeta); diff != "" {
		t.Errorf("ResourceQuota metadata mismatch (-want +got):\n%s", diff)
	}
}

func TestLimitRange(t *testing.T) {
	tests := []struct {
		name   string
		tenant *tenancyv1alpha1.Tenant
		want   *corev1.LimitRange
	}{
		{
			name:   "Soft gives defaults and no maximum",
			tenant: testutil.Tenant("acme").UID("acme-uid").Owner("alice").Obj(),
			want: &corev1.LimitRange{
				ObjectMeta: wantMeta("quota", "acme-a", "bulkhead"),
				Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
					Type:           corev1.LimitTypeContainer,
					DefaultRequest: resources("cpu", "100m", "memory", "128Mi", "ephemeral-storage", "256Mi"),
					Default:        resources("cpu", "500m", "memory", "512Mi", "ephemeral-storage", "1Gi"),
				}}},
			},
		},
		{
			name:   "Hard bounds every container",
			tenant: testutil.Tenant("acme").UID("acme-uid").Owner("alice").Hard().Obj(),
			want: &corev1.LimitRange{
				ObjectMeta: wantMeta("quota", "acme-a", "bulkhead"),
				Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
					Type:           corev1.LimitTypeContainer,
					DefaultRequest: resources("cpu", "100m", "memory", "128Mi", "ephemeral-storage", "256Mi"),
					Default:        resources("cpu", "500m", "memory", "512Mi", "ephemeral-storage", "1Gi"),
					Max:            resources("cpu", "4", "memory", "8Gi", "ephemeral-storage", "20Gi"),
				}}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *corev1.LimitRange
			for _, o := range Quota(NewScope(tc.tenant, []string{"acme-a"}, DefaultSettings())) {
				if lr, ok := o.(*corev1.LimitRange); ok {
					got = lr
				}
			}
			if diff := cmp.Diff(tc.want, got, quantityEqual); diff != "" {
				t.Errorf("LimitRange mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
