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
	"github.com/bulkhead-dev/bulkhead/internal/discovery"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	"github.com/bulkhead-dev/bulkhead/internal/testutil/defaultcases"
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

	served, err := discovery.MutatingPoliciesServed(fb.Client.RESTMapper())
	if err != nil || served {
		t.Fatalf("MutatingAdmissionPolicy served = %v (%v); the cluster should lack it", served, err)
	}
	env.TenantWithNamespace(t, defaultcases.Tenant("fb", "fb-owner", "fb-dev"), "fb-app")
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
	testenv.Rejected(t, dev.Create(ctx, testutil.Pod("fb-app", "forged", image, func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{{Key: "pool", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	})), "fb", "nodes.tolerations")

	// Bulkhead down: the webhook fails open, and the validating policies
	// refuse the pod that lacks the tenant's defaults.
	fb.StopManager()
	testenv.Rejected(t, dev.Create(ctx, testutil.Pod("fb-app", "undefaulted", image)), "fb", "nodes.selector")
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
	testenv.Rejected(t, dev.Create(ctx, testutil.Pod("fb-app", "token", image, explicit, withLate)), "fb", "pods.automountServiceAccountToken")
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
			testenv.Rejected(t, dev.Create(ctx, p), "fb", tc.rule)
		})
	}
}

// TestDefaultsTable runs on the main cluster, where the defaults come from
// MutatingAdmissionPolicy, the table TestWebhookFallback runs where they
// come from the webhook: the two paths must give the same pods.
func TestDefaultsTable(t *testing.T) {
	env.TenantWithNamespace(t, defaultcases.Tenant("df", "df-owner", "df-dev"), "df-app")
	runDefaultsTable(t, env.As("df-dev"), "df-app")
}

// runDefaultsTable creates, as dev in ns (a namespace of
// defaultcases.Tenant), one pod per case of the table shared with the unit
// tests of both paths, and checks what the defaults made of it.
func runDefaultsTable(t *testing.T, dev client.Client, ns string) {
	t.Helper()
	for _, c := range defaultcases.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			p := testutil.Pod(ns, "table-"+strings.ToLower(strings.ReplaceAll(c.Name, " ", "-")), defaultcases.Image, c.Edit)
			if err := dev.Create(context.Background(), p); err != nil {
				t.Fatalf("creating the pod: %v", err)
			}
			c.Check(t, p, env.Settings.SandboxRuntimeClass)
		})
	}
}

// requireHardDefaults checks what a Hard tenant with the wl pool fills into
// a pod that leaves everything unset.
func requireHardDefaults(t *testing.T, p *corev1.Pod) {
	t.Helper()
	defaultcases.RequireHardDefaults(t, p, env.Settings.SandboxRuntimeClass)
}
