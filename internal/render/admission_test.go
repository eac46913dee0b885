package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func TestCanonicalToleration(t *testing.T) {
	for _, tc := range []struct {
		in   corev1.Toleration
		want string
	}{
		{corev1.Toleration{Key: "pool", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}, "pool|Equal|gpu|NoSchedule|"},
		{corev1.Toleration{Key: "pool", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}, "pool|Equal|gpu|NoSchedule|"},
		{corev1.Toleration{Operator: corev1.TolerationOpExists}, "|Exists|||"},
		{corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)}, "k|Exists||NoExecute|300"},
	} {
		if got := CanonicalToleration(tc.in); got != tc.want {
			t.Errorf("CanonicalToleration(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTenantPolicySpec(t *testing.T) {
	s := DefaultSettings()
	pool := corev1.Toleration{Key: "pool", Value: "acme", Effect: corev1.TaintEffectNoSchedule}
	soft := tenancyv1alpha1.TenantPolicySpec{
		Tenant:    "acme",
		Isolation: tenancyv1alpha1.IsolationSoft,
		Pods: tenancyv1alpha1.PodRules{
			NodeSelector: map[string]string{}, Tolerations: []corev1.Toleration{}, AllowedTolerations: []string{},
			RuntimeClassOverhead: corev1.ResourceList{},
			RuntimeClasses:       []string{}, AutomountServiceAccountToken: true, Registries: []string{}, PriorityClasses: []string{},
			PodAffinityScope: tenancyv1alpha1.PodAffinityTenant,
		},
		Network: tenancyv1alpha1.NetworkRules{ServiceTypes: []string{"ClusterIP", "LoadBalancer"}, IngressClasses: []string{}, Hostnames: []string{},
			GatewayParents: []string{}, OwnGateways: true, GatewayClasses: []string{},
			Isolation: tenancyv1alpha1.NetworkTenant, AllowFromTenants: []string{}, AllowInternet: true, AllowCIDRs: []string{}, DenyCIDRs: []string{}},
		Storage: tenancyv1alpha1.StorageRules{Classes: []string{}},
		Devices: tenancyv1alpha1.DeviceRules{AnyClass: true, Classes: []string{}, DeniedExtendedResources: []string{}},
		// Subjects are the tenant's in every profile; only Hard limits ClusterRoles.
		RBAC: tenancyv1alpha1.RBACRules{Subjects: []string{"User:alice"}, Namespaces: []string{"acme-a", "acme-b"}, ClusterRoles: []string{}},
	}
	hard := *soft.DeepCopy()
	hard.Isolation = tenancyv1alpha1.IsolationHard
	hard.Pods.RuntimeClassDefault, hard.Pods.RuntimeClasses = "gvisor", []string{"gvisor"}
	hard.Pods.RequireUserNamespace, hard.Pods.EnforceServiceLinks, hard.Pods.AutomountServiceAccountToken = true, true, false
	hard.Pods.PullPolicy = "Always"
	hard.Network.ServiceTypes = []string{"ClusterIP"}
	hard.Network.Isolation, hard.Network.EgressRestricted, hard.Network.AllowInternet = tenancyv1alpha1.NetworkNamespace, true, false
	hard.Network.DenyCIDRs = []string{MetadataIP}
	hard.Devices.AnyClass = false
	hard.Network.OwnGateways = false
	hard.RBAC = tenancyv1alpha1.RBACRules{
		Restricted:   true,
		Subjects:     []string{"Group:acme-devs", "ServiceAccount:ci:deployer", "User:alice", "User:bob"},
		Namespaces:   []string{"acme-a", "acme-b"},
		ClusterRoles: []string{"admin", "bulkhead:tenant-owner", "edit", "view"},
	}
	pinned := *soft.DeepCopy()
	pinned.Pods.NodeSelector = map[string]string{"pool": "acme"}
	pinned.Pods.Tolerations = []corev1.Toleration{pool}
	pinned.Pods.AllowedTolerations = []string{"pool|Equal|acme|NoSchedule|"}
	pinned.Pods.Registries, pinned.Pods.PullPolicy = []string{"ghcr.io/acme/"}, "IfNotPresent"
	pinned.Pods.PriorityClassDefault, pinned.Pods.PriorityDefault, pinned.Pods.PriorityClasses = "acme", 1000, []string{"acme", "acme-low"}
	pinned.Pods.RuntimeClassDefault = "kata"
	pinned.Network.IngressClasses, pinned.Network.Hostnames = []string{"public"}, []string{"*.acme.example.com"}
	pinned.Network.ServiceTypes = []string{"ClusterIP", "NodePort"}
	pinned.Storage.Classes = []string{"fast"}

	// A sandbox class with overhead and a node pool of its own: what the
	// RuntimeClass admission step would add, Bulkhead adds with the class.
	sandboxTol := corev1.Toleration{Key: "sandbox", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	kataTol := corev1.Toleration{Key: "kata", Operator: corev1.TolerationOpExists}
	classes := map[string]*nodev1.RuntimeClass{
		"gvisor": {Handler: "runsc", Overhead: &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
			Scheduling: &nodev1.Scheduling{NodeSelector: map[string]string{"sandbox": "gvisor"}, Tolerations: []corev1.Toleration{sandboxTol}}},
		"kata": {Handler: "kata", Scheduling: &nodev1.Scheduling{Tolerations: []corev1.Toleration{kataTol}}},
	}
	sandboxed := *hard.DeepCopy()
	sandboxed.RBAC = tenancyv1alpha1.RBACRules{Restricted: true, Subjects: []string{"User:alice"}, Namespaces: []string{"acme-a", "acme-b"},
		ClusterRoles: hard.RBAC.ClusterRoles}
	sandboxed.Pods.RuntimeClasses = []string{"gvisor", "kata"}
	sandboxed.Pods.RuntimeClassOverhead = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
	sandboxed.Pods.NodeSelector = map[string]string{"sandbox": "gvisor"}
	sandboxed.Pods.Tolerations = []corev1.Toleration{sandboxTol}
	sandboxed.Pods.AllowedTolerations = []string{"sandbox|Exists||NoSchedule|", "kata|Exists|||"}

	for _, tc := range []struct {
		name   string
		tenant *tenancyv1alpha1.Tenant
		in     PolicyInputs
		want   tenancyv1alpha1.TenantPolicySpec
	}{
		{"Soft: permissive, every list present", testutil.Tenant("acme").Owner("alice").Obj(), PolicyInputs{}, soft},
		{"Hard: sandbox, user namespaces, no service links, restricted RBAC",
			testutil.Tenant("acme").Owner("alice").Group("acme-devs").ServiceAccount("ci", "deployer").Member("bob").Viewer("alice").Hard().Obj(),
			PolicyInputs{}, hard},
		{"explicit settings win over the profile",
			testutil.Tenant("acme").Owner("alice").NodePool(map[string]string{"pool": "acme"}, pool).
				Registries("ghcr.io/acme/").PullPolicy(corev1.PullIfNotPresent).PriorityClasses("acme", "acme", "acme-low").
				RuntimeClass("kata").Ingress([]string{"public"}, []string{"*.acme.example.com"}).
				ServiceTypes("ClusterIP", "NodePort").StorageClasses("fast").Obj(),
			PolicyInputs{PriorityValue: 1000}, pinned},
		{"the default runtime class's overhead and scheduling come with it",
			testutil.Tenant("acme").Owner("alice").Hard().RuntimeClass("gvisor", "gvisor", "kata").Obj(),
			PolicyInputs{RuntimeClasses: classes}, sandboxed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TenantPolicySpec(NewScope(tc.tenant, []string{"acme-b", "acme-a"}, s), tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("TenantPolicySpec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTenantPolicies(t *testing.T) {
	tn := testutil.Tenant("acme").Owner("alice").UID("u1").Obj()
	objs := TenantPolicies(NewScope(tn, []string{"acme-b", "acme-a"}, DefaultSettings()), PolicyInputs{Protected: map[string]bool{"acme-b": true}})
	if got, want := len(objs), 2; got != want {
		t.Fatalf("got %d TenantPolicies, want %d", got, want)
	}
	for i, ns := range []string{"acme-a", "acme-b"} {
		p := objs[i].(*tenancyv1alpha1.TenantPolicy)
		if p.Namespace != ns || p.Name != tenancyv1alpha1.TenantPolicyName {
			t.Errorf("object %d is %s/%s, want %s/%s", i, p.Namespace, p.Name, ns, tenancyv1alpha1.TenantPolicyName)
		}
		// Only the namespace whose NetworkPolicies exist admits pods.
		if p.Spec.Protected != (ns == "acme-b") {
			t.Errorf("TenantPolicy %s protected = %v", ns, p.Spec.Protected)
		}
		if p.Labels[tenancyv1alpha1.ConcernLabel] != string(ConcernAdmission) || p.OwnerReferences[0].UID != "u1" {
			t.Errorf("TenantPolicy %s lacks the managed labels or the owner reference: %+v", ns, p.ObjectMeta)
		}
	}
}
