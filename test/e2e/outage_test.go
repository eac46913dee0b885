package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestIsolationHoldsWithBulkheadDown stops the manager, webhook included,
// and checks that a Hard tenant's namespace still refuses what isolates it,
// each for its own reason, while compliant pods and system namespaces work
// as usual: enforcement lives in the API server, not in Bulkhead's pods.
func TestIsolationHoldsWithBulkheadDown(t *testing.T) {
	ctx := context.Background()
	tn := testutil.Tenant("down").Owner("down-owner").Member("down-dev").Hard().
		NodePool(map[string]string{"pool": "down"}, corev1.Toleration{Key: "pool", Value: "down", Effect: corev1.TaintEffectNoSchedule}).
		Registries("registry.example.com/down/").Obj()
	env.TenantWithNamespace(t, tn, "down-app")
	dev := env.As("down-dev")

	env.StopManager()
	t.Cleanup(func() {
		if err := env.StartManager(); err != nil {
			t.Fatalf("restarting the manager: %v", err)
		}
	})

	const image = "registry.example.com/down/app:1"
	pod := func(name string, edit func(*corev1.Pod)) *corev1.Pod {
		return testutil.Pod("down-app", name, image, edit)
	}

	err := dev.Create(ctx, pod("privileged", func(p *corev1.Pod) {
		p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
		p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	}))
	testenv.ExpectDenied(t, err, `violates PodSecurity "restricted:`, "privileged")
	testenv.Rejected(t, dev.Create(ctx, pod("host-users", func(p *corev1.Pod) { p.Spec.HostUsers = ptr.To(true) })), "down", "pods.userNamespaces")
	testenv.Rejected(t, dev.Create(ctx, pod("forged", func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{{Key: "pool", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	})), "down", "nodes.tolerations")
	testenv.Rejected(t, dev.Create(ctx, testutil.Pod("down-app", "foreign", "docker.io/library/nginx:1")), "down", "pods.images.registries")
	testenv.Rejected(t, dev.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "down-app", Name: "np"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}}), "down", "services.allowedTypes")

	// A compliant pod still gets the tenant's defaults and is admitted: the
	// tenant is not blocked by Bulkhead being down.
	ok := pod("compliant", func(*corev1.Pod) {})
	if err := dev.Create(ctx, ok); err != nil {
		t.Fatalf("a compliant pod with Bulkhead down: %v", err)
	}
	if ok.Spec.NodeSelector["pool"] != "down" || ptr.Deref(ok.Spec.RuntimeClassName, "") != env.Settings.SandboxRuntimeClass {
		t.Errorf("defaults not applied with Bulkhead down: nodeSelector %v, runtimeClassName %v", ok.Spec.NodeSelector, ok.Spec.RuntimeClassName)
	}

	// Creating a Tenant waits for Bulkhead: its webhook must judge the
	// Tenant's name prefix and fails closed (see package tenants).
	if err := env.Client.Create(ctx, testutil.Tenant("down-new").Owner("x").Obj()); err == nil {
		_ = env.Client.Delete(ctx, testutil.Tenant("down-new").Obj())
		t.Error("a Tenant was created unchecked with Bulkhead down")
	} else if !strings.Contains(err.Error(), "tenants.tenancy.bulkhead.dev") {
		t.Errorf("creating a Tenant with Bulkhead down: %v, want the tenants webhook to be unreachable", err)
	}

	// System namespaces and admins are untouched.
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "down-outage-admin-ns"}}); err != nil {
		t.Fatalf("an admin creating a namespace with Bulkhead down: %v", err)
	}
	sys := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "down-outage-probe"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "docker.io/library/busybox", ImagePullPolicy: corev1.PullIfNotPresent}},
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}}}
	if err := env.Client.Create(ctx, sys); err != nil {
		t.Fatalf("a pod in kube-system with Bulkhead down: %v", err)
	}
	if sys.Spec.RuntimeClassName != nil || sys.Spec.HostUsers != nil {
		t.Errorf("a kube-system pod got tenant defaults: %+v", sys.Spec)
	}
	_ = env.Client.Delete(ctx, sys)
}
