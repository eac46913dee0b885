package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// noMutatingPolicies turns MutatingAdmissionPolicy off in the API server,
// as on Kubernetes 1.34 and 1.35 without the feature gate: the API is not
// served, and its admission plugin (which would wait for it) is off.
var noMutatingPolicies = []string{
	"--runtime-config=admissionregistration.k8s.io/v1/mutatingadmissionpolicies=false," +
		"admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings=false",
	"--disable-admission-plugins=MutatingAdmissionPolicy",
}

// TestWebhookFallback runs a second cluster whose API server does not serve
// MutatingAdmissionPolicy. Bulkhead notices through discovery and serves
// the same defaults from its webhook; the validating policies still hold
// the line, and with the webhook down they refuse what a missing default
// would leave open rather than letting it through.
func TestWebhookFallback(t *testing.T) {
	ctx := context.Background()
	fb, err := testenv.Start(devcluster.Options{ControllerManager: true, ExtraAPIServerArgs: noMutatingPolicies})
	if err != nil {
		t.Fatalf("starting a cluster without MutatingAdmissionPolicy: %v", err)
	}
	// The helpers of this package act on env: point it at this cluster.
	primary := env
	env = fb
	t.Cleanup(func() { env = primary; fb.Stop() })

	served, err := bwebhook.MutatingPoliciesServed(fb.Client.RESTMapper())
	if err != nil || served {
		t.Fatalf("MutatingAdmissionPolicy served = %v (%v); the cluster should lack it", served, err)
	}
	tenantWithNamespace(t, testutil.Tenant("fb").Owner("fb-owner").Member("fb-dev").Hard().
		NodePool(map[string]string{"pool": "wl"}, poolToleration).Obj(), "fb-app")
	dev := env.As("fb-dev")
	const image = "registry.example.com/app:1"

	runDefaultsTable(t, dev, "fb-app")
	sa := &corev1.ServiceAccount{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "fb-app", Name: "default"}, sa); err != nil {
		t.Fatal(err)
	}
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("default ServiceAccount automountServiceAccountToken = %v, want false", sa.AutomountServiceAccountToken)
	}
	rejected(t, dev.Create(ctx, testutil.Pod("fb-app", "forged", image, func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{{Key: "pool", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	})), "fb", "nodes.tolerations")

	// Bulkhead down: the webhook fails open, and the validating policies
	// refuse the pod that lacks the tenant's defaults.
	fb.StopManager()
	rejected(t, dev.Create(ctx, testutil.Pod("fb-app", "undefaulted", image)), "fb", "nodes.selector")
	explicit := func(p *corev1.Pod) {
		p.Spec.NodeSelector = map[string]string{"pool": "wl"}
		p.Spec.Tolerations = []corev1.Toleration{poolToleration}
		p.Spec.RuntimeClassName = ptr.To(env.Settings.SandboxRuntimeClass)
		p.Spec.HostUsers = ptr.To(false)
		p.Spec.EnableServiceLinks = ptr.To(false)
		p.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways
	}
	if err := dev.Create(ctx, testutil.Pod("fb-app", "explicit", image, explicit)); err != nil {
		t.Fatalf("a pod that sets the defaults itself, with Bulkhead down: %v", err)
	}
	// A ServiceAccount made while the defaults are not served keeps the
	// token mount on; a pod that does not say otherwise would carry the
	// token, which the tenant's pods get only when they ask.
	late := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "fb-app", Name: "late"}}
	if err := env.As("fb-owner").Create(ctx, late); err != nil {
		t.Fatal(err)
	}
	withLate := func(p *corev1.Pod) { p.Spec.ServiceAccountName = "late" }
	rejected(t, dev.Create(ctx, testutil.Pod("fb-app", "token", image, explicit, withLate)), "fb", "pods.automountServiceAccountToken")
	if err := dev.Create(ctx, testutil.Pod("fb-app", "no-token", image, explicit, withLate, func(p *corev1.Pod) {
		p.Spec.AutomountServiceAccountToken = ptr.To(false)
	})); err != nil {
		t.Fatalf("a pod that declines the token itself, with Bulkhead down: %v", err)
	}
	// Each default left out is refused by the rule that requires it.
	for _, tc := range []struct {
		rule string
		undo func(*corev1.Pod)
	}{
		{"nodes.selector", func(p *corev1.Pod) { p.Spec.NodeSelector = nil }},
		{"pods.runtimeClass", func(p *corev1.Pod) { p.Spec.RuntimeClassName = nil }},
		{"pods.userNamespaces", func(p *corev1.Pod) { p.Spec.HostUsers = nil }},
		{"pods.serviceLinks", func(p *corev1.Pod) { p.Spec.EnableServiceLinks = nil }}, // the API server defaults it to true
		{"pods.images.pullPolicy", func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent }},
	} {
		t.Run("without the default for "+tc.rule, func(t *testing.T) {
			p := testutil.Pod("fb-app", "missing", image, explicit, tc.undo)
			rejected(t, dev.Create(ctx, p), "fb", tc.rule)
		})
	}
}

