package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// This file holds a regression test for each way out that a review by
// attack found (and their siblings): each asserts the rule that refuses the
// attempt, and that the ordinary use next to it still works.

// TestImageVolumesObeyTheImageRules: an image volume pulls an image like a
// container does, so the registry allowlist and the pull policy hold for it,
// on pods and on workload templates.
func TestImageVolumesObeyTheImageRules(t *testing.T) {
	ctx := context.Background()
	env.TenantWithNamespace(t, testutil.Tenant("iv").Owner("iv-owner").Member("iv-dev").Hard().
		Registries("registry.example.com/iv/").Obj(), "iv-app")
	dev := env.As("iv-dev")
	const image = "registry.example.com/iv/app:1"
	withImageVolume := func(ref string, policy corev1.PullPolicy) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "data",
				VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: ref, PullPolicy: policy}}})
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}
	}
	testenv.Rejected(t, dev.Create(ctx, testutil.Pod("iv-app", "foreign", image, withImageVolume("docker.io/evil/data:1", corev1.PullAlways))),
		"iv", "pods.images.registries")
	testenv.Rejected(t, dev.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "iv-app", Name: "foreign"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}},
				Spec: testutil.Pod("", "", image, withImageVolume("quay.io/evil/data", corev1.PullAlways)).Spec},
		}}), "iv", "pods.images.registries")

	// The tenant's pull policy is forced on image volumes as on containers,
	// so a node's cache is no shortcut to another tenant's private image.
	p := testutil.Pod("iv-app", "own", image, withImageVolume("registry.example.com/iv/data:1", corev1.PullIfNotPresent))
	if err := dev.Create(ctx, p); err != nil {
		t.Fatalf("a pod with an image volume from the tenant's registry: %v", err)
	}
	if got := p.Spec.Volumes[0].Image.PullPolicy; got != corev1.PullAlways {
		t.Errorf("image volume pullPolicy = %s, want Always", got)
	}
}

// TestPodAffinityStaysInTheTenant: a pod affinity or anti-affinity term
// that can select namespaces outside the tenant would let one tenant keep
// another's pods off nodes. Terms limited to the tenant's own namespaces
// stay allowed.
func TestPodAffinityStaysInTheTenant(t *testing.T) {
	ctx := context.Background()
	env.TenantWithNamespace(t, testutil.Tenant("pa").Owner("pa-owner").Member("pa-dev").Obj(), "pa-app")
	dev := env.As("pa-dev")
	term := func(namespaces []string, sel *metav1.LabelSelector) corev1.PodAffinityTerm {
		return corev1.PodAffinityTerm{TopologyKey: corev1.LabelHostname, Namespaces: namespaces, NamespaceSelector: sel,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}
	}
	required := func(anti bool, tm corev1.PodAffinityTerm) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			if anti {
				p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{tm}}}
			} else {
				p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{tm}}}
			}
		}
	}
	preferred := func(anti bool, tm corev1.PodAffinityTerm) func(*corev1.Pod) {
		w := []corev1.WeightedPodAffinityTerm{{Weight: 10, PodAffinityTerm: tm}}
		return func(p *corev1.Pod) {
			if anti {
				p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: w}}
			} else {
				p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: w}}
			}
		}
	}
	everywhere := &metav1.LabelSelector{}
	own := &metav1.LabelSelector{MatchLabels: map[string]string{tenancyv1alpha1.TenantLabel: "pa"}}
	forged := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "pa"}}
	for _, tc := range []struct {
		name string
		edit func(*corev1.Pod)
	}{
		{"required anti-affinity over every namespace", required(true, term(nil, everywhere))},
		{"preferred anti-affinity over every namespace", preferred(true, term(nil, everywhere))},
		{"required affinity naming another tenant's namespace", required(false, term([]string{"kube-system"}, nil))},
		{"preferred affinity naming another namespace", preferred(false, term([]string{"pa-app", "other-app"}, nil))},
		{"a selector on a label tenants can forge", required(true, term(nil, forged))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.Rejected(t, dev.Create(ctx, testutil.Pod("pa-app", "steer", "nginx", tc.edit)), "pa", "pods.affinity")
		})
	}
	testenv.Rejected(t, dev.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "pa-app", Name: "steer"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}},
				Spec: testutil.Pod("", "", "nginx", required(true, term(nil, everywhere))).Spec},
		}}), "pa", "pods.affinity")

	for i, edit := range []func(*corev1.Pod){
		required(true, term(nil, nil)),                 // its own namespace
		required(true, term([]string{"pa-app"}, nil)),  // the tenant's namespaces by name
		preferred(false, term(nil, own)),               // the tenant's namespaces by its label
		required(true, term([]string{"pa-app"}, own)),  // both
		preferred(true, term([]string{"pa-app"}, nil)), // preferred, in the tenant
	} {
		if err := dev.Create(ctx, testutil.Pod("pa-app", "ok-"+string(rune('a'+i)), "nginx", edit)); err != nil {
			t.Errorf("an affinity term inside the tenant (case %d): %v", i, err)
		}
	}
}

