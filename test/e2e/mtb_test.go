package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/audit"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// mtbImage is any image: a Hard tenant without a registry list takes all.
const mtbImage = "registry.example.com/mtb/app:1"

// TestMTB runs the 19 checks of the Multi-Tenancy Benchmarks (kubectl-mtb)
// against a Hard tenant. The original counts any error as "blocked", so a
// quota or a malformed object passes a check; here every refusal must come
// for the reason the check is about: RBAC's own denial naming the verb and
// resource, Pod Security's named check, or the Bulkhead rule. Each test pod
// has one violation only (the privileged one also leaves
// allowPrivilegeEscalation unset, as the API server demands). The tenant identities are
// impersonated with their groups, and both tenants grant access to a Group
// as well as a User, so group bindings are exercised too. The access sweeps
// are wider than the original's: cluster-scoped kinds are reviewed for
// members as well as owners, with the special verbs (impersonate, bind,
// escalate, approve, sign), and the cross-tenant sweep covers subresources.
func TestMTB(t *testing.T) {
	ctx := context.Background()
	a := mtbSetup(t, "mtb")
	b := mtbSetup(t, "mtb2")
	mtbRequireRestricted(t, a.ns)

	t.Run("PL1-CC-CPI-1 block access to cluster resources", func(t *testing.T) {
		var list []audit.Access
		for _, r := range mtbDiscover(t, false) {
			if r.Subresource != "" {
				continue
			}
			for _, v := range r.Verbs {
				list = append(list, audit.Access{Verb: v, Group: r.Group, Resource: r.Resource})
			}
		}
		list = append(list, audit.SpecialClusterVerbs...)
		for _, who := range []struct {
			name       string
			c          client.Client
			exceptions map[string]string
		}{
			{"owner", a.owner, audit.ClusterExceptions(audit.RoleOwner)},
			{"member", a.member, audit.ClusterExceptions(audit.RoleMember)},
		} {
			allowed := mtbReviewAll(t, who.c, list)
			var unexpected []string
			for _, acc := range allowed {
				if _, ok := who.exceptions[acc.Key()]; !ok {
					unexpected = append(unexpected, acc.String())
				}
			}
			if len(unexpected) > 0 {
				t.Errorf("the %s may do %d things to cluster-scoped resources that no tenant should:\n  %s",
					who.name, len(unexpected), strings.Join(unexpected, "\n  "))
			}
			// A documented exception that is no longer granted is stale.
			for key, why := range who.exceptions {
				found := false
				for _, acc := range allowed {
					found = found || acc.Key() == key
				}
				if !found {
					t.Errorf("the %s may not %s, though it is listed as an exception (%s)", who.name, key, why)
				}
			}
			t.Logf("%s: %d cluster-scoped accesses reviewed, %d allowed, all documented", who.name, len(list), len(allowed))
		}
	})

	t.Run("PL1-BC-CPI-2 block multitenant resources", func(t *testing.T) {
		// How deleting each kind the admin placed in a tenant namespace is
		// refused to its owner: the owner role has no delete on the kind at
		// all, or it has (to manage its own objects of that kind) and the
		// managed-objects rule protects Bulkhead's.
		want := map[string]string{
			"rbac.authorization.k8s.io/rolebindings":               mtbByRule,
			"networking.k8s.io/networkpolicies":                    mtbByRule,
			"core/resourcequotas":                                  mtbByRBAC,
			"core/limitranges":                                     mtbByRBAC,
			tenancyv1alpha1.GroupVersion.Group + "/tenantpolicies": mtbByRBAC,
		}
		seen := map[string]int{}
		for _, r := range mtbDiscover(t, true) {
			if r.Subresource != "" || !r.Can("list") || !r.Can("delete") {
				continue
			}
			list := &metav1.PartialObjectMetadataList{}
			list.SetGroupVersionKind(r.GVK().GroupVersion().WithKind(r.Kind + "List"))
			if err := env.Client.List(ctx, list, client.InNamespace(a.ns),
				client.MatchingLabels{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}); err != nil {
				t.Fatalf("listing managed %s: %v", r.Key(), err)
			}
			for _, item := range list.Items {
				seen[r.Key()]++
				obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: item.Name}}
				obj.SetGroupVersionKind(r.GVK())
				what := fmt.Sprintf("%s %s/%s", r.Key(), a.ns, item.Name)
				err := a.owner.Delete(ctx, obj, client.DryRunAll)
				switch want[r.Key()] {
				case mtbByRBAC:
					if !mtbIsRBACDenial(err, "delete", r.Resource) {
						t.Errorf("owner deleting %s: %v; want RBAC's denial `cannot delete resource %q`", what, err, r.Resource)
					}
				case mtbByRule:
					if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "tenant "+a.name+": ") ||
						!strings.Contains(err.Error(), "[rule managed-objects]") {
						t.Errorf("owner deleting %s: %v; want the Bulkhead denial [rule managed-objects]", what, err)
					}
				default:
					t.Errorf("owner deleting %s: %v; this kind is not expected in a tenant namespace, so there is no expected refusal", what, err)
				}
			}
		}
		for key := range want {
			if seen[key] == 0 {
				t.Errorf("no managed %s found in %s: a Hard tenant namespace should have one", key, a.ns)
			}
		}
		t.Logf("managed objects in %s, all refused to the owner: %v", a.ns, seen)
	})

	pods := []mtbPodCase{
		{"PL1-BC-CPI-3", "add a capability", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"SYS_ADMIN"}
		}, `unrestricted capabilities (container "app" must not include "SYS_ADMIN" in securityContext.capabilities.add)`},
		// The API server refuses privileged together with
		// allowPrivilegeEscalation=false as invalid, so the privileged pod
		// leaves the latter unset: privileged implies escalation anyway.
		{"PL1-BC-CPI-5", "privileged", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
			p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
		}, `privileged (container "app" must not set securityContext.privileged=true)`},
		{"PL1-BC-CPI-6", "allowPrivilegeEscalation true", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr.To(true)
		}, `allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)`},
		// Restricted's volume type allowlist supersedes baseline's hostPath
		// check, so it is the one Pod Security reports.
		{"PL1-BC-HI-1", "hostPath volume", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}}}
		}, `restricted volume types (volume "h" uses restricted volume type "hostPath")`},
		{"PL1-BC-HI-3", "hostNetwork", func(p *corev1.Pod) { p.Spec.HostNetwork = true }, `host namespaces (hostNetwork=true)`},
		{"PL1-BC-HI-3", "hostPort", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080}}
		}, `hostPort (container "app" uses hostPort 8080)`},
		{"PL1-BC-HI-4", "hostPID", func(p *corev1.Pod) { p.Spec.HostPID = true }, `host namespaces (hostPID=true)`},
		{"PL1-BC-HI-5", "hostIPC", func(p *corev1.Pod) { p.Spec.HostIPC = true }, `host namespaces (hostIPC=true)`},
	}
	for _, id := range []struct{ id, title string }{
		{"PL1-BC-CPI-3", "block add capabilities"},
		{"PL1-BC-CPI-5", "block privileged containers"},
		{"PL1-BC-CPI-6", "block privilege escalation"},
	} {
		t.Run(id.id+" "+id.title, func(t *testing.T) { mtbPodsOf(t, a, pods, id.id) })
	}

	// Pod Security (restricted, since v1.35) waives runAsNonRoot and
	// runAsUser for pods in a user namespace: root there is an unprivileged
	// user of the node. A Hard tenant puts every pod in one, so such a pod is
	// admitted, but only as hostUsers=false; where the tenant lets pods share
	// the node's users, Pod Security refuses it.
	t.Run("PL1-BC-CPI-4 require run as non-root", func(t *testing.T) {
		rootPods := []struct {
			name  string
			edit  func(*corev1.Pod)
			check string
		}{
			{"runAsNonRoot false", func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsNonRoot = ptr.To(false) },
				`runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)`},
			{"runAsUser 0", func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.RunAsUser = ptr.To[int64](0) },
				`runAsUser=0 (container "app" must not set runAsUser=0)`},
		}
		for _, rp := range rootPods {
			pod := testutil.Pod(a.ns, "mtb-root-"+strings.ReplaceAll(strings.ToLower(rp.name), " ", "-"), mtbImage, rp.edit)
			if err := a.member.Create(ctx, pod); err != nil {
				t.Fatalf("a pod with %s in a Hard tenant: %v; want it admitted into a user namespace", rp.name, err)
			}
			if ptr.Deref(pod.Spec.HostUsers, true) {
				t.Errorf("a pod with %s was admitted sharing the node's users (hostUsers unset or true)", rp.name)
			}
			_ = env.Client.Delete(ctx, pod)
		}
		tn := testutil.Tenant("mtb3").Owner("mtb3-owner").Member("mtb3-dev").Hard().
			UserNamespaces(tenancyv1alpha1.UserNamespacesAllowed).Obj()
		env.TenantWithNamespace(t, tn, "mtb3-a")
		shared := mtbTenant{name: "mtb3", ns: "mtb3-a", member: env.As("mtb3-dev")}
		for _, rp := range rootPods {
			mtbPodRefused(t, shared, rp.name, rp.edit, rp.check)
		}
	})

	t.Run("PL1-CC-TI-1 block modification of resource quotas", func(t *testing.T) {
		before := &corev1.ResourceQuota{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: a.ns, Name: render.QuotaName}, before); err != nil {
			t.Fatal(err)
		}
		for _, who := range []struct {
			name string
			c    client.Client
		}{{"owner", a.owner}, {"member", a.member}} {
			t.Run(who.name, func(t *testing.T) {
				c := who.c
				extra := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "mtb-extra"},
					Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1000")}}}
				mtbRBACDenied(t, c.Create(ctx, extra), "create", "resourcequotas")

				q := &corev1.ResourceQuota{}
				if err := c.Get(ctx, client.ObjectKeyFromObject(before), q); err != nil {
					t.Fatalf("the %s reading the quota: %v", who.name, err)
				}
				raised := q.DeepCopy()
				raised.Spec.Hard[corev1.ResourcePods] = resource.MustParse("1000")
				mtbRBACDenied(t, c.Update(ctx, raised.DeepCopy()), "update", "resourcequotas")
				mtbRBACDenied(t, c.Patch(ctx, raised.DeepCopy(), client.MergeFrom(q)), "patch", "resourcequotas")
				status := q.DeepCopy()
				status.Status.Used = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}
				mtbRBACDenied(t, c.Status().Update(ctx, status), "update", "resourcequotas/status")
				mtbRBACDenied(t, c.Delete(ctx, q.DeepCopy()), "delete", "resourcequotas")
				mtbRBACDenied(t, c.DeleteAllOf(ctx, &corev1.ResourceQuota{}, client.InNamespace(a.ns)), "deletecollection", "resourcequotas")
			})
		}
		after := &corev1.ResourceQuota{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(before), after); err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(before.Spec, after.Spec) {
			t.Errorf("the quota changed: %v, was %v", after.Spec.Hard, before.Spec.Hard)
		}
	})

	t.Run("PL1-CC-TI-2 block access to other tenant resources", func(t *testing.T) {
		resources := mtbDiscover(t, true)
		for _, dir := range []struct{ from, to mtbTenant }{{a, b}, {b, a}} {
			var list []audit.Access
			for _, r := range resources {
				for _, v := range r.Verbs {
					list = append(list, audit.Access{Verb: v, Group: r.Group, Resource: r.Resource, Subresource: r.Subresource, Namespace: dir.to.ns})
				}
			}
			for _, s := range audit.SpecialNamespacedVerbs {
				s.Namespace = dir.to.ns
				list = append(list, s)
			}
			for _, who := range []struct {
				name string
				c    client.Client
			}{{"owner", dir.from.owner}, {"member", dir.from.member}} {
				allowed := mtbReviewAll(t, who.c, list)
				if len(allowed) > 0 {
					var lines []string
					for _, acc := range allowed {
						lines = append(lines, acc.String())
					}
					t.Errorf("%s's %s may do %d things in %s's namespace:\n  %s", dir.from.name, who.name, len(allowed), dir.to.name, strings.Join(lines, "\n  "))
				}
				t.Logf("%s's %s: %d accesses in %s reviewed, none allowed", dir.from.name, who.name, len(list), dir.to.ns)
			}
		}
		// And a real request, for good measure.
		mtbRBACDenied(t, a.owner.List(ctx, &corev1.SecretList{}, client.InNamespace(b.ns)), "list", "secrets")
		mtbRBACDenied(t, b.member.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "mtb-intruder"}}), "create", "configmaps")
	})

	t.Run("PL1-CC-FNS-1 configure namespace resource quotas", func(t *testing.T) {
		hard := mtbQuotaHard(t, a)
		for _, r := range []string{"cpu", "memory", "ephemeral-storage"} {
			if !hard["requests."+r] && !hard[r] {
				t.Errorf("the namespace quota does not limit requests of %s (neither %s nor requests.%s in spec.hard)", r, r, r)
			}
			if !hard["limits."+r] {
				t.Errorf("the namespace quota does not limit limits.%s", r)
			}
		}
	})

	t.Run("PL1-CC-FNS-2 configure namespace object limits", func(t *testing.T) {
		hard := mtbQuotaHard(t, a)
		for _, r := range []string{"pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
			"configmaps", "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"} {
			if !hard[r] && !hard["count/"+r] {
				t.Errorf("the namespace quota does not limit %s", r)
			}
		}
	})

	t.Run("PL1-BC-HI-1 block hostPath volumes", func(t *testing.T) { mtbPodsOf(t, a, pods, "PL1-BC-HI-1") })

	t.Run("PL1-BC-HI-2 block NodePort services", func(t *testing.T) {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "mtb-np"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}}
		err := a.member.Create(ctx, svc)
		testenv.Rejected(t, err, a.name, "services.allowedTypes")
		testenv.ExpectDenied(t, err, "Service type NodePort is not allowed")
	})

	t.Run("PL1-BC-HI-3 block host networking and ports", func(t *testing.T) { mtbPodsOf(t, a, pods, "PL1-BC-HI-3") })
	t.Run("PL1-BC-HI-4 block host PID", func(t *testing.T) { mtbPodsOf(t, a, pods, "PL1-BC-HI-4") })
	t.Run("PL1-BC-HI-5 block host IPC", func(t *testing.T) { mtbPodsOf(t, a, pods, "PL1-BC-HI-5") })

	t.Run("PL1-CC-DI-1 require Always imagePullPolicy", func(t *testing.T) {
		// Bulkhead's answer is to rewrite the policy, not to refuse the pod.
		p := testutil.Pod(a.ns, "mtb-never", mtbImage, func(p *corev1.Pod) {
			p.Spec.Containers[0].ImagePullPolicy = corev1.PullNever
		})
		if err := a.member.Create(ctx, p); err != nil {
			t.Fatalf("a pod with imagePullPolicy Never was refused, want it stored with Always: %v", err)
		}
		if got := p.Spec.Containers[0].ImagePullPolicy; got != corev1.PullAlways {
			t.Errorf("the created pod has imagePullPolicy %s, want Always", got)
		}
		stored := &corev1.Pod{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), stored); err != nil {
			t.Fatal(err)
		}
		if got := stored.Spec.Containers[0].ImagePullPolicy; got != corev1.PullAlways {
			t.Errorf("the stored pod has imagePullPolicy %s, want Always", got)
		}
	})

	t.Run("PL2-BC-OPS-3 create Roles and RoleBindings", func(t *testing.T) {
		mtbAllAllowed(t, a, "rbac.authorization.k8s.io", "roles", "rolebindings")
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "mtb-reader"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}
		if err := a.owner.Create(ctx, role); err != nil {
			t.Fatalf("owner creating a Role: %v", err)
		}
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "mtb-reader"},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
			Subjects: []rbacv1.Subject{
				{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: a.name + "-dev"},
				{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: a.name + "-devs"},
			}}
		if err := a.owner.Create(ctx, rb); err != nil {
			t.Fatalf("owner binding the Role to the tenant's members: %v", err)
		}
		for _, obj := range []client.Object{rb, role} {
			if err := a.owner.Delete(ctx, obj); err != nil {
				t.Errorf("owner deleting its own %T: %v", obj, err)
			}
		}
	})

	t.Run("PL2-BC-OPS-4 create NetworkPolicies", func(t *testing.T) {
		mtbAllAllowed(t, a, "networking.k8s.io", "networkpolicies")
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "mtb-same-namespace"},
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}},
			}}
		if err := a.owner.Create(ctx, np); err != nil {
			t.Fatalf("owner creating a NetworkPolicy: %v", err)
		}
		if err := a.owner.Delete(ctx, np); err != nil {
			t.Errorf("owner deleting its own NetworkPolicy: %v", err)
		}
	})

	t.Run("PL2-CC-TI-1 block role privilege escalation", func(t *testing.T) {
		const rbacGroup = "rbac.authorization.k8s.io"
		denied := []audit.Access{
			{Verb: "escalate", Group: rbacGroup, Resource: "roles", Namespace: a.ns},
			{Verb: "escalate", Group: rbacGroup, Resource: "clusterroles"},
			{Verb: "escalate", Group: rbacGroup, Resource: "clusterroles", Namespace: a.ns},
			{Verb: "bind", Group: rbacGroup, Resource: "clusterroles", Name: "cluster-admin"},
			{Verb: "bind", Group: rbacGroup, Resource: "clusterroles", Name: "cluster-admin", Namespace: a.ns},
		}
		if allowed := mtbReviewAll(t, a.owner, denied); len(allowed) > 0 {
			t.Errorf("the owner may %v", allowed)
		}
		// RBAC checks a binding's role against its author's permissions
		// before any admission policy runs, so it is RBAC that refuses.
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "mtb-root"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: a.name + "-dev"}}}
		mtbEscalationDenied(t, a.owner.Create(ctx, rb))
		// The same check keeps a Role from granting more than its author holds.
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "mtb-everything"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}
		mtbEscalationDenied(t, a.owner.Create(ctx, role))
	})
}

