package e2e

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

var poolToleration = corev1.Toleration{Key: "pool", Operator: corev1.TolerationOpEqual, Value: "wl", Effect: corev1.TaintEffectNoSchedule}

// TestPodRules checks every pod rule of a Hard tenant against the real API
// server: what the mutating policy fills in, and the rule that refuses each
// violation.
func TestPodRules(t *testing.T) {
	ctx := context.Background()
	env.Ensure(t, &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "runc"}, Handler: "runc"})
	env.Ensure(t, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "wl-batch"}, Value: 100})
	env.Ensure(t, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "wl-urgent"}, Value: 100000})
	tn := testutil.Tenant("wl").Owner("wl-owner").Member("wl-dev").Hard().
		NodePool(map[string]string{"pool": "wl"}, poolToleration).
		Registries("registry.example.com/wl/").
		PriorityClasses("wl-batch", "wl-batch").Obj()
	owner := env.TenantWithNamespace(t, tn, "wl-app")
	dev := env.As("wl-dev")
	const image = "registry.example.com/wl/app:1"

	t.Run("defaults are filled in", func(t *testing.T) {
		p := testutil.Pod("wl-app", "defaults", image, func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: image, SecurityContext: p.Spec.Containers[0].SecurityContext}}
		})
		if err := dev.Create(ctx, p); err != nil {
			t.Fatalf("creating a compliant pod: %v", err)
		}
		requireHardDefaults(t, p)
		s := p.Spec
		if s.PriorityClassName != "wl-batch" || ptr.Deref(s.Priority, 0) != 100 {
			t.Errorf("priority = %s/%d, want wl-batch/100", s.PriorityClassName, ptr.Deref(s.Priority, 0))
		}
	})

	other := corev1.Toleration{Key: "pool", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	for _, tc := range []struct {
		name string
		edit func(*corev1.Pod)
		rule string
	}{
		{"nodeName skips the scheduler", func(p *corev1.Pod) { p.Spec.NodeName = "node-1" }, "nodes.nodeName"},
		{"a conflicting nodeSelector", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"pool": "gpu"} }, "nodes.selector"},
		{"another pool's toleration", func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{other} }, "nodes.tolerations"},
		{"a toleration of every taint", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		}, "nodes.tolerations"},
		{"a runtime class outside the allowlist", func(p *corev1.Pod) { p.Spec.RuntimeClassName = ptr.To("runc") }, "pods.runtimeClass"},
		{"hostUsers true", func(p *corev1.Pod) { p.Spec.HostUsers = ptr.To(true) }, "pods.userNamespaces"},
		{"an image from another registry", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "docker.io/library/nginx:1" }, "pods.images.registries"},
		{"an image without a registry", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx" }, "pods.images.registries"},
		{"an init container from another registry", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "quay.io/evil/init", SecurityContext: p.Spec.Containers[0].SecurityContext}}
		}, "pods.images.registries"},
		{"a priority class outside the allowlist", func(p *corev1.Pod) { p.Spec.PriorityClassName = "wl-urgent" }, "pods.priorityClasses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := dev.Create(ctx, testutil.Pod("wl-app", "bad", image, tc.edit))
			testenv.Rejected(t, err, "wl", tc.rule)
		})
	}

	t.Run("ephemeral containers", func(t *testing.T) {
		p := testutil.Pod("wl-app", "debugged", image)
		if err := dev.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		debug := func(img string, policy corev1.PullPolicy) error {
			// The scheduler and kwok update the pod too: retry on conflicts.
			return retry.RetryOnConflict(retry.DefaultRetry, func() error {
				fresh := &corev1.Pod{}
				if err := dev.Get(ctx, client.ObjectKeyFromObject(p), fresh); err != nil {
					return err
				}
				fresh.Spec.EphemeralContainers = append(fresh.Spec.EphemeralContainers, corev1.EphemeralContainer{
					EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: img, ImagePullPolicy: policy,
						SecurityContext: p.Spec.Containers[0].SecurityContext},
				})
				return owner.SubResource("ephemeralcontainers").Update(ctx, fresh)
			})
		}
		testenv.Rejected(t, debug("docker.io/library/busybox", corev1.PullAlways), "wl", "pods.images.registries")
		testenv.Rejected(t, debug(image, corev1.PullIfNotPresent), "wl", "pods.images.pullPolicy")
		if err := debug(image, corev1.PullAlways); err != nil {
			t.Fatalf("a compliant ephemeral container: %v", err)
		}
	})

	t.Run("workload templates", func(t *testing.T) {
		tmpl := func(edit ...func(*corev1.Pod)) corev1.PodTemplateSpec {
			p := testutil.Pod("", "", image, edit...)
			return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}, Spec: p.Spec}
		}
		sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
		deploy := func(name string, edit ...func(*corev1.Pod)) *appsv1.Deployment {
			return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "wl-app", Name: name},
				Spec: appsv1.DeploymentSpec{Selector: sel, Template: tmpl(edit...)}}
		}
		testenv.Rejected(t, dev.Create(ctx, deploy("forged", func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{other} })), "wl", "nodes.tolerations")
		testenv.Rejected(t, dev.Create(ctx, deploy("foreign", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "docker.io/x" })), "wl", "pods.images.registries")
		testenv.Rejected(t, dev.Create(ctx, &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "wl-app", Name: "ds"},
			Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tmpl(func(p *corev1.Pod) { p.Spec.HostUsers = ptr.To(true) })}}), "wl", "pods.userNamespaces")
		jobTmpl := tmpl(func(p *corev1.Pod) {
			p.Spec.Containers[0].Image = "ghcr.io/x"
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
		})
		jobTmpl.Labels = nil
		testenv.Rejected(t, dev.Create(ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: "wl-app", Name: "cj"},
			Spec: batchv1.CronJobSpec{Schedule: "@hourly", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobTmpl}}}}), "wl", "pods.images.registries")
		// A template that leaves the defaults out is fine: pods get them.
		if err := dev.Create(ctx, deploy("good")); err != nil {
			t.Fatalf("a compliant Deployment: %v", err)
		}
	})
}