// TestNodeMountedVolumesAreRefused: volume sources the kubelet mounts from
// the node reach outside the tenant from the node's network and identity;
// only sources that stay in the namespace are allowed, in every profile.
func TestNodeMountedVolumesAreRefused(t *testing.T) {
	ctx := context.Background()
	env.TenantWithNamespace(t, testutil.Tenant("nv").Owner("nv-owner").Member("nv-dev").Obj(), "nv-app")
	dev := env.As("nv-dev")
	for name, src := range map[string]corev1.VolumeSource{
		"nfs":     {NFS: &corev1.NFSVolumeSource{Server: "10.0.0.5", Path: "/exports/other-tenant"}},
		"gitrepo": {GitRepo: &corev1.GitRepoVolumeSource{Repository: "https://example.com/x.git"}}, // deprecated, and what an attacker would use
		"iscsi":   {ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "10.0.0.6:3260", IQN: "iqn.2001-04.com.example:storage", Lun: 0}},
		// An inline CSI volume of a driver the platform did not list (an SMB
		// driver mounts the server the pod names, from the node).
		"csi": {CSI: &corev1.CSIVolumeSource{Driver: "smb.csi.k8s.io", VolumeAttributes: map[string]string{"source": "//10.0.0.7/share"}}},
	} {
		t.Run(name, func(t *testing.T) {
			testenv.Rejected(t, dev.Create(ctx, testutil.Pod("nv-app", name, "nginx", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: src}}
			})), "nv", "pods.volumes")
		})
	}
	// Another scheduler may ignore node pools' taints.
	testenv.Rejected(t, dev.Create(ctx, testutil.Pod("nv-app", "sched", "nginx", func(p *corev1.Pod) { p.Spec.SchedulerName = "my-scheduler" })),
		"nv", "nodes.schedulerName")
	if err := dev.Create(ctx, testutil.Pod("nv-app", "ok", "nginx", func(p *corev1.Pod) {
		p.Spec.SchedulerName = corev1.DefaultSchedulerName
		p.Spec.Volumes = []corev1.Volume{
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		}
	})); err != nil {
		t.Fatalf("a pod with emptyDir and configMap volumes: %v", err)
	}
}