// mtbTenant is a Hard tenant with one namespace, seen through its
// identities: each impersonates a User of the tenant with a Group of it.
type mtbTenant struct {
	name, ns      string
	owner, member client.Client
}

// mtbSetup creates a Hard tenant whose owners are the User <name>-owner and
// the Group <name>-owners and whose members are <name>-dev and the Group
// <name>-devs, lets the owner create <name>-a, and waits until both
// identities, and each group on its own, have their access.
func mtbSetup(t *testing.T, name string) mtbTenant {
	t.Helper()
	ctx := context.Background()
	tn := testutil.Tenant(name).Owner(name + "-owner").Group(name + "-owners").Member(name + "-dev").Hard().Obj()
	tn.Spec.Members = append(tn.Spec.Members, tenancyv1alpha1.Subject{Kind: tenancyv1alpha1.SubjectGroup, Name: name + "-devs"})
	env.CreateTenant(t, tn)
	x := mtbTenant{
		name:   name,
		ns:     name + "-a",
		owner:  env.As(name+"-owner", name+"-owners"),
		member: env.As(name+"-dev", name+"-devs"),
	}
	testenv.OwnerCreatesNamespace(t, x.owner, x.ns)
	env.WaitReady(t, name)
	testenv.Eventually(t, "namespace "+x.ns+" ready for pods", func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: x.ns, Name: tenancyv1alpha1.TenantPolicyName}, &tenancyv1alpha1.TenantPolicy{}); err != nil {
			return err
		}
		return env.Client.Get(ctx, client.ObjectKey{Namespace: x.ns, Name: "default"}, &corev1.ServiceAccount{})
	})
	for who, c := range map[string]client.Client{
		"owner": x.owner, "member": x.member,
		"a member of the owners group only":  env.As(name+"-lead", name+"-owners"),
		"a member of the members group only": env.As(name+"-intern", name+"-devs"),
	} {
		testenv.Eventually(t, who+" of "+name+" may create pods", func() error { return testenv.CanI(c, "create", "pods", x.ns) })
	}
	return x
}