func hasToleration(list []corev1.Toleration, want corev1.Toleration) bool {
	for _, t := range list {
		if render.CanonicalToleration(t) == render.CanonicalToleration(want) {
			return true
		}
	}
	return false
}

// TestServiceIngressStorageRules checks the Service, Ingress and
// PersistentVolumeClaim rules of a Hard tenant against the real API server.
func TestServiceIngressStorageRules(t *testing.T) {
	ctx := context.Background()
	env.Ensure(t, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, Provisioner: "example.com/fast"})
	env.Ensure(t, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "slow"}, Provisioner: "example.com/slow"})
	tn := testutil.Tenant("sis").Owner("sis-owner").Member("sis-dev").Hard().
		Ingress([]string{"public"}, []string{"*.sis.example.com", "sis.example.com"}).
		StorageClasses("fast").Obj()
	env.TenantWithNamespace(t, tn, "sis-app")
	dev := env.As("sis-dev")

	svc := func(name string, edit func(*corev1.Service)) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "sis-app", Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
		edit(s)
		return s
	}
	testenv.Rejected(t, dev.Create(ctx, svc("np", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort })), "sis", "services.allowedTypes")
	testenv.Rejected(t, dev.Create(ctx, svc("lb", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer })), "sis", "services.allowedTypes")
	testenv.Rejected(t, dev.Create(ctx, svc("ext", func(s *corev1.Service) {
		s.Spec.Type, s.Spec.ExternalName, s.Spec.Ports = corev1.ServiceTypeExternalName, "db.other.svc.cluster.local", nil
	})), "sis", "services.allowedTypes")
	testenv.Rejected(t, dev.Create(ctx, svc("eip", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"10.0.0.53"} })), "sis", "services.externalIPs")
	if err := dev.Create(ctx, svc("ok", func(*corev1.Service) {})); err != nil {
		t.Fatalf("a ClusterIP Service: %v", err)
	}

	ing := func(name, class string, hosts ...string) *networkingv1.Ingress {
		i := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "sis-app", Name: name}}
		if class != "" {
			i.Spec.IngressClassName = ptr.To(class)
		}
		backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "ok", Port: networkingv1.ServiceBackendPort{Number: 80}}}
		for _, h := range hosts {
			i.Spec.Rules = append(i.Spec.Rules, networkingv1.IngressRule{Host: h, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: backend}},
			}}})
		}
		return i
	}
	testenv.Rejected(t, dev.Create(ctx, ing("cls", "internal", "www.sis.example.com")), "sis", "ingress.classes")
	testenv.Rejected(t, dev.Create(ctx, ing("nocls", "", "www.sis.example.com")), "sis", "ingress.classes")
	testenv.Rejected(t, dev.Create(ctx, ing("steal", "public", "www.other.example.com")), "sis", "ingress.hostnames")
	testenv.Rejected(t, dev.Create(ctx, ing("suffix", "public", "evilsis.example.com")), "sis", "ingress.hostnames")
	testenv.Rejected(t, dev.Create(ctx, ing("catchall", "public", "")), "sis", "ingress.defaultBackend")
	if err := dev.Create(ctx, ing("ok", "public", "www.sis.example.com", "sis.example.com")); err != nil {
		t.Fatalf("an Ingress on the tenant's hosts: %v", err)
	}

	pvc := func(name string, edit func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
		c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "sis-app", Name: name},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				StorageClassName: ptr.To("fast"),
			}}
		edit(c)
		return c
	}
	testenv.Rejected(t, dev.Create(ctx, pvc("slow", func(c *corev1.PersistentVolumeClaim) { c.Spec.StorageClassName = ptr.To("slow") })), "sis", "storage.classes")
	testenv.Rejected(t, dev.Create(ctx, pvc("pick", func(c *corev1.PersistentVolumeClaim) {
		c.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"owner": "someone-else"}}
	})), "sis", "storage.selector")
	// A cross-namespace data source is refused by the rule, or, where the
	// API server lacks CrossNamespaceVolumeDataSource, dropped before it.
	err := dev.Create(ctx, pvc("copy", func(c *corev1.PersistentVolumeClaim) {
		c.Spec.DataSourceRef = &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "secret-db", Namespace: ptr.To("kube-system")}
	}))
	if err == nil {
		stored := &corev1.PersistentVolumeClaim{}
		if getErr := env.Client.Get(ctx, client.ObjectKey{Namespace: "sis-app", Name: "copy"}, stored); getErr != nil {
			t.Fatal(getErr)
		}
		if ns := stored.Spec.DataSourceRef; ns != nil && ptr.Deref(ns.Namespace, "") != "" {
			t.Errorf("a claim filled from namespace %s was admitted", *ns.Namespace)
		}
	} else {
		testenv.Rejected(t, err, "sis", "storage.dataSource")
	}
	if err := dev.Create(ctx, pvc("ok", func(*corev1.PersistentVolumeClaim) {})); err != nil {
		t.Fatalf("a claim of an allowed class: %v", err)
	}

	// A claim may name a volume only if it was provisioned for the tenant.
	volume := func(name string, labels map[string]string, claimNS string) {
		pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName:              "fast",
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data/" + name}},
		}}
		if claimNS != "" {
			pv.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: claimNS, Name: "old-" + name}
		}
		env.Ensure(t, pv)
	}
	volume("sis-old-data", nil, "sis-app")
	volume("sis-given", map[string]string{tenancyv1alpha1.TenantLabel: "sis"}, "")
	volume("someone-elses", nil, "kube-system")
	volume("other-tenants", map[string]string{tenancyv1alpha1.TenantLabel: "another"}, "")
	named := func(name, volume string) *corev1.PersistentVolumeClaim {
		return pvc(name, func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = volume })
	}
	for _, tc := range []struct{ volume, problem string }{
		{"someone-elses", "not provisioned for the tenant"},
		{"other-tenants", "assigned to another tenant"},
		{"no-such-volume", "does not exist"},
	} {
		err := dev.Create(ctx, named("steal-"+tc.volume, tc.volume))
		testenv.Rejected(t, err, "sis", "storage.volumeName")
		testenv.ExpectDenied(t, err, tc.problem)
	}
	for _, v := range []string{"sis-old-data", "sis-given"} {
		if err := dev.Create(ctx, named("reuse-"+v, v)); err != nil {
			t.Errorf("a claim naming %s, provisioned for the tenant: %v", v, err)
		}
	}
}