// TestTenantDefaultPriorityBeatsTheGlobalDefault: with a cluster-wide
// default PriorityClass, the Priority step fills it into every pod before
// Bulkhead's defaults run; the tenant's default must still win, with the
// priority and preemption policy of its class. A tenant without a default
// keeps the global one, even with an allowlist.
func TestTenantDefaultPriorityBeatsTheGlobalDefault(t *testing.T) {
	ctx := context.Background()
	env.Ensure(t, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "gp-batch"}, Value: 200})
	env.Ensure(t, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "gp-web"}, Value: 300})
	global := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "gp-cluster-default"}, Value: 7, GlobalDefault: true,
		PreemptionPolicy: ptr.To(corev1.PreemptNever)}
	env.Ensure(t, global)
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), global) })

	env.TenantWithNamespace(t, testutil.Tenant("gp").Owner("gp-owner").Member("gp-dev").PriorityClasses("gp-batch", "gp-batch").Obj(), "gp-app")
	env.TenantWithNamespace(t, testutil.Tenant("gq").Owner("gq-owner").Member("gq-dev").PriorityClasses("", "gp-web").Obj(), "gq-app")
	for _, ns := range []string{"gp-app", "gq-app"} {
		testenv.Eventually(t, "the TenantPolicy of "+ns+" knows the global default", func() error {
			tp := &tenancyv1alpha1.TenantPolicy{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}, tp); err != nil {
				return err
			}
			if tp.Spec.Pods.PriorityClassGlobalDefault != global.Name {
				return fmt.Errorf("priorityClassGlobalDefault = %q", tp.Spec.Pods.PriorityClassGlobalDefault)
			}
			return nil
		})
	}

	p := testutil.Pod("gp-app", "defaulted", "nginx")
	if err := env.As("gp-dev").Create(ctx, p); err != nil {
		t.Fatalf("a pod without a class: %v", err)
	}
	if p.Spec.PriorityClassName != "gp-batch" || ptr.Deref(p.Spec.Priority, 0) != 200 ||
		ptr.Deref(p.Spec.PreemptionPolicy, "") != corev1.PreemptLowerPriority {
		t.Errorf("pod priority = %s/%d/%s, want gp-batch/200/PreemptLowerPriority",
			p.Spec.PriorityClassName, ptr.Deref(p.Spec.Priority, 0), ptr.Deref(p.Spec.PreemptionPolicy, ""))
	}

	q := testutil.Pod("gq-app", "global", "nginx")
	if err := env.As("gq-dev").Create(ctx, q); err != nil {
		t.Fatalf("a pod of a tenant without a default, in a cluster with a global default: %v", err)
	}
	if q.Spec.PriorityClassName != global.Name || ptr.Deref(q.Spec.Priority, 0) != 7 {
		t.Errorf("pod priority = %s/%d, want the global default", q.Spec.PriorityClassName, ptr.Deref(q.Spec.Priority, 0))
	}
	testenv.Rejected(t, env.As("gq-dev").Create(ctx, testutil.Pod("gq-app", "other", "nginx", func(p *corev1.Pod) {
		p.Spec.PriorityClassName = "gp-batch"
	})), "gq", "pods.priorityClasses")
}