// mtbRequireRestricted fails unless ns enforces the restricted Pod Security
// Standard at the pinned version, so that the pod checks test that.
func mtbRequireRestricted(t *testing.T, ns string) {
	t.Helper()
	obj := &corev1.Namespace{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: ns}, obj); err != nil {
		t.Fatal(err)
	}
	l := obj.Labels
	if l["pod-security.kubernetes.io/enforce"] != "restricted" || l["pod-security.kubernetes.io/enforce-version"] != env.Settings.PodSecurityVersion {
		t.Fatalf("namespace %s labels %v: want Pod Security enforce=restricted at %s", ns, l, env.Settings.PodSecurityVersion)
	}
}

// mtbPodCase is a pod with one violation, the check ID it belongs to, and
// the Pod Security check that must refuse it.
type mtbPodCase struct {
	id, name string
	edit     func(*corev1.Pod)
	check    string
}

// mtbPodsOf runs the pod cases of one check ID.
func mtbPodsOf(t *testing.T, x mtbTenant, pods []mtbPodCase, id string) {
	t.Helper()
	for _, p := range pods {
		if p.id == id {
			mtbPodRefused(t, x, p.name, p.edit, p.check)
		}
	}
}

// mtbPodRefused creates, as a member, a compliant pod changed by edit and
// wants Pod Security (restricted, pinned version) to refuse it with check.
func mtbPodRefused(t *testing.T, x mtbTenant, name string, edit func(*corev1.Pod), check string) {
	t.Helper()
	ctx := context.Background()
	pod := testutil.Pod(x.ns, "mtb-"+strings.ReplaceAll(strings.ToLower(name), " ", "-"), mtbImage, edit)
	err := x.member.Create(ctx, pod)
	want := `violates PodSecurity "restricted:` + env.Settings.PodSecurityVersion + `"`
	switch {
	case err == nil:
		// Show what the pod was admitted as: Pod Security relaxes some
		// checks for pods in a user namespace.
		t.Errorf("a pod with %s was admitted (stored with hostUsers=%v, runtimeClassName=%v); want Pod Security to refuse it: %s",
			name, ptr.Deref(pod.Spec.HostUsers, true), ptr.Deref(pod.Spec.RuntimeClassName, ""), check)
		_ = env.Client.Delete(ctx, pod)
	case !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), check):
		t.Errorf("a pod with %s: %v\nwant Forbidden with %s: %s", name, err, want, check)
	}
}