// TestDefaultsTable runs on the main cluster, where the defaults come from
// MutatingAdmissionPolicy, the table TestWebhookFallback runs where they
// come from the webhook: the two paths must give the same pods.
func TestDefaultsTable(t *testing.T) {
	tenantWithNamespace(t, testutil.Tenant("df").Owner("df-owner").Member("df-dev").Hard().
		NodePool(map[string]string{"pool": "wl"}, poolToleration).Obj(), "df-app")
	runDefaultsTable(t, env.As("df-dev"), "df-app")
}

// runDefaultsTable creates, as dev in ns (a Hard tenant's namespace pinned
// to the wl pool), one pod per case and checks what the defaults made of it.
func runDefaultsTable(t *testing.T, dev client.Client, ns string) {
	t.Helper()
	const image = "registry.example.com/app:1"
	for _, tc := range []struct {
		name  string
		edit  func(*corev1.Pod)
		check func(*testing.T, *corev1.Pod)
	}{
		{"nothing set", func(*corev1.Pod) {}, requireHardDefaults},
		{"a nodeSelector of its own", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "a"} }, func(t *testing.T, p *corev1.Pod) {
			if p.Spec.NodeSelector["zone"] != "a" || p.Spec.NodeSelector["pool"] != "wl" {
				t.Errorf("nodeSelector = %v, want zone=a and pool=wl", p.Spec.NodeSelector)
			}
		}},
		{"the token asked for", func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptr.To(true) }, func(t *testing.T, p *corev1.Pod) {
			if !ptr.Deref(p.Spec.AutomountServiceAccountToken, false) {
				t.Errorf("automountServiceAccountToken = %v, want the pod's true", p.Spec.AutomountServiceAccountToken)
			}
		}},
		{"an image volume", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				Image: &corev1.ImageVolumeSource{Reference: image, PullPolicy: corev1.PullIfNotPresent}}}}
		}, func(t *testing.T, p *corev1.Pod) {
			if got := p.Spec.Volumes[0].Image.PullPolicy; got != corev1.PullAlways {
				t.Errorf("image volume pullPolicy = %s, want Always", got)
			}
		}},
		{"an init container", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: image, ImagePullPolicy: corev1.PullNever,
				SecurityContext: p.Spec.Containers[0].SecurityContext}}
		}, func(t *testing.T, p *corev1.Pod) {
			if got := p.Spec.InitContainers[0].ImagePullPolicy; got != corev1.PullAlways {
				t.Errorf("init container imagePullPolicy = %s, want Always", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testutil.Pod(ns, "table-"+strings.ToLower(strings.ReplaceAll(tc.name, " ", "-")), image, tc.edit)
			if err := dev.Create(context.Background(), p); err != nil {
				t.Fatalf("creating the pod: %v", err)
			}
			tc.check(t, p)
		})
	}
}

// requireHardDefaults checks what a Hard tenant with the wl pool fills into
// a pod that leaves everything unset.
func requireHardDefaults(t *testing.T, p *corev1.Pod) {
	t.Helper()
	s := p.Spec
	if s.NodeSelector["pool"] != "wl" {
		t.Errorf("nodeSelector = %v, want pool=wl", s.NodeSelector)
	}
	if !hasToleration(s.Tolerations, poolToleration) {
		t.Errorf("tolerations = %v, want the pool's", s.Tolerations)
	}
	if ptr.Deref(s.RuntimeClassName, "") != env.Settings.SandboxRuntimeClass {
		t.Errorf("runtimeClassName = %v, want %s", ptr.Deref(s.RuntimeClassName, ""), env.Settings.SandboxRuntimeClass)
	}
	if s.HostUsers == nil || *s.HostUsers {
		t.Errorf("hostUsers = %v, want false", s.HostUsers)
	}
	if s.EnableServiceLinks == nil || *s.EnableServiceLinks {
		t.Errorf("enableServiceLinks = %v, want false", s.EnableServiceLinks)
	}
	if s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken = %v, want false", s.AutomountServiceAccountToken)
	}
	for _, v := range s.Volumes {
		if v.Projected != nil {
			t.Errorf("a service account token is mounted (volume %s) though the tenant's default is false", v.Name)
		}
	}
	for _, c := range append(s.InitContainers, s.Containers...) {
		if c.ImagePullPolicy != corev1.PullAlways {
			t.Errorf("container %s imagePullPolicy = %s, want Always", c.Name, c.ImagePullPolicy)
		}
	}
}