// TestReviewedBypasses covers ways around the rules that a review found:
// each is now refused by its rule, or the default works as the API server's
// own admission steps would have it.
func TestReviewedBypasses(t *testing.T) {
	ctx := context.Background()
	env.Ensure(t, &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "sandbox-oh"}, Handler: "runsc",
		Overhead:   &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
		Scheduling: &nodev1.Scheduling{Tolerations: []corev1.Toleration{{Key: "sandbox", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}}})
	// A class of its own: no available volume of it exists for the volume
	// controller to bind the test's claims to.
	env.Ensure(t, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "rv-class"}, Provisioner: "example.com/rv"})
	rv := testutil.Tenant("rv").Owner("rv-owner").Member("rv-dev").RuntimeClass("sandbox-oh", "sandbox-oh").
		Ingress([]string{"public"}, nil).StorageClasses("rv-class").Obj()
	owner := env.TenantWithNamespace(t, rv, "rv-app")
	env.TenantWithNamespace(t, testutil.Tenant("rw").Owner("rw-owner").Member("rw-dev").Obj(), "rw-app")
	dev, other := env.As("rv-dev"), env.As("rw-dev")

	t.Run("a defaulted runtime class brings its overhead and tolerations", func(t *testing.T) {
		p := testutil.Pod("rv-app", "sandboxed", "registry.example.com/app:1")
		if err := dev.Create(ctx, p); err != nil {
			tp := &tenancyv1alpha1.TenantPolicy{}
			_ = env.Client.Get(ctx, client.ObjectKey{Namespace: "rv-app", Name: "bulkhead"}, tp)
			t.Fatalf("a pod in a tenant whose default class has overhead: %v (TenantPolicy pod rules: %+v)", err, tp.Spec.Pods)
		}
		if q := p.Spec.Overhead[corev1.ResourceCPU]; q.Cmp(resource.MustParse("100m")) != 0 {
			t.Errorf("overhead = %v, want the class's cpu 100m", p.Spec.Overhead)
		}
		if !hasToleration(p.Spec.Tolerations, corev1.Toleration{Key: "sandbox", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}) {
			t.Errorf("tolerations = %v, want the class's", p.Spec.Tolerations)
		}
	})
	t.Run("system priority classes are not for tenants", func(t *testing.T) {
		err := dev.Create(ctx, testutil.Pod("rv-app", "critical", "registry.example.com/app:1", func(p *corev1.Pod) {
			p.Spec.PriorityClassName = "system-node-critical"
		}))
		testenv.Rejected(t, err, "rv", "pods.priorityClasses")
	})
	t.Run("the beta storage class annotation", func(t *testing.T) {
		c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "rv-app", Name: "beta",
			Annotations: map[string]string{"volume.beta.kubernetes.io/storage-class": "premium"}},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				StorageClassName: ptr.To("rv-class")}}
		testenv.Rejected(t, dev.Create(ctx, c), "rv", "storage.classes")
	})
	t.Run("a volume named by an update", func(t *testing.T) {
		c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "rv-app", Name: "later"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				StorageClassName: ptr.To("rv-class")}}
		if err := dev.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		// The volume controller annotates the claim too: retry conflicts.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := dev.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
				return err
			}
			c.Spec.VolumeName = "someone-elses-volume"
			return dev.Update(ctx, c)
		})
		testenv.Rejected(t, err, "rv", "storage.volumeName")
	})
	t.Run("an ingress class changed by its annotation alone", func(t *testing.T) {
		i := ingressFor("rv-app", "by-annotation", "rv.bypass.test")
		i.Annotations = map[string]string{"kubernetes.io/ingress.class": "public"}
		if err := dev.Create(ctx, i); err != nil {
			t.Fatalf("an Ingress of an allowed class by annotation: %v", err)
		}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := dev.Get(ctx, client.ObjectKeyFromObject(i), i); err != nil {
				return err
			}
			i.Annotations["kubernetes.io/ingress.class"] = "internal-admin"
			return dev.Update(ctx, i)
		})
		testenv.Rejected(t, err, "rv", "ingress.classes")
	})
	t.Run("two tenants serving the default host", func(t *testing.T) {
		catchAll := func(ns string) *networkingv1.Ingress {
			i := ingressFor(ns, "default")
			i.Spec.IngressClassName = ptr.To("public")
			i.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}
			return i
		}
		// A catch-all is the platform's decision: an admin may place one in
		// a tenant's namespace; no tenant may, first or second.
		testenv.Rejected(t, dev.Create(ctx, catchAll("rv-app")), "rv", "ingress.defaultBackend")
		if err := env.Client.Create(ctx, catchAll("rv-app")); err != nil {
			t.Fatalf("an admin's default backend: %v", err)
		}
		testenv.Rejected(t, other.Create(ctx, catchAll("rw-app")), "rw", "ingress.defaultBackend")
	})
	t.Run("a Hard tenant's own NetworkPolicy may not open egress", func(t *testing.T) {
		hard := env.TenantWithNamespace(t, testutil.Tenant("rh").Owner("rh-owner").Hard().Obj(), "rh-app")
		np := func(name string, egress ...networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
			return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "rh-app", Name: name},
				Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, Egress: egress}}
		}
		testenv.Rejected(t, hard.Create(ctx, np("open", networkingv1.NetworkPolicyEgressRule{})), "rh", "network.egress")
		if err := hard.Create(ctx, np("deny-all")); err != nil {
			t.Fatalf("a Hard tenant's policy that only denies egress: %v", err)
		}
		// A Soft tenant's egress is its own business, but for port 53:
		// everywhere on every port would open other resolvers than the
		// cluster DNS.
		softNP := func(name string, ports ...networkingv1.NetworkPolicyPort) *networkingv1.NetworkPolicy {
			return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "rv-app", Name: name},
				Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: ports}}}}
		}
		testenv.Rejected(t, owner.Create(ctx, softNP("open")), "rv", "network.dns")
		if err := owner.Create(ctx, softNP("open-but-dns", render.AllPortsBut53()...)); err != nil {
			t.Fatalf("a Soft tenant's egress policy everywhere but on 53: %v", err)
		}
	})
	t.Run("owners do not write Endpoints", func(t *testing.T) {
		err := owner.Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "rv-app", Name: "elsewhere"}}) //nolint:staticcheck // owners must not write the deprecated API either
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot create resource "endpoints"`) {
			t.Fatalf("owner creating Endpoints: %v, want Forbidden by RBAC", err)
		}
	})
}