// mtbQuotaHard reads, as the owner, the ResourceQuotas of the tenant's
// namespace and returns the resources they limit.
func mtbQuotaHard(t *testing.T, x mtbTenant) map[string]bool {
	t.Helper()
	list := &corev1.ResourceQuotaList{}
	if err := x.owner.List(context.Background(), list, client.InNamespace(x.ns)); err != nil {
		t.Fatalf("the owner listing ResourceQuotas: %v", err)
	}
	hard := map[string]bool{}
	for _, q := range list.Items {
		for r := range q.Spec.Hard {
			hard[string(r)] = true
		}
	}
	if len(hard) == 0 {
		t.Fatalf("no ResourceQuota limits anything in %s", x.ns)
	}
	return hard
}

// mtbAllAllowed wants every verb on resources of group in the tenant's
// namespace allowed to the owner identity and to a member of the owners
// Group who is not named in the Tenant.
func mtbAllAllowed(t *testing.T, x mtbTenant, group string, resources ...string) {
	t.Helper()
	var list []audit.Access
	for _, r := range resources {
		for _, v := range []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"} {
			list = append(list, audit.Access{Verb: v, Group: group, Resource: r, Namespace: x.ns})
		}
	}
	for who, c := range map[string]client.Client{"owner": x.owner, "owners group": env.As(x.name+"-lead", x.name+"-owners")} {
		allowed := map[string]bool{}
		for _, acc := range mtbReviewAll(t, c, list) {
			allowed[acc.String()] = true
		}
		for _, acc := range list {
			if !allowed[acc.String()] {
				t.Errorf("the %s may not %s", who, acc)
			}
		}
	}
}

