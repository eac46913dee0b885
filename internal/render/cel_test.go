package render_test

import (
	"fmt"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestPoliciesCompile compiles every expression of every policy Bulkhead
// renders, as the API server compiles a policy written to it: with the
// environment for new expressions, and again with params typed from the
// TenantPolicy CRD, so that a misspelt parameter fails here.
func TestPoliciesCompile(t *testing.T) {
	params := tenantPolicyType(t)
	for _, obj := range render.Policies(render.DefaultSettings()) {
		switch p := obj.(type) {
		case *admissionregistrationv1.ValidatingAdmissionPolicy:
			if _, errs := compileValidating(p, environment.NewExpressions); len(errs) > 0 {
				t.Errorf("ValidatingAdmissionPolicy %s: %v", p.Name, errs)
			}
		case *admissionregistrationv1.MutatingAdmissionPolicy:
			if _, errs := compileMutating(p, environment.NewExpressions); len(errs) > 0 {
				t.Errorf("MutatingAdmissionPolicy %s: %v", p.Name, errs)
			}
		default:
			continue
		}
		for _, e := range compileTyped(t, params, obj) {
			t.Errorf("%s %s", obj.GetName(), e)
		}
	}
}

// celUncovered are the validations that no case can refuse offline, each
// with the reason. Keep it empty: a new rule needs a denied case below.
var celUncovered = map[string]string{}

// TestPolicyDecisions runs requests through the compiled policies, as the
// API server runs them, and checks each admitted or refused for the right
// rule, with its advice in the message. Every validation Bulkhead renders
// must refuse at least one case.
func TestPolicyDecisions(t *testing.T) {
	s := render.DefaultSettings()
	pool := corev1.Toleration{Key: "pool", Value: "acme", Effect: corev1.TaintEffectNoSchedule}
	acme := testutil.Tenant("acme").Owner("alice").Member("bob").Hard().
		NodePool(map[string]string{"pool": "acme"}, pool).
		Registries("registry.example.com/").
		Ingress([]string{"nginx"}, []string{"*.acme.example.com"}).
		StorageClasses("standard").
		PriorityClasses("", "low").Obj()
	acme.Spec.Devices.Classes = []string{"gpu"}
	acme.Spec.Gateway.Parents = []tenancyv1alpha1.GatewayParent{
		{Namespace: "infra", Name: "shared", SectionNames: []string{"https"}},
		{Namespace: "infra", Name: "open"},
	}
	beta := testutil.Tenant("beta").Owner("carol").Soft().Obj()
	beta.Spec.Gateway.Classes = []string{"shared-class"}
	frost := testutil.Tenant("frost").Owner("fay").Soft().Frozen("ops-oncall").Obj()
	w := newCELWorld(t, s, map[*tenancyv1alpha1.Tenant][]string{
		acme:  {"acme-app", "acme-new"},
		beta:  {"beta-app", "beta-held"},
		frost: {"frost-app"},
	}, "acme-app", "beta-app", "beta-held", "frost-app")
	w.namespaces["old-app"] = admissionNamespace("old-app", map[string]string{tenancyv1alpha1.RetainedLabel: "gone"})
	// An admin froze beta-held by hand, with the label the policy reads.
	w.namespaces["beta-held"].Labels[tenancyv1alpha1.FrozenLabel] = "ops"
	frostDeploy := func(replicas int32) *appsv1.Deployment {
		return testutil.Deployment("frost-app", "web", "docker.io/library/nginx:1", replicas)
	}
	scale := func(ns string, replicas int32) *autoscalingv1.Scale {
		return &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: autoscalingv1.ScaleSpec{Replicas: replicas}}
	}
	const unfreeze = "A cluster admin unfreezes"
	exactly := func(class string) func(*resourcev1.DeviceRequest) {
		return func(r *resourcev1.DeviceRequest) { r.Exactly = &resourcev1.ExactDeviceRequest{DeviceClassName: class} }
	}
	firstAvailable := func(classes ...string) func(*resourcev1.DeviceRequest) {
		return func(r *resourcev1.DeviceRequest) {
			for i, c := range classes {
				r.FirstAvailable = append(r.FirstAvailable, resourcev1.DeviceSubRequest{Name: fmt.Sprintf("alt%d", i), DeviceClassName: c})
			}
		}
	}
	claimSpec := func(edit func(*resourcev1.DeviceRequest)) resourcev1.ResourceClaimSpec {
		r := resourcev1.DeviceRequest{Name: "dev"}
		edit(&r)
		return resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{r}}}
	}
	claim := func(ns string, edit func(*resourcev1.DeviceRequest)) *resourcev1.ResourceClaim {
		return &resourcev1.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dev"}, Spec: claimSpec(edit)}
	}
	claimTemplate := func(ns string, edit func(*resourcev1.DeviceRequest)) *resourcev1.ResourceClaimTemplate {
		return &resourcev1.ResourceClaimTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dev"},
			Spec: resourcev1.ResourceClaimTemplateSpec{Spec: claimSpec(edit)}}
	}
	extended := func(name string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			one := corev1.ResourceList{corev1.ResourceName(name): resource.MustParse("1")}
			p.Spec.Containers[0].Resources.Requests, p.Spec.Containers[0].Resources.Limits = one, one
		}
	}

	const image = "registry.example.com/web:1"
	pod := func(edit ...func(*corev1.Pod)) *corev1.Pod { return testutil.Pod("acme-app", "web", image, edit...) }
	// defaulted is what the mutating policies make of pod() for acme: an
	// update starts from it.
	defaulted := func(edit ...func(*corev1.Pod)) *corev1.Pod {
		return pod(append([]func(*corev1.Pod){func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{"pool": "acme"}
			p.Spec.Tolerations = []corev1.Toleration{pool}
			p.Spec.RuntimeClassName = ptr.To(s.SandboxRuntimeClass)
			p.Spec.HostUsers = ptr.To(false)
			p.Spec.EnableServiceLinks = ptr.To(false)
			p.Spec.AutomountServiceAccountToken = ptr.To(false)
			p.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways
		}}, edit...)...)
	}
	bigPod := pod(func(p *corev1.Pod) {
		for i := range 50 {
			c := p.Spec.Containers[0]
			c.Name = fmt.Sprintf("c%d", i)
			p.Spec.InitContainers = append(p.Spec.InitContainers, c)
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		}
	})
	rb := func(name, role string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
		return testutil.RoleBinding("acme-app", name, role, subjects...)
	}
	managed := func(o client.Object) client.Object {
		o.SetLabels(map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue})
		return o
	}
	labelled := func(o client.Object, key, value string) client.Object {
		o.SetLabels(map[string]string{key: value})
		return o
	}
	ingressFrom := func(peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyIngressRule {
		return []networkingv1.NetworkPolicyIngressRule{{From: peers}}
	}
	https := []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(443))}}
	egressTo := func(peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyEgressRule {
		return []networkingv1.NetworkPolicyEgressRule{{To: peers, Ports: https}}
	}
	egressOn := func(ports []networkingv1.NetworkPolicyPort, peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyEgressRule {
		return []networkingv1.NetworkPolicyEgressRule{{To: peers, Ports: ports}}
	}
	port := func(proto corev1.Protocol, p intstr.IntOrString, end ...int32) networkingv1.NetworkPolicyPort {
		out := networkingv1.NetworkPolicyPort{Protocol: ptr.To(proto), Port: ptr.To(p)}
		if len(end) > 0 {
			out.EndPort = ptr.To(end[0])
		}
		return out
	}
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dnsPeer := networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "kube-system"}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns", "tier": "node"}},
	}
	otherNS := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "kube-system"}}}
	tl := tenancyv1alpha1.TenantLabel
	covered := map[string]bool{}

	for _, c := range []celCase{
		// Pods and their templates.
		{name: "a bare pod, once defaulted", namespace: "acme-app", object: pod()},
		{name: "a pod of a Soft tenant", namespace: "beta-app", object: testutil.Pod("beta-app", "web", "docker.io/library/nginx:1")},
		{name: "a pod of many containers and volumes, within the cost budget", namespace: "acme-app", object: bigPod},
		{name: "a Deployment", namespace: "acme-app", object: testutil.Deployment("acme-app", "web", image, 2)},
		{name: "a CronJob", namespace: "acme-app", object: testutil.CronJob("acme-app", "web", image)},
		{name: "a pod before its namespace is protected", namespace: "acme-new", object: testutil.Pod("acme-new", "web", image),
			deny: "namespaces.protected", fix: "Retry in a moment"},
		{name: "nodeName", namespace: "acme-app", object: pod(func(p *corev1.Pod) { p.Spec.NodeName = "node-1" }),
			deny: "nodes.nodeName", fix: "Remove nodeName and let the scheduler place the pod"},
		{name: "another scheduler", namespace: "acme-app", object: pod(func(p *corev1.Pod) { p.Spec.SchedulerName = "my-scheduler" }),
			deny: "nodes.schedulerName", fix: "Remove schedulerName"},
		{name: "another pool", namespace: "acme-app", object: pod(func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"pool": "gpu"} }),
			deny: "nodes.selector", fix: "Drop the key or give it the tenant's value"},
		{name: "a template on another pool", namespace: "acme-app", object: func() client.Object {
			d := testutil.Deployment("acme-app", "web", image, 1)
			d.Spec.Template.Spec.NodeSelector = map[string]string{"pool": "gpu"}
			return d
		}(), deny: "nodes.selector", fix: "Drop the key or give it the tenant's value"},
		{name: "a toleration of another pool", namespace: "acme-app", object: pod(func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "pool", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
		}), deny: "nodes.tolerations", fix: "Remove it: pods get exactly the tolerations"},
		{name: "a toleration of a node condition", namespace: "acme-app", object: pod(func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}
		})},
		{name: "another runtime class", namespace: "acme-app", object: pod(testutil.RuntimeClassName("runc")),
			deny: "pods.runtimeClass", fix: "Leave runtimeClassName unset to get the tenant's default"},
		{name: "host users", namespace: "acme-app", object: pod(func(p *corev1.Pod) { p.Spec.HostUsers = ptr.To(true) }),
			deny: "pods.userNamespaces", fix: "Remove hostUsers or set it to false"},
		{name: "service links turned on", namespace: "acme-app", op: admission.Update, oldObject: defaulted(),
			object: defaulted(func(p *corev1.Pod) { p.Spec.EnableServiceLinks = ptr.To(true) }),
			deny:   "pods.serviceLinks", fix: "Remove enableServiceLinks; find services through DNS"},
		{name: "an image of another registry", namespace: "acme-app", object: testutil.Pod("acme-app", "web", "docker.io/library/nginx:1"),
			deny: "pods.images.registries", fix: "Use an image whose full name starts with an allowed prefix"},
		{name: "an image of a registry sharing the prefix", namespace: "acme-app", object: testutil.Pod("acme-app", "web", "registry.example.com.evil.io/web:1"),
			deny: "pods.images.registries", fix: "Use an image whose full name starts with an allowed prefix"},
		{name: "another pull policy", namespace: "acme-app", op: admission.Update, oldObject: defaulted(),
			object: defaulted(func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent }),
			deny:   "pods.images.pullPolicy", fix: "Set imagePullPolicy (image.pullPolicy for an image volume) to the tenant's policy"},
		{name: "an ephemeral container of another pull policy", namespace: "acme-app", op: admission.Update, subresource: "ephemeralcontainers",
			oldObject: defaulted(), object: defaulted(func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
					Name: "debug", Image: image, ImagePullPolicy: corev1.PullIfNotPresent}}}
			}), deny: "pods.images.pullPolicy", fix: "Set imagePullPolicy"},
		{name: "an affinity term on another namespace", namespace: "acme-app", object: pod(func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey: "kubernetes.io/hostname", Namespaces: []string{"kube-system"},
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			}}}}
		}), deny: "pods.affinity", fix: "List only the tenant's own namespaces in the term's namespaces"},
		{name: "an affinity term on the tenant's namespaces", namespace: "acme-app", object: pod(func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 1, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname", Namespaces: []string{"acme-new"},
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{tl: "acme"}}},
			}}}}
		})},
		{name: "an nfs volume", namespace: "acme-app", object: pod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "share", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "10.0.0.1", Path: "/"}}}}
		}), deny: "pods.volumes", fix: "Use one of configMap, secret"},
		{name: "a token mounted unasked", namespace: "acme-app", object: pod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access-x1y2z", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}}}
		}), deny: "pods.automountServiceAccountToken", fix: "Set spec.automountServiceAccountToken to false"},
		{name: "a token asked for", namespace: "acme-app", object: pod(func(p *corev1.Pod) {
			p.Spec.AutomountServiceAccountToken = ptr.To(true)
			p.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access-x1y2z", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}}}
		})},
		{name: "a system priority class", namespace: "acme-app", object: pod(func(p *corev1.Pod) { p.Spec.PriorityClassName = "system-cluster-critical" }),
			deny: "pods.priorityClasses", fix: "Leave priorityClassName unset to get the tenant's default, or name an allowed class"},
		{name: "an allowed priority class", namespace: "acme-app", object: pod(func(p *corev1.Pod) { p.Spec.PriorityClassName = "low" })},

		// Services.
		{name: "a ClusterIP Service", namespace: "acme-app", object: testutil.Service("acme-app", "web")},
		{name: "external IPs", namespace: "acme-app", object: testutil.Service("acme-app", "web", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"1.2.3.4"} }),
			deny: "services.externalIPs", fix: "Remove spec.externalIPs"},
		{name: "a LoadBalancer of a Hard tenant", namespace: "acme-app", object: testutil.Service("acme-app", "web", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer }),
			deny: "services.allowedTypes", fix: "Use an allowed type"},
		{name: "a LoadBalancer of a Soft tenant", namespace: "beta-app", object: testutil.Service("beta-app", "web", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer })},

		// Ingresses.
		{name: "an Ingress on the tenant's host", namespace: "acme-app", object: testutil.Ingress("acme-app", "web", "nginx", "www.acme.example.com")},
		{name: "another ingress class", namespace: "acme-app", object: testutil.Ingress("acme-app", "web", "traefik", "www.acme.example.com"),
			deny: "ingress.classes", fix: "Set spec.ingressClassName to an allowed class"},
		{name: "another tenant's host", namespace: "acme-app", object: testutil.Ingress("acme-app", "web", "nginx", "www.beta.example.com"),
			deny: "ingress.hostnames", fix: "Give every rule a host matching the tenant's hostname patterns"},
		{name: "a rule without a host", namespace: "beta-app", object: testutil.Ingress("beta-app", "web", "", ""),
			deny: "ingress.defaultBackend", fix: "Give every rule a host (and drop spec.defaultBackend)"},

		// Storage.
		{name: "a claim of an allowed class", namespace: "acme-app", object: testutil.PVC("acme-app", "data", "standard")},
		{name: "a claim of another class", namespace: "acme-app", object: testutil.PVC("acme-app", "data", "fast"),
			deny: "storage.classes", fix: "Set spec.storageClassName to an allowed class"},
		{name: "a claim with a selector", namespace: "acme-app", object: testutil.PVC("acme-app", "data", "standard", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"disk": "any"}}
		}), deny: "storage.selector", fix: "Remove spec.selector and let the StorageClass provision a volume"},
		{name: "a claim restored from another namespace", namespace: "acme-app", object: testutil.PVC("acme-app", "data", "standard", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.DataSourceRef = &corev1.TypedObjectReference{APIGroup: ptr.To("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "snap", Namespace: ptr.To("beta-app")}
		}), deny: "storage.dataSource", fix: "drop dataSourceRef.namespace"},

		// RBAC.
		{name: "a binding of a member", namespace: "acme-app", object: rb("dev", "edit", testutil.UserSubject("bob"))},
		{name: "a binding of a stranger", namespace: "acme-app", object: rb("dev", "edit", testutil.UserSubject("mallory")),
			deny: "rbac.subjects", fix: "Bind only the tenant's own identities"},
		{name: "a binding of another tenant's service account", namespace: "acme-app", object: rb("dev", "view", testutil.ServiceAccountSubject("beta-app", "default")),
			deny: "rbac.subjects", fix: "Bind only the tenant's own identities"},
		{name: "a binding of cluster-admin", namespace: "acme-app", object: rb("dev", "cluster-admin", testutil.UserSubject("bob")),
			deny: "rbac.clusterRoles", fix: "Reference an allowed ClusterRole, or a Role of this namespace"},
		{name: "a token Secret", namespace: "acme-app", object: testutil.Secret("acme-app", "token", corev1.SecretTypeServiceAccountToken),
			deny: "rbac.tokens", fix: "Ask for a short-lived token instead"},
		{name: "an Opaque Secret", namespace: "acme-app", object: testutil.Secret("acme-app", "config", "")},
		{name: "a short token", namespace: "acme-app", object: testutil.TokenRequest("acme-app", "default", 600), resource: "serviceaccounts", subresource: "token"},
		{name: "a day-long token", namespace: "acme-app", object: testutil.TokenRequest("acme-app", "default", 86400), resource: "serviceaccounts", subresource: "token",
			deny: "rbac.tokens", fix: "Ask for at most 3600 seconds"},

		// NetworkPolicies.
		{name: "ingress from the tenant", namespace: "acme-app", object: testutil.NetworkPolicy("acme-app", "web", ingressFrom(testutil.TenantPeer(tl, "acme")), nil)},
		{name: "ingress from another tenant", namespace: "acme-app", object: testutil.NetworkPolicy("acme-app", "web", ingressFrom(testutil.TenantPeer(tl, "beta")), nil),
			deny: "network.ingress", fix: "Name sources with a podSelector (this namespace)"},
		{name: "ingress from any address", namespace: "acme-app", object: testutil.NetworkPolicy("acme-app", "web", ingressFrom(testutil.IPBlockPeer("0.0.0.0/0")), nil),
			deny: "network.ingress", fix: "an ipBlock source must leave out the cluster's pod and Service ranges"},
		{name: "egress to the metadata address", namespace: "acme-app", object: testutil.NetworkPolicy("acme-app", "web", nil, egressTo(testutil.IPBlockPeer("169.254.0.0/16"))),
			deny: "network.egress", fix: "Keep egress inside what the Tenant's spec.network.egress allows"},
		{name: "egress to the internet, the metadata address excepted, from a Soft tenant", namespace: "beta-app",
			object: testutil.NetworkPolicy("beta-app", "web", nil, egressTo(testutil.IPBlockPeer("0.0.0.0/0", "169.254.169.254/32")))},

		// Port 53 only to the tenant's own pods and the cluster DNS.
		{name: "a Soft tenant's egress to the internet on every port", namespace: "beta-app",
			object: testutil.NetworkPolicy("beta-app", "web", nil, egressOn(nil, testutil.IPBlockPeer("0.0.0.0/0", "169.254.169.254/32"))),
			deny:   "network.dns", fix: "Give the rule ports that leave out 53"},
		{name: "egress to another resolver in the cluster on UDP 53", namespace: "beta-app",
			object: testutil.NetworkPolicy("beta-app", "web", nil, egressOn([]networkingv1.NetworkPolicyPort{port(udp, intstr.FromInt32(53))}, otherNS)),
			deny:   "network.dns", fix: "or to the cluster DNS: namespaceSelector matchLabels kubernetes.io/metadata.name: kube-system"},
		{name: "egress on a range that covers 53", namespace: "beta-app",
			object: testutil.NetworkPolicy("beta-app", "web", nil, egressOn([]networkingv1.NetworkPolicyPort{port(tcp, intstr.FromInt32(1), 1024)}, otherNS)),
			deny:   "network.dns", fix: "Give the rule ports that leave out 53"},
		{name: "egress on a named port, which may be 53 at the destination", namespace: "beta-app",
			object: testutil.NetworkPolicy("beta-app", "web", nil, egressOn([]networkingv1.NetworkPolicyPort{port(udp, intstr.FromString("dns"))}, otherNS)),
			deny:   "network.dns", fix: "(numbers or ranges, not names)"},
		{name: "egress on 53 to all pods, the tenant's pods beside them", namespace: "beta-app",
			object: testutil.NetworkPolicy("beta-app", "web", nil, egressOn([]networkingv1.NetworkPolicyPort{port(udp, intstr.FromInt32(53))},
				networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}}, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}})),
			deny: "network.dns", fix: "send it only to the tenant's own pods"},
		{name: "egress on 53 to the cluster DNS", namespace: "beta-app",
			object: testutil.NetworkPolicy("beta-app", "web", nil, egressOn([]networkingv1.NetworkPolicyPort{port(udp, intstr.FromInt32(53)), port(tcp, intstr.FromInt32(53))}, dnsPeer))},
		{name: "egress on 53 to the tenant's own pods", namespace: "beta-app",
			object: testutil.NetworkPolicy("beta-app", "web", nil, egressOn([]networkingv1.NetworkPolicyPort{port(udp, intstr.FromInt32(53))},
				networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "resolver"}}}, testutil.TenantPeer(tl, "beta")))},
		{name: "egress around 53 to another namespace", namespace: "beta-app",
			object: testutil.NetworkPolicy("beta-app", "web", nil, egressOn([]networkingv1.NetworkPolicyPort{
				port(udp, intstr.FromInt32(1), 52), port(udp, intstr.FromInt32(54), 65535), {Protocol: ptr.To(corev1.ProtocolSCTP)}}, otherNS))},

		// Retained namespaces.
		// Devices (DRA): acme may use gpu, and nothing else; beta (Soft,
		// no list) any class.
		{name: "a claim of an allowed class", namespace: "acme-app", object: claim("acme-app", exactly("gpu"))},
		{name: "a claim of another class", namespace: "acme-app", object: claim("acme-app", exactly("fpga")),
			deny: "devices.classes", fix: "DeviceClass fpga is not allowed; allowed: gpu"},
		{name: "a forbidden class as a firstAvailable alternative", namespace: "acme-app", object: claim("acme-app", firstAvailable("gpu", "fpga")),
			deny: "devices.classes", fix: "firstAvailable alternatives included"},
		{name: "a claim template of another class", namespace: "acme-app", object: claimTemplate("acme-app", exactly("fpga")),
			deny: "devices.classes", fix: "DeviceClass fpga"},
		{name: "a claim of any class in a Soft tenant with no list", namespace: "beta-app", object: claim("beta-app", exactly("fpga"))},
		{name: "a claim asking for admin access", namespace: "acme-app", object: claim("acme-app", func(r *resourcev1.DeviceRequest) {
			exactly("gpu")(r)
			r.Exactly.AdminAccess = ptr.To(true)
		}), deny: "devices.adminAccess", fix: "administering devices is for cluster admins"},
		{name: "a claim asking for admin access in a Soft tenant", namespace: "beta-app", object: claim("beta-app", func(r *resourcev1.DeviceRequest) {
			exactly("gpu")(r)
			r.Exactly.AdminAccess = ptr.To(true)
		}), deny: "devices.adminAccess", fix: "administering devices is for cluster admins"},
		{name: "a pod requesting an allowed class's extended resource", namespace: "acme-app", object: pod(extended("example.com/gpu"))},
		{name: "a pod requesting a forbidden class's extended resource", namespace: "acme-app", object: pod(extended("example.com/fpga")),
			deny: "devices.classes", fix: "extended resource example.com/fpga is backed by a DeviceClass"},
		{name: "a pod requesting a forbidden class by its implicit name", namespace: "acme-app", object: pod(extended("deviceclass.resource.kubernetes.io/fpga")),
			deny: "devices.classes", fix: "deviceclass.resource.kubernetes.io/fpga"},
		{name: "a Deployment whose template requests a forbidden class", namespace: "acme-app",
			object: func() *appsv1.Deployment {
				d := testutil.Deployment("acme-app", "web", image, 1)
				p := &corev1.Pod{Spec: d.Spec.Template.Spec}
				extended("example.com/fpga")(p)
				d.Spec.Template.Spec = p.Spec
				return d
			}(), deny: "devices.classes", fix: "example.com/fpga"},
		{name: "a pod requesting an allowed class by its implicit name", namespace: "acme-app", object: pod(extended("deviceclass.resource.kubernetes.io/gpu"))},
		// Gateway API: acme (Hard) may attach to infra/shared's https
		// listener and to any listener of infra/open, and owns no Gateway;
		// beta (Soft) may own Gateways.
		{name: "a route on an allowed shared listener", namespace: "acme-app",
			object: testutil.HTTPRoute("acme-app", "web", []gatewayv1.ParentReference{testutil.Parent("infra", "shared", "https")}, "web.acme.example.com")},
		{name: "a route on a listed Gateway without naming the listed listener", namespace: "acme-app",
			object: testutil.HTTPRoute("acme-app", "web", []gatewayv1.ParentReference{testutil.Parent("infra", "shared", "")}, "web.acme.example.com"),
			deny:   "gateway.parentRefs", fix: "parent infra/shared is neither"},
		{name: "a route on another listener of a listed Gateway", namespace: "acme-app",
			object: testutil.HTTPRoute("acme-app", "web", []gatewayv1.ParentReference{testutil.Parent("infra", "shared", "http")}, "web.acme.example.com"),
			deny:   "gateway.parentRefs", fix: "parent infra/shared listener http"},
		{name: "a route on an unlisted Gateway", namespace: "acme-app",
			object: testutil.HTTPRoute("acme-app", "web", []gatewayv1.ParentReference{testutil.Parent("infra", "other", "")}, "web.acme.example.com"),
			deny:   "gateway.parentRefs", fix: "spec.gateway.parents"},
		{name: "a route on another tenant's Gateway", namespace: "acme-app",
			object: testutil.HTTPRoute("acme-app", "web", []gatewayv1.ParentReference{testutil.Parent("beta-app", "gw", "")}, "web.acme.example.com"),
			deny:   "gateway.parentRefs", fix: "parent beta-app/gw"},
		{name: "a route naming a Service in another namespace as its parent", namespace: "acme-app",
			object: testutil.HTTPRoute("acme-app", "web", []gatewayv1.ParentReference{func() gatewayv1.ParentReference {
				p := testutil.Parent("infra", "open", "")
				p.Kind, p.Group = ptr.To(gatewayv1.Kind("Service")), ptr.To(gatewayv1.Group(""))
				return p
			}()}, "web.acme.example.com"),
			deny: "gateway.parentRefs", fix: "parent infra/open"},
		{name: "a route without hostnames on its own Gateway", namespace: "acme-app",
			object: testutil.HTTPRoute("acme-app", "web", []gatewayv1.ParentReference{testutil.Parent("", "own", ""), testutil.Parent("acme-new", "own", "")})},
		{name: "a route without hostnames on a shared listener", namespace: "acme-app",
			object: testutil.HTTPRoute("acme-app", "web", []gatewayv1.ParentReference{testutil.Parent("infra", "open", "")}),
			deny:   "gateway.noHostnames", fix: "a route without hostnames attached to shared Gateway infra/open"},
		{name: "a route hostname of another tenant", namespace: "acme-app",
			object: testutil.HTTPRoute("acme-app", "web", []gatewayv1.ParentReference{testutil.Parent("infra", "open", "")}, "web.acme.example.com", "shop.globex.example.com"),
			deny:   "gateway.hostnames", fix: "hostname shop.globex.example.com is not the tenant's"},
		{name: "a TCP route on an allowed Gateway", namespace: "acme-app", object: testutil.TCPRoute("acme-app", "db", testutil.Parent("infra", "open", ""))},
		{name: "a TCP route on an unlisted listener", namespace: "acme-app", object: testutil.TCPRoute("acme-app", "db", testutil.Parent("infra", "shared", "tcp")),
			deny: "gateway.parentRefs", fix: "parent infra/shared listener tcp"},
		{name: "a Gateway of a Hard tenant", namespace: "acme-app", object: testutil.Gateway("acme-app", "own", "shared-class", "web.acme.example.com"),
			deny: "gateway.ownGateways", fix: "spec.gateway.parents"},
		{name: "a Gateway of a Soft tenant", namespace: "beta-app", object: testutil.Gateway("beta-app", "gw", "shared-class", "", "www.beta.example.com")},
		{name: "a Gateway of a class the tenant may not use", namespace: "beta-app", object: testutil.Gateway("beta-app", "gw", "public-lb", "", "www.beta.example.com"),
			deny: "gateway.classes", fix: "GatewayClass public-lb is not one the tenant's Gateways may use; allowed: shared-class"},
		{name: "a Gateway with static addresses", namespace: "beta-app", object: func() *gatewayv1.Gateway {
			g := testutil.Gateway("beta-app", "gw", "shared-class", "")
			g.Spec.Addresses = []gatewayv1.GatewaySpecAddress{{Value: "10.0.0.1"}}
			return g
		}(), deny: "gateway.addresses", fix: "let the Gateway's class assign one"},
		{name: "a ListenerSet on a shared Gateway, with hostnames", namespace: "acme-app",
			object: testutil.ListenerSet("acme-app", "ls", "infra", "open", "api.acme.example.com")},
		{name: "a ListenerSet listener without a hostname on a shared Gateway", namespace: "acme-app",
			object: testutil.ListenerSet("acme-app", "ls", "infra", "open", "api.acme.example.com", ""),
			deny:   "gateway.noHostnames", fix: "a listener without a hostname"},
		{name: "a ListenerSet TCP listener on a shared Gateway", namespace: "acme-app",
			object: func() *gatewayv1.ListenerSet {
				// Hostnames are for HTTP and TLS listeners; the API server
				// refuses one on TCP. Should it not, the protocol decides.
				ls := testutil.ListenerSet("acme-app", "ls", "infra", "open", "db.acme.example.com")
				ls.Spec.Listeners[0].Protocol, ls.Spec.Listeners[0].Port = gatewayv1.TCPProtocolType, 5432
				return ls
			}(), deny: "gateway.noHostnames", fix: "which take a whole port"},
		{name: "a ListenerSet listener for another tenant's name", namespace: "acme-app",
			object: testutil.ListenerSet("acme-app", "ls", "infra", "open", "*.example.com"),
			deny:   "gateway.hostnames", fix: "hostname *.example.com"},
		{name: "a ListenerSet on an unlisted Gateway", namespace: "acme-app",
			object: testutil.ListenerSet("acme-app", "ls", "infra", "other", "api.acme.example.com"),
			deny:   "gateway.parentRefs", fix: "parent infra/other"},
		// A frozen tenant starts nothing new, and can always shrink.
		{name: "a pod of a frozen tenant", namespace: "frost-app", object: testutil.Pod("frost-app", "web", "docker.io/library/nginx:1"),
			deny: "state", fix: "the tenant is frozen by ops-oncall: no new Pod is admitted"},
		{name: "a Deployment of a frozen tenant", namespace: "frost-app", object: frostDeploy(1), deny: "state", fix: unfreeze},
		{name: "a Service of a frozen tenant", namespace: "frost-app", object: testutil.Service("frost-app", "web"), deny: "state", fix: unfreeze},
		{name: "a claim of a frozen tenant", namespace: "frost-app", object: testutil.PVC("frost-app", "data", "standard"), deny: "state", fix: unfreeze},
		{name: "a scale-up of a frozen tenant's Deployment", namespace: "frost-app", op: admission.Update,
			object: frostDeploy(3), oldObject: frostDeploy(1), deny: "state", fix: unfreeze},
		{name: "a scale-up through the scale subresource", namespace: "frost-app", op: admission.Update,
			object: scale("frost-app", 2), oldObject: scale("frost-app", 0), resource: "apps/deployments", subresource: "scale", deny: "state", fix: "nothing is scaled up"},
		{name: "a scale-down of a frozen tenant's Deployment", namespace: "frost-app", op: admission.Update,
			object: frostDeploy(0), oldObject: frostDeploy(3)},
		{name: "a scale-down through the scale subresource to zero", namespace: "frost-app", op: admission.Update,
			object: scale("frost-app", 0), oldObject: scale("frost-app", 2), resource: "apps/deployments", subresource: "scale"},
		{name: "a new image for a frozen tenant's running pod", namespace: "frost-app", op: admission.Update,
			object: testutil.Pod("frost-app", "web", "docker.io/library/nginx:2"), oldObject: testutil.Pod("frost-app", "web", "docker.io/library/nginx:1"),
			deny: "state", fix: "no Pod is changed"},
		{name: "an ephemeral container in a frozen tenant's pod", namespace: "frost-app", op: admission.Update, subresource: "ephemeralcontainers",
			object: testutil.Pod("frost-app", "web", "docker.io/library/nginx:1", func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg", Image: "busybox"}}}
			}), oldObject: testutil.Pod("frost-app", "web", "docker.io/library/nginx:1"), deny: "state", fix: unfreeze},
		{name: "a new port on a frozen tenant's Service", namespace: "frost-app", op: admission.Update,
			object: testutil.Service("frost-app", "web", func(svc *corev1.Service) {
				svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: "b", Port: 8080})
			}),
			oldObject: testutil.Service("frost-app", "web"), deny: "state", fix: "no Service is changed"},
		{name: "a new host on a frozen tenant's Ingress", namespace: "frost-app", op: admission.Update,
			object: testutil.Ingress("frost-app", "web", "", "b.frost.example"), oldObject: testutil.Ingress("frost-app", "web", "", "a.frost.example"),
			deny: "state", fix: "no Ingress is changed"},
		{name: "a frozen tenant's claim grown", namespace: "frost-app", op: admission.Update,
			object: testutil.PVC("frost-app", "data", "standard", func(c *corev1.PersistentVolumeClaim) {
				c.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("20Gi")}
			}), oldObject: testutil.PVC("frost-app", "data", "standard"), deny: "state", fix: unfreeze},
		{name: "a frozen tenant's claim bound by the volume binder", namespace: "frost-app", op: admission.Update, user: "system:serviceaccount:kube-system:persistent-volume-binder",
			object:    testutil.PVC("frost-app", "data", "standard", func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "pv-1" }),
			oldObject: testutil.PVC("frost-app", "data", "standard")},
		{name: "a new template for a frozen tenant's Deployment, at the same scale", namespace: "frost-app", op: admission.Update,
			object: func() *appsv1.Deployment {
				d := frostDeploy(1)
				d.Spec.Template.Spec.Containers[0].Image = "docker.io/library/nginx:2"
				return d
			}(), oldObject: frostDeploy(1)},
		{name: "a delete in a frozen tenant", namespace: "frost-app", op: admission.Delete, oldObject: frostDeploy(1)},
		{name: "a pod in a namespace an admin froze by label", namespace: "beta-held", object: testutil.Pod("beta-held", "web", "docker.io/library/nginx:1"),
			deny: "state", fix: "namespace beta-held is frozen (label tenancy.bulkhead.dev/frozen) by ops"},
		{name: "a pod in the unfrozen namespace of the same tenant", namespace: "beta-app", object: testutil.Pod("beta-app", "web", "docker.io/library/nginx:1")},
		{name: "a pod in a retained namespace", namespace: "old-app", object: testutil.Pod("old-app", "web", image),
			deny: "namespaces.retained", fix: "A cluster admin adopts it into a tenant"},
		{name: "an admin's binding in a retained namespace", namespace: "old-app", object: testutil.RoleBinding("old-app", "ops", "view", testutil.UserSubject("ops")),
			user: "root", groups: []string{"system:masters", "system:authenticated"}},

		// Bulkhead's own objects.
		{name: "an object labelled as Bulkhead's", namespace: "acme-app", object: managed(testutil.Secret("acme-app", "config", "")),
			deny: "managed-objects", fix: "Remove the label"},
		{name: "a change to Bulkhead's binding", namespace: "acme-app", op: admission.Update,
			oldObject: managed(rb("bulkhead-members", "edit", testutil.UserSubject("bob"))), object: managed(rb("bulkhead-members", "edit", testutil.UserSubject("bob"), testutil.UserSubject("alice"))),
			deny: "managed-objects", fix: "Change the Tenant instead"},
		{name: "a tenant Secret marked as a copy source", namespace: "acme-app",
			object: labelled(testutil.Secret("acme-app", "pull", ""), tenancyv1alpha1.CopyLabel, tenancyv1alpha1.CopySource),
			deny:   "managed-objects", fix: "Secret pull carries the label tenancy.bulkhead.dev/copy, which only Bulkhead and cluster admins set"},
		{name: "a tenant ConfigMap labelled as a copy", namespace: "acme-app", op: admission.Update,
			oldObject: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "acme-app", Name: "ca"}},
			object:    labelled(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "acme-app", Name: "ca"}}, tenancyv1alpha1.CopyLabel, tenancyv1alpha1.CopyCopy),
			deny:      "managed-objects", fix: "Remove the label"},
		{name: "a tenant removing the copy label from its own Secret", namespace: "acme-app", op: admission.Update,
			oldObject: labelled(testutil.Secret("acme-app", "pull", ""), tenancyv1alpha1.CopyLabel, tenancyv1alpha1.CopySource),
			object:    testutil.Secret("acme-app", "pull", "")},
		{name: "an admin marking a Secret as a source", namespace: "acme-app", user: "root", groups: []string{"system:masters", "system:authenticated"},
			object: labelled(testutil.Secret("acme-app", "pull", ""), tenancyv1alpha1.CopyLabel, tenancyv1alpha1.CopySource)},
		{name: "Bulkhead changing its binding", namespace: "acme-app", op: admission.Update, user: s.ManagerUser(),
			oldObject: managed(rb("bulkhead-members", "edit", testutil.UserSubject("bob"))), object: managed(rb("bulkhead-members", "edit", testutil.UserSubject("bob"), testutil.UserSubject("alice")))},
	} {
		t.Run(c.name, func(t *testing.T) {
			denials := w.run(t, c)
			if c.deny == "" {
				if len(denials) > 0 {
					t.Fatalf("refused, want admitted:%s", denialsText(denials))
				}
				return
			}
			if len(denials) == 0 {
				t.Fatalf("admitted, want refused by rule %s", c.deny)
			}
			for _, d := range denials {
				if d.rule != c.deny {
					t.Errorf("refused by %s, want only rule %s:%s", d.rule, c.deny, denialsText(denials))
					continue
				}
				if !strings.Contains(d.message, "[rule "+c.deny+"]") || !strings.Contains(d.message, c.fix) {
					t.Errorf("message %q does not name [rule %s] and the fix %q", d.message, c.deny, c.fix)
				}
				covered[fmt.Sprintf("%s[%d]", d.policy, d.index)] = true
			}
		})
	}

	// Every validation must have refused a case.
	for _, p := range w.validating {
		for i, rule := range p.rules {
			key := fmt.Sprintf("%s[%d]", p.policy.Name, i)
			if covered[key] {
				continue
			}
			if reason, ok := celUncovered[key]; ok {
				t.Logf("%s (rule %s) is not evaluated offline: %s", key, rule, reason)
				continue
			}
			t.Errorf("no case is refused by %s spec.validations[%d] (rule %s); add one", p.policy.Name, i, rule)
		}
	}
}
