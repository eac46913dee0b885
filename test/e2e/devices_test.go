package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestDeviceClasses gives a Hard tenant the DeviceClass gpu and not fpga,
// and tries every place a class is named on a real API server: a claim's
// request, a firstAvailable alternative, a claim template, a pod's extended
// resource by the class's own name and by the implicit one, a Deployment's
// template; then administrative access, by the claim and by the namespace
// label Kubernetes requires for it.
func TestDeviceClasses(t *testing.T) {
	const (
		tenant = "dra"
		owner  = "dra-owner"
		ns     = "dra-app"
		image  = "registry.example.com/app:1"
	)
	for _, name := range []string{"gpu", "fpga"} {
		dc := &resourcev1.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: "test-" + name},
			Spec: resourcev1.DeviceClassSpec{ExtendedResourceName: ptr.To("example.com/test-" + name)}}
		env.Ensure(t, dc)
		t.Cleanup(func() { _ = env.Client.Delete(ctx, dc) })
	}
	tn := testutil.Tenant(tenant).Owner(owner).Hard().Registries("registry.example.com/").Obj()
	tn.Spec.Devices.Classes = []string{"test-gpu"}
	dev := env.TenantWithNamespace(t, tn, ns)
	// The TenantPolicy learns of the DeviceClasses from a watch.
	testenv.Eventually(t, "example.com/test-fpga denied in the TenantPolicy", func() error {
		p := &tenancyv1alpha1.TenantPolicy{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}, p); err != nil {
			return err
		}
		if !slices.Contains(p.Spec.Devices.DeniedExtendedResources, "example.com/test-fpga") ||
			slices.Contains(p.Spec.Devices.DeniedExtendedResources, "example.com/test-gpu") {
			return fmt.Errorf("deniedExtendedResources %v", p.Spec.Devices.DeniedExtendedResources)
		}
		return nil
	})

	request := func(edit func(*resourcev1.DeviceRequest)) resourcev1.ResourceClaimSpec {
		r := resourcev1.DeviceRequest{Name: "dev"}
		edit(&r)
		return resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{r}}}
	}
	exactly := func(class string) func(*resourcev1.DeviceRequest) {
		return func(r *resourcev1.DeviceRequest) { r.Exactly = &resourcev1.ExactDeviceRequest{DeviceClassName: class} }
	}
	claim := func(name string, edit func(*resourcev1.DeviceRequest)) *resourcev1.ResourceClaim {
		return &resourcev1.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: request(edit)}
	}
	extended := func(name, resourceName string) *corev1.Pod {
		one := corev1.ResourceList{corev1.ResourceName(resourceName): resource.MustParse("1")}
		return testutil.Pod(ns, name, image, func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests, p.Spec.Containers[0].Resources.Limits = one, one
		})
	}

	t.Run("claims name only allowed classes", func(t *testing.T) {
		if err := dev.Create(ctx, claim("gpu", exactly("test-gpu"))); err != nil {
			t.Fatalf("a claim of an allowed class: %v", err)
		}
		err := dev.Create(ctx, claim("fpga", exactly("test-fpga")))
		testenv.Rejected(t, err, tenant, "devices.classes")
		testenv.ExpectDenied(t, err, "DeviceClass test-fpga is not allowed; allowed: test-gpu")
		testenv.Rejected(t, dev.Create(ctx, claim("either", func(r *resourcev1.DeviceRequest) {
			r.FirstAvailable = []resourcev1.DeviceSubRequest{{Name: "a", DeviceClassName: "test-gpu"}, {Name: "b", DeviceClassName: "test-fpga"}}
		})), tenant, "devices.classes")
		testenv.Rejected(t, dev.Create(ctx, &resourcev1.ResourceClaimTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fpga"},
			Spec: resourcev1.ResourceClaimTemplateSpec{Spec: request(exactly("test-fpga"))}}), tenant, "devices.classes")
	})

	t.Run("pods request only allowed classes' extended resources", func(t *testing.T) {
		testenv.Rejected(t, dev.Create(ctx, extended("by-name", "example.com/test-fpga")), tenant, "devices.classes")
		testenv.Rejected(t, dev.Create(ctx, extended("implicit", resourcev1.ResourceDeviceClassPrefix+"test-fpga")), tenant, "devices.classes")
		d := testutil.Deployment(ns, "fpga", image, 1)
		d.Spec.Template.Spec = extended("t", "example.com/test-fpga").Spec
		testenv.Rejected(t, dev.Create(ctx, d), tenant, "devices.classes")
		if err := dev.Create(ctx, extended("gpu", "example.com/test-gpu"), client.DryRunAll); err != nil {
			t.Fatalf("a pod requesting the allowed class's extended resource: %v", err)
		}
	})

	t.Run("no administrative access to devices", func(t *testing.T) {
		const label = "resource.kubernetes.io/admin-access"
		adminClaim := func() *resourcev1.ResourceClaim {
			return claim("admin", func(r *resourcev1.DeviceRequest) {
				r.Exactly = &resourcev1.ExactDeviceRequest{DeviceClassName: "test-gpu", AdminAccess: ptr.To(true)}
			})
		}
		// Kubernetes itself refuses adminAccess in a namespace without
		// the label...
		testenv.ExpectDenied(t, dev.Create(ctx, adminClaim()), "requires the `"+label+": true` label")
		// ...which no tenant can set, at creation or later.
		env.GrantNamespacePatch(t, owner)
		patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+label+`":"true"}}}`))
		testenv.Rejected(t, dev.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, patch), tenant, "namespaces.labels")
		err := testenv.CreateNamespaceAs(dev, "dra-admin", map[string]string{label: "true"})
		testenv.Rejected(t, err, tenant, "namespaces.labels")
		testenv.ExpectDenied(t, err, label)
		// Should an admin label a tenant namespace by mistake, the devices
		// policy still refuses the tenant's claim.
		if err := env.Client.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, patch); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "adminAccess refused by the devices policy", func() error {
			err := dev.Create(ctx, adminClaim())
			if err == nil {
				_ = env.Client.Delete(ctx, adminClaim())
				return fmt.Errorf("admitted")
			}
			if !strings.Contains(err.Error(), "[rule devices.adminAccess]") {
				return err
			}
			return nil
		})
		testenv.Rejected(t, dev.Create(ctx, adminClaim()), tenant, "devices.adminAccess")
	})
}