// Ways a tenant is refused an operation.
const (
	mtbByRBAC = "RBAC"
	mtbByRule = "managed-objects"
)

// mtbIsRBACDenial reports whether err is RBAC refusing verb on resource.
func mtbIsRBACDenial(err error, verb, resource string) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), `cannot `+verb+` resource "`+resource+`"`)
}

func mtbRBACDenied(t *testing.T, err error, verb, resource string) {
	t.Helper()
	if !mtbIsRBACDenial(err, verb, resource) {
		t.Errorf("%s %s: %v; want RBAC's denial `cannot %s resource %q`", verb, resource, err, verb, resource)
	}
}

// mtbEscalationDenied wants RBAC's escalation check to refuse err's request.
func mtbEscalationDenied(t *testing.T, err error) {
	t.Helper()
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "is attempting to grant RBAC permissions not currently held") {
		t.Errorf("got %v; want RBAC's escalation check to refuse it", err)
	}
}

// mtbDiscover lists the resource types the API server serves, failing the
// test if it cannot.
func mtbDiscover(t *testing.T, namespaced bool) []audit.Resource {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	out, err := audit.Discover(dc, namespaced)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mtbReviewAll asks the API server, as c's identity, about every access in
// list and returns the allowed ones, failing the test if it cannot.
func mtbReviewAll(t *testing.T, c client.Client, list []audit.Access) []audit.Access {
	t.Helper()
	out, err := audit.Review(context.Background(), c, list)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
