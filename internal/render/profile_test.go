package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// quantityEqual compares quantities by value: "1Gi" and "1024Mi" are the same
// limit, and resource.Quantity keeps unexported caches cmp cannot read.
var quantityEqual = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })

func resources(pairs ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		out[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

// softSpec is the Soft column of the design's Tenant table for a tenant owned
// by alice, written out in full rather than derived from profile.go.
func softSpec() tenancyv1alpha1.TenantSpec {
	return tenancyv1alpha1.TenantSpec{
		Isolation: tenancyv1alpha1.IsolationSoft,
		Owners:    []tenancyv1alpha1.Subject{testutil.User("alice")},
		Namespaces: tenancyv1alpha1.NamespacesSpec{
			Max:            ptr.To[int32](10),
			RequirePrefix:  ptr.To(true),
			DeletionPolicy: tenancyv1alpha1.DeletionRetain,
		},
		Limits: &tenancyv1alpha1.LimitsSpec{
			DefaultRequest: resources("cpu", "100m", "memory", "128Mi", "ephemeral-storage", "256Mi"),
			Default:        resources("cpu", "500m", "memory", "512Mi", "ephemeral-storage", "1Gi"),
		},
		Network: tenancyv1alpha1.NetworkSpec{
			Isolation: tenancyv1alpha1.NetworkTenant,
			Egress:    &tenancyv1alpha1.EgressSpec{AllowInternet: ptr.To(true)},
		},
		Pods: tenancyv1alpha1.PodsSpec{
			SecurityLevel:                tenancyv1alpha1.SecurityBaseline,
			UserNamespaces:               tenancyv1alpha1.UserNamespacesAllowed,
			ServiceLinks:                 tenancyv1alpha1.ServiceLinksDisabled,
			AutomountServiceAccountToken: ptr.To(true),
			PodAffinityScope:             tenancyv1alpha1.PodAffinityTenant,
		},
		Services: tenancyv1alpha1.ServicesSpec{AllowedTypes: []tenancyv1alpha1.ServiceType{tenancyv1alpha1.ServiceTypeClusterIP, tenancyv1alpha1.ServiceTypeLoadBalancer}},
		DNS:      tenancyv1alpha1.DNSSpec{QueriesPerSecond: 1000, Burst: 2000},
	}
}

// hardSpec is the Hard column of the design's Tenant table for a tenant owned
// by alice under DefaultSettings.
func hardSpec() tenancyv1alpha1.TenantSpec {
	return tenancyv1alpha1.TenantSpec{
		Isolation: tenancyv1alpha1.IsolationHard,
		Owners:    []tenancyv1alpha1.Subject{testutil.User("alice")},
		Namespaces: tenancyv1alpha1.NamespacesSpec{
			Max:            ptr.To[int32](10),
			RequirePrefix:  ptr.To(true),
			DeletionPolicy: tenancyv1alpha1.DeletionRetain,
		},
		Quota: tenancyv1alpha1.QuotaSpec{Namespace: &tenancyv1alpha1.ResourceLimits{Hard: resources(
			"pods", "50",
			"requests.cpu", "8",
			"limits.cpu", "16",
			"requests.memory", "16Gi",
			"limits.memory", "32Gi",
			"requests.ephemeral-storage", "50Gi",
			"limits.ephemeral-storage", "100Gi",
			"services", "20",
			"services.nodeports", "0",
			"services.loadbalancers", "0",
			"replicationcontrollers", "0",
			"resourcequotas", "1",
			"secrets", "100",
			"configmaps", "100",
			"persistentvolumeclaims", "20",
		)}},
		Limits: &tenancyv1alpha1.LimitsSpec{
			DefaultRequest: resources("cpu", "100m", "memory", "128Mi", "ephemeral-storage", "256Mi"),
			Default:        resources("cpu", "500m", "memory", "512Mi", "ephemeral-storage", "1Gi"),
			Max:            resources("cpu", "4", "memory", "8Gi", "ephemeral-storage", "20Gi"),
		},
		Network: tenancyv1alpha1.NetworkSpec{
			Isolation: tenancyv1alpha1.NetworkNamespace,
			Egress: &tenancyv1alpha1.EgressSpec{
				AllowInternet: ptr.To(false),
				DenyCIDRs:     []string{"169.254.169.254/32"},
			},
		},
		Pods: tenancyv1alpha1.PodsSpec{
			SecurityLevel:                tenancyv1alpha1.SecurityRestricted,
			UserNamespaces:               tenancyv1alpha1.UserNamespacesRequired,
			ServiceLinks:                 tenancyv1alpha1.ServiceLinksForbidden,
			AutomountServiceAccountToken: ptr.To(false),
			PodAffinityScope:             tenancyv1alpha1.PodAffinityTenant,
			RuntimeClass:                 &tenancyv1alpha1.ClassPolicy{Default: "gvisor", Allowed: []string{"gvisor"}},
			Images:                       &tenancyv1alpha1.ImagesSpec{PullPolicy: corev1.PullAlways},
		},
		Services: tenancyv1alpha1.ServicesSpec{AllowedTypes: []tenancyv1alpha1.ServiceType{tenancyv1alpha1.ServiceTypeClusterIP}},
		DNS:      tenancyv1alpha1.DNSSpec{QueriesPerSecond: 100, Burst: 200},
	}
}

func TestEffective(t *testing.T) {
	noSandbox := DefaultSettings()
	noSandbox.SandboxRuntimeClass = ""

	ownLimits := &tenancyv1alpha1.LimitsSpec{Max: resources("cpu", "32")}
	ownQuota := &tenancyv1alpha1.ResourceLimits{Hard: resources("pods", "500")}

	tests := []struct {
		name     string
		tenant   *tenancyv1alpha1.Tenant
		settings *Settings // nil means DefaultSettings
		want     func() tenancyv1alpha1.TenantSpec
	}{
		{
			name:   "no isolation set is Soft",
			tenant: testutil.Tenant("acme").Owner("alice").Obj(),
			want:   softSpec,
		},
		{
			name:   "Soft",
			tenant: testutil.Tenant("acme").Owner("alice").Soft().Obj(),
			want:   softSpec,
		},
		{
			name:   "Hard",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().Obj(),
			want:   hardSpec,
		},
		{
			name:   "Hard keeps an explicit network isolation Tenant",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().NetworkIsolation(tenancyv1alpha1.NetworkTenant).Obj(),
			want: func() tenancyv1alpha1.TenantSpec {
				s := hardSpec()
				s.Network.Isolation = tenancyv1alpha1.NetworkTenant
				return s
			},
		},
		{
			name:   "Hard keeps an explicit allowInternet and still denies the metadata IP",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().AllowInternet(true).Obj(),
			want: func() tenancyv1alpha1.TenantSpec {
				s := hardSpec()
				s.Network.Egress.AllowInternet = ptr.To(true)
				return s
			},
		},
		{
			name:   "Hard appends the metadata IP to the admin's denyCIDRs",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().DenyCIDRs("10.0.0.0/8").Obj(),
			want: func() tenancyv1alpha1.TenantSpec {
				s := hardSpec()
				s.Network.Egress.DenyCIDRs = []string{"10.0.0.0/8", "169.254.169.254/32"}
				return s
			},
		},
		{
			name:   "Hard lists the metadata IP once when the admin already denied it",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().DenyCIDRs("169.254.169.254/32", "10.0.0.0/8").Obj(),
			want: func() tenancyv1alpha1.TenantSpec {
				s := hardSpec()
				s.Network.Egress.DenyCIDRs = []string{"169.254.169.254/32", "10.0.0.0/8"}
				return s
			},
		},
		{
			name:   "Soft does not deny the metadata IP on its own",
			tenant: testutil.Tenant("acme").Owner("alice").DenyCIDRs("10.0.0.0/8").Obj(),
			want: func() tenancyv1alpha1.TenantSpec {
				s := softSpec()
				s.Network.Egress.DenyCIDRs = []string{"10.0.0.0/8"}
				return s
			},
		},
		{
			name:   "Soft keeps explicit Namespace isolation and no internet",
			tenant: testutil.Tenant("acme").Owner("alice").NetworkIsolation(tenancyv1alpha1.NetworkNamespace).AllowInternet(false).Obj(),
			want: func() tenancyv1alpha1.TenantSpec {
				s := softSpec()
				s.Network.Isolation = tenancyv1alpha1.NetworkNamespace
				s.Network.Egress.AllowInternet = ptr.To(false)
				return s
			},
		},
		{
			name: "Hard keeps explicit namespace settings and security level",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().
				Max(3).RequirePrefix(false).DeletionPolicy(tenancyv1alpha1.DeletionDelete).
				SecurityLevel(tenancyv1alpha1.SecurityBaseline).Obj(),
			want: func() tenancyv1alpha1.TenantSpec {
				s := hardSpec()
				s.Namespaces.Max = ptr.To[int32](3)
				s.Namespaces.RequirePrefix = ptr.To(false)
				s.Namespaces.DeletionPolicy = tenancyv1alpha1.DeletionDelete
				s.Pods.SecurityLevel = tenancyv1alpha1.SecurityBaseline
				return s
			},
		},
		{
			name:   "Hard keeps an explicit max of zero namespaces",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().Max(0).Obj(),
			want: func() tenancyv1alpha1.TenantSpec {
				s := hardSpec()
				s.Namespaces.Max = ptr.To[int32](0)
				return s
			},
		},
		{
			name: "Hard keeps the admin's limits and namespace quota whole",
			tenant: func() *tenancyv1alpha1.Tenant {
				t := testutil.Tenant("acme").Owner("alice").Hard().Obj()
				t.Spec.Limits = ownLimits.DeepCopy()
				t.Spec.Quota.Namespace = ownQuota.DeepCopy()
				return t
			}(),
			want: func() tenancyv1alpha1.TenantSpec {
				s := hardSpec()
				s.Limits = ownLimits.DeepCopy()
				s.Quota.Namespace = ownQuota.DeepCopy()
				return s
			},
		},
		{
			name:     "Hard without a sandbox RuntimeClass in the settings leaves runtimeClass unset",
			tenant:   testutil.Tenant("acme").Owner("alice").Hard().Obj(),
			settings: &noSandbox,
			want: func() tenancyv1alpha1.TenantSpec {
				s := hardSpec()
				s.Pods.RuntimeClass = nil
				return s
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			if tc.settings != nil {
				s = *tc.settings
			}
			before := tc.tenant.DeepCopy()
			got := Effective(tc.tenant, s)
			if diff := cmp.Diff(tc.want(), got, quantityEqual); diff != "" {
				t.Errorf("Effective() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.tenant, quantityEqual); diff != "" {
				t.Errorf("Effective() changed its input (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEffectiveIsIdempotent guards the controllers that store or compare an
// effective spec: defaulting it again must change nothing, and in particular
// must not list the metadata IP twice.
// TestDNSLimits: the profile's rate, an admin's rate, and a burst of twice
// the rate unless set.
func TestDNSLimits(t *testing.T) {
	for _, c := range []struct {
		spec       tenancyv1alpha1.TenantSpec
		qps, burst int32
	}{
		{tenancyv1alpha1.TenantSpec{}, 1000, 2000},
		{tenancyv1alpha1.TenantSpec{Isolation: tenancyv1alpha1.IsolationHard}, 100, 200},
		{tenancyv1alpha1.TenantSpec{Isolation: tenancyv1alpha1.IsolationHard, DNS: tenancyv1alpha1.DNSSpec{QueriesPerSecond: 50}}, 50, 100},
		{tenancyv1alpha1.TenantSpec{DNS: tenancyv1alpha1.DNSSpec{QueriesPerSecond: 50, Burst: 7}}, 50, 7},
	} {
		if qps, burst := DNSLimits(&c.spec); qps != c.qps || burst != c.burst {
			t.Errorf("%+v: %d/%d, want %d/%d", c.spec.DNS, qps, burst, c.qps, c.burst)
		}
	}
}

func TestEffectiveIsIdempotent(t *testing.T) {
	tenants := []*tenancyv1alpha1.Tenant{
		testutil.Tenant("soft").Owner("alice").Obj(),
		testutil.Tenant("hard").Owner("alice").Hard().Obj(),
		testutil.Tenant("hard-open").Owner("alice").Hard().AllowInternet(true).DenyCIDRs("10.0.0.0/8").Obj(),
	}
	for _, tenant := range tenants {
		t.Run(tenant.Name, func(t *testing.T) {
			once := Effective(tenant, DefaultSettings())
			again := tenant.DeepCopy()
			again.Spec = once
			twice := Effective(again, DefaultSettings())
			if diff := cmp.Diff(once, twice, quantityEqual); diff != "" {
				t.Errorf("Effective(Effective()) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