// TestNoPodBeforeProtections: a new namespace takes pods only once all its
// protections exist. The test holds the tenant's NetworkPolicies back with
// an admin's policy: until they exist there is no TenantPolicy, pods are
// refused, and AdmissionReady says what it waits for.
func TestNoPodBeforeProtections(t *testing.T) {
	ctx := context.Background()
	block := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "test-hold-networkpolicies"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"networkpolicies"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{Expression: "!(request.namespace in ['np-app', 'default'])", Message: "held back by the test"}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: block.Name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: block.Name, ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	env.Ensure(t, block)
	env.Ensure(t, binding)
	unblock := func() {
		_ = env.Client.Delete(context.Background(), binding)
		_ = env.Client.Delete(context.Background(), block)
	}
	t.Cleanup(unblock)
	// The policy takes effect once the API server has loaded it.
	testenv.Eventually(t, "the hold on NetworkPolicies in effect", func() error {
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "probe"}}
		err := env.Client.Create(ctx, np, client.DryRunAll)
		if err == nil {
			return errors.New("dry-run create admitted")
		}
		if !strings.Contains(err.Error(), "held back by the test") {
			return fmt.Errorf("dry-run create: %w", err)
		}
		return nil
	})

	env.CreateTenant(t, testutil.Tenant("np").Owner("np-owner").Member("np-dev").Obj())
	testenv.OwnerCreatesNamespace(t, env.As("np-owner"), "np-app")
	dev := env.As("np-dev")
	testenv.Eventually(t, "the member may create pods", func() error { return testenv.CanI(dev, "create", "pods", "np-app") })
	testenv.Eventually(t, "AdmissionReady waiting for the NetworkPolicies", func() error {
		tn := &tenancyv1alpha1.Tenant{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "np"}, tn); err != nil {
			return err
		}
		c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionAdmissionReady)
		if c == nil || c.Reason != tenancyv1alpha1.ReasonWaiting || !strings.Contains(c.Message, "np-app") {
			return fmt.Errorf("AdmissionReady = %+v", c)
		}
		return nil
	})
	// Held for a while: the gate must stay shut, not merely start shut.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		testenv.Rejected(t, dev.Create(ctx, testutil.Pod("np-app", "early", "nginx")), "np", "namespaces.protected")
	}
	// A workload's pods wait too: the template is accepted, its pods are not.
	if err := dev.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "np-app", Name: "early"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "early"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "early"}},
				Spec: testutil.Pod("", "", "nginx").Spec},
		}}); err != nil {
		t.Fatalf("a Deployment in a namespace not yet protected: %v", err)
	}
	env.ReplicaSetRefused(t, "np-app", "early", "np", "namespaces.protected")
	pods := &corev1.PodList{}
	if err := env.Client.List(ctx, pods, client.InNamespace("np-app")); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 0 {
		t.Fatalf("%d pods run in a namespace without its NetworkPolicies", len(pods.Items))
	}

	unblock()
	testenv.Eventually(t, "the namespace open once protected", func() error {
		list := &networkingv1.NetworkPolicyList{}
		if err := env.Client.List(ctx, list, client.InNamespace("np-app")); err != nil {
			return err
		}
		if len(list.Items) == 0 {
			return fmt.Errorf("no NetworkPolicies yet")
		}
		return dev.Create(ctx, testutil.Pod("np-app", "late", "nginx"))
	})
	env.WaitReady(t, "np")
	testenv.Eventually(t, "the Deployment's pod, once the namespace is protected", func() error {
		if err := env.Client.List(ctx, pods, client.InNamespace("np-app"), client.MatchingLabels{"app": "early"}); err != nil {
			return err
		}
		if len(pods.Items) == 0 {
			return fmt.Errorf("no pod yet")
		}
		return nil
	})
}

// TestHostnamePatternsBelongToTheirTenant: a hostname pattern declared for
// a tenant is that tenant's alone, even before it serves a name under it;
// and a catch-all backend is an admin's decision.
func TestHostnamePatternsBelongToTheirTenant(t *testing.T) {
	ctx := context.Background()
	env.TenantWithNamespace(t, testutil.Tenant("hp").Owner("hp-owner").Member("hp-dev").
		Ingress(nil, []string{"*.hp.example.com"}).Obj(), "hp-web")
	env.TenantWithNamespace(t, testutil.Tenant("hq").Owner("hq-owner").Member("hq-dev").Obj(), "hq-web")
	free := env.As("hq-dev")
	testenv.Rejected(t, free.Create(ctx, ingressFor("hq-web", "login", "login.hp.example.com")), "hq", "ingress.hostnames")
	testenv.Rejected(t, free.Create(ctx, ingressFor("hq-web", "wild", "*.example.com")), "hq", "ingress.hostnames")
	catchAll := ingressFor("hq-web", "catchall")
	catchAll.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	testenv.Rejected(t, free.Create(ctx, catchAll.DeepCopy()), "hq", "ingress.defaultBackend")
	testenv.Rejected(t, free.Create(ctx, ingressFor("hq-web", "nohost", "")), "hq", "ingress.defaultBackend")

	if err := free.Create(ctx, ingressFor("hq-web", "own", "shop.hq.example.org")); err != nil {
		t.Fatalf("a hostname nobody declared: %v", err)
	}
	if err := env.As("hp-dev").Create(ctx, ingressFor("hp-web", "login", "login.hp.example.com")); err != nil {
		t.Fatalf("a hostname under the tenant's own pattern: %v", err)
	}
	if err := env.Client.Create(ctx, catchAll.DeepCopy()); err != nil {
		t.Fatalf("an admin's catch-all backend: %v", err)
	}
}
