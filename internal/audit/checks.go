package audit

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Status is a check's outcome.
type Status string

// The outcomes. ERROR is inconclusive: the check could not be run, or a
// refusal came for a reason other than the one checked.
const (
	Pass          Status = "PASS"
	Fail          Status = "FAIL"
	NotApplicable Status = "N/A"
	Error         Status = "ERROR"
)

// Result is one check's outcome, with what shows it.
type Result struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Evidence string `json:"evidence"`
}

// Target is what is audited: an identity, the tenant it belongs to with
// its role and effective spec, one of the tenant's namespaces, and a
// namespace of another tenant ("" when there is none) to try to reach.
type Target struct {
	Identity  Identity
	Tenant    string
	Spec      tenancyv1alpha1.TenantSpec
	Role      Role
	Namespace string
	Other     string
}

// Auditor runs the checks.
type Auditor struct {
	// As acts as the audited identity (impersonating it).
	As client.Client
	// Reader reads with the caller's own rights: the quotas and the
	// objects Bulkhead placed in the namespace, which the identity may
	// not be allowed to list.
	Reader    client.Reader
	Discovery discovery.DiscoveryInterface
	Target    Target
}

type check struct {
	id, title string
	run       func(a *Auditor, ctx context.Context) (Status, string)
}

// checks are the 19 of the Multi-Tenancy Benchmarks, in their order.
var checks = []check{
	{"PL1-CC-CPI-1", "block access to cluster resources", (*Auditor).clusterResources},
	{"PL1-BC-CPI-2", "block multitenant resources", (*Auditor).managedObjects},
	{"PL1-BC-CPI-3", "block add capabilities", podCheck(func(p *corev1.Pod) {
		p.Spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"SYS_ADMIN"}
	}, "SYS_ADMIN")},
	{"PL1-BC-CPI-4", "require run as non-root", (*Auditor).nonRoot},
	{"PL1-BC-CPI-5", "block privileged containers", podCheck(func(p *corev1.Pod) {
		// The API server refuses privileged with allowPrivilegeEscalation
		// false as invalid: one violation only.
		p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
		p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	}, "privileged")},
	{"PL1-BC-CPI-6", "block privilege escalation", podCheck(func(p *corev1.Pod) {
		p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr.To(true)
	}, "allowPrivilegeEscalation")},
	{"PL1-CC-TI-1", "block modification of resource quotas", (*Auditor).quotaWrites},
	{"PL1-CC-TI-2", "block access to other tenant resources", (*Auditor).otherTenant},
	{"PL1-CC-FNS-1", "configure namespace resource quotas", quotaCheck("cpu", "memory", "ephemeral-storage")},
	{"PL1-CC-FNS-2", "configure namespace object limits", quotaCheck("pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims", "services.nodeports", "services.loadbalancers")},
	{"PL1-BC-HI-1", "block hostPath volumes", podCheck(func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}}}
	}, "hostPath")},
	{"PL1-BC-HI-2", "block NodePort services", (*Auditor).nodePort},
	{"PL1-BC-HI-3", "block host networking and ports", podChecks(
		podCase{func(p *corev1.Pod) { p.Spec.HostNetwork = true }, "hostNetwork=true"},
		podCase{func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080}}
		}, "hostPort"})},
	{"PL1-BC-HI-4", "block host PID", podCheck(func(p *corev1.Pod) { p.Spec.HostPID = true }, "hostPID=true")},
	{"PL1-BC-HI-5", "block host IPC", podCheck(func(p *corev1.Pod) { p.Spec.HostIPC = true }, "hostIPC=true")},
	{"PL1-CC-DI-1", "require Always imagePullPolicy", (*Auditor).pullAlways},
	{"PL2-BC-OPS-3", "create Roles and RoleBindings", allowedCheck("rbac.authorization.k8s.io", "roles", "rolebindings")},
	{"PL2-BC-OPS-4", "create NetworkPolicies", allowedCheck("networking.k8s.io", "networkpolicies")},
	{"PL2-CC-TI-1", "block role privilege escalation", (*Auditor).escalation},
}

// CheckIDs are the IDs of every check, in order.
func CheckIDs() []string {
	out := make([]string, 0, len(checks))
	for _, c := range checks {
		out = append(out, c.id)
	}
	return out
}

// Run runs every check and returns one result each, in order.
func (a *Auditor) Run(ctx context.Context) []Result {
	out := make([]Result, 0, len(checks))
	for _, c := range checks {
		r := Result{ID: c.id, Title: c.title}
		if why := Applies(c.id, a.Target); why != "" {
			r.Status, r.Evidence = NotApplicable, why
		} else {
			r.Status, r.Evidence = c.run(a, ctx)
		}
		out = append(out, r)
	}
	return out
}

// Failed reports whether any result is FAIL or ERROR.
func Failed(results []Result) bool {
	return slices.ContainsFunc(results, func(r Result) bool { return r.Status == Fail || r.Status == Error })
}

// Applies says why check id does not apply to t ("" when it does): the
// tenant's profile does not promise it, or the identity's role cannot
// even try it.
func Applies(id string, t Target) string {
	pods := map[string]bool{"PL1-BC-CPI-3": true, "PL1-BC-CPI-4": true, "PL1-BC-CPI-5": true, "PL1-BC-CPI-6": true,
		"PL1-BC-HI-1": true, "PL1-BC-HI-3": true, "PL1-BC-HI-4": true, "PL1-BC-HI-5": true, "PL1-CC-DI-1": true}
	switch {
	case t.Role == RoleViewer && (pods[id] || id == "PL1-BC-HI-2"):
		return "viewers create no pods or Services: RBAC refuses them before any isolation rule is reached"
	case t.Role != RoleOwner && (id == "PL2-BC-OPS-3" || id == "PL2-BC-OPS-4"):
		return fmt.Sprintf("only owners manage a tenant's Roles and NetworkPolicies; this identity is a %s", t.Role)
	case (id == "PL1-BC-CPI-4" || id == "PL1-BC-CPI-6") && t.Spec.Pods.SecurityLevel != tenancyv1alpha1.SecurityRestricted:
		return fmt.Sprintf("the tenant runs Pod Security %s (pods.securityLevel; the Soft default), which allows it; restricted forbids it", t.Spec.Pods.SecurityLevel)
	case (id == "PL1-CC-FNS-1" || id == "PL1-CC-FNS-2") && (t.Spec.Quota.Namespace == nil || len(t.Spec.Quota.Namespace.Hard) == 0):
		return "the tenant sets no quota.namespace (the Soft default); a Hard tenant gets one"
	case id == "PL1-CC-DI-1" && (t.Spec.Pods.Images == nil || t.Spec.Pods.Images.PullPolicy != corev1.PullAlways):
		return "pods.images.pullPolicy is not Always (the Soft default): the tenant trusts others not to use its images from a node's cache"
	case id == "PL1-CC-TI-2" && t.Other == "":
		return "there is no other tenant's namespace to try to reach"
	}
	return ""
}

// clusterResources reviews every verb on every cluster-scoped kind, and the
// verbs that grant power over the cluster; only the documented exceptions
// may be allowed.
func (a *Auditor) clusterResources(ctx context.Context) (Status, string) {
	resources, err := Discover(a.Discovery, false)
	if err != nil {
		return Error, err.Error()
	}
	var list []Access
	for _, r := range resources {
		if r.Subresource != "" {
			continue
		}
		for _, v := range r.Verbs {
			list = append(list, Access{Verb: v, Group: r.Group, Resource: r.Resource})
		}
	}
	list = append(list, SpecialClusterVerbs...)
	allowed, err := Review(ctx, a.As, list)
	if err != nil {
		return Error, err.Error()
	}
	exceptions := ClusterExceptions(a.Target.Role)
	var unexpected, expected []string
	for _, acc := range allowed {
		if why, ok := exceptions[acc.Key()]; ok {
			expected = append(expected, acc.Key()+" ("+why+")")
		} else {
			unexpected = append(unexpected, acc.String())
		}
	}
	if len(unexpected) > 0 {
		return Fail, fmt.Sprintf("%d of %d cluster-scoped accesses allowed: %s", len(unexpected), len(list), summarise(unexpected))
	}
	return Pass, fmt.Sprintf("%d cluster-scoped accesses reviewed; allowed only: %s", len(list), strings.Join(expected, "; "))
}

// managedObjects dry-runs deleting each object Bulkhead placed in the
// namespace: each must be refused, by RBAC or by the managed-objects rule.
func (a *Auditor) managedObjects(ctx context.Context) (Status, string) {
	ns := a.Target.Namespace
	managed := client.MatchingLabels{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}
	var objs []client.Object
	for _, list := range []client.ObjectList{&rbacv1.RoleBindingList{}, &networkingv1.NetworkPolicyList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{}, &tenancyv1alpha1.TenantPolicyList{}} {
		if err := a.Reader.List(ctx, list, client.InNamespace(ns), managed); err != nil {
			return Error, fmt.Sprintf("listing Bulkhead's objects in %s: %v", ns, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return Error, err.Error()
		}
		for _, item := range items {
			objs = append(objs, item.(client.Object))
		}
	}
	if len(objs) == 0 {
		return Error, "found none of Bulkhead's objects in " + ns + " to try"
	}
	var deleted, other []string
	for _, obj := range objs {
		what := fmt.Sprintf("%T %s", obj, obj.GetName())
		err := a.As.Delete(ctx, obj, client.DryRunAll)
		switch {
		case err == nil:
			deleted = append(deleted, what)
		case apierrors.IsForbidden(err) && (strings.Contains(err.Error(), "cannot delete resource") || strings.Contains(err.Error(), "[rule managed-objects]")):
		default:
			other = append(other, what+": "+err.Error())
		}
	}
	switch {
	case len(deleted) > 0:
		return Fail, fmt.Sprintf("%d of %d of Bulkhead's objects in %s may be deleted: %s", len(deleted), len(objs), ns, summarise(deleted))
	case len(other) > 0:
		return Error, "refused, but not by RBAC or the managed-objects rule: " + summarise(other)
	}
	return Pass, fmt.Sprintf("all %d of Bulkhead's objects in %s refused to delete (RBAC or [rule managed-objects])", len(objs), ns)
}

// podCase is a pod with one violation and a word the refusal must name.
type podCase struct {
	edit  func(*corev1.Pod)
	token string
}

func podCheck(edit func(*corev1.Pod), token string) func(*Auditor, context.Context) (Status, string) {
	return podChecks(podCase{edit, token})
}

// podChecks dry-runs each pod case; every one must be refused for its
// reason.
func podChecks(cases ...podCase) func(*Auditor, context.Context) (Status, string) {
	return func(a *Auditor, ctx context.Context) (Status, string) {
		var evidence []string
		for _, c := range cases {
			pod := a.pod(c.edit)
			status, why := judgeRefusal(a.As.Create(ctx, pod, client.DryRunAll), c.token)
			if status != Pass {
				return status, why
			}
			evidence = append(evidence, why)
		}
		return Pass, strings.Join(evidence, "; ")
	}
}

// nonRoot dry-runs a pod asking for root: Pod Security must refuse it, or,
// since Kubernetes 1.35, the pod must be admitted only into a user
// namespace, where root is an unprivileged user of the node.
func (a *Auditor) nonRoot(ctx context.Context) (Status, string) {
	var evidence []string
	for _, c := range []podCase{
		{func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsNonRoot = ptr.To(false) }, "runAsNonRoot"},
		{func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.RunAsUser = ptr.To[int64](0) }, "runAsUser=0"},
	} {
		pod := a.pod(c.edit)
		err := a.As.Create(ctx, pod, client.DryRunAll)
		if err == nil && !ptr.Deref(pod.Spec.HostUsers, true) {
			evidence = append(evidence, c.token+": admitted only into a user namespace (hostUsers=false)")
			continue
		}
		status, why := judgeRefusal(err, c.token)
		if status != Pass {
			return status, why
		}
		evidence = append(evidence, why)
	}
	return Pass, strings.Join(evidence, "; ")
}

// pullAlways dry-runs a pod with imagePullPolicy Never: refused, or stored
// as Always.
func (a *Auditor) pullAlways(ctx context.Context) (Status, string) {
	pod := a.pod(func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = corev1.PullNever })
	err := a.As.Create(ctx, pod, client.DryRunAll)
	if err == nil {
		if got := pod.Spec.Containers[0].ImagePullPolicy; got != corev1.PullAlways {
			return Fail, "a pod with imagePullPolicy Never is admitted as " + string(got)
		}
		return Pass, "imagePullPolicy Never is stored as Always"
	}
	return judgeRefusal(err, "imagePullPolicy")
}

// nodePort dry-runs a NodePort Service.
func (a *Auditor) nodePort(ctx context.Context) (Status, string) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: a.Target.Namespace, Name: "bulkhead-audit"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}}
	return judgeRefusal(a.As.Create(ctx, svc, client.DryRunAll), "NodePort")
}

// quotaWrites reviews every write of ResourceQuotas in the namespace.
func (a *Auditor) quotaWrites(ctx context.Context) (Status, string) {
	var list []Access
	for _, v := range []string{"create", "update", "patch", "delete", "deletecollection"} {
		list = append(list, Access{Verb: v, Resource: "resourcequotas", Namespace: a.Target.Namespace})
	}
	return noneAllowed(ctx, a, list)
}

// otherTenant reviews every verb on every namespaced kind and subresource,
// and the special verbs, in another tenant's namespace.
func (a *Auditor) otherTenant(ctx context.Context) (Status, string) {
	resources, err := Discover(a.Discovery, true)
	if err != nil {
		return Error, err.Error()
	}
	var list []Access
	for _, r := range resources {
		for _, v := range r.Verbs {
			list = append(list, Access{Verb: v, Group: r.Group, Resource: r.Resource, Subresource: r.Subresource, Namespace: a.Target.Other})
		}
	}
	for _, s := range SpecialNamespacedVerbs {
		s.Namespace = a.Target.Other
		list = append(list, s)
	}
	return noneAllowed(ctx, a, list)
}

// escalation reviews escalating roles and binding cluster-admin.
func (a *Auditor) escalation(ctx context.Context) (Status, string) {
	const rbacGroup = "rbac.authorization.k8s.io"
	ns := a.Target.Namespace
	return noneAllowed(ctx, a, []Access{
		{Verb: "escalate", Group: rbacGroup, Resource: "roles", Namespace: ns},
		{Verb: "escalate", Group: rbacGroup, Resource: "clusterroles"},
		{Verb: "escalate", Group: rbacGroup, Resource: "clusterroles", Namespace: ns},
		{Verb: "bind", Group: rbacGroup, Resource: "clusterroles", Name: "cluster-admin"},
		{Verb: "bind", Group: rbacGroup, Resource: "clusterroles", Name: "cluster-admin", Namespace: ns},
	})
}

func noneAllowed(ctx context.Context, a *Auditor, list []Access) (Status, string) {
	allowed, err := Review(ctx, a.As, list)
	if err != nil {
		return Error, err.Error()
	}
	if len(allowed) > 0 {
		var lines []string
		for _, acc := range allowed {
			lines = append(lines, acc.String())
		}
		return Fail, fmt.Sprintf("%d of %d accesses allowed: %s", len(allowed), len(list), summarise(lines))
	}
	return Pass, fmt.Sprintf("%d accesses reviewed, none allowed", len(list))
}

// quotaCheck reads the namespace's ResourceQuotas: each resource must be
// limited (under its name, or requests./limits./count/ of it).
func quotaCheck(resources ...string) func(*Auditor, context.Context) (Status, string) {
	return func(a *Auditor, ctx context.Context) (Status, string) {
		list := &corev1.ResourceQuotaList{}
		if err := a.Reader.List(ctx, list, client.InNamespace(a.Target.Namespace)); err != nil {
			return Error, err.Error()
		}
		hard := map[string]bool{}
		for _, q := range list.Items {
			for r := range q.Spec.Hard {
				hard[string(r)] = true
			}
		}
		var missing []string
		for _, r := range resources {
			if !hard[r] && !hard["requests."+r] && !hard["limits."+r] && !hard["count/"+r] {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			return Fail, fmt.Sprintf("no ResourceQuota in %s limits %s", a.Target.Namespace, strings.Join(missing, ", "))
		}
		return Pass, fmt.Sprintf("%s limited in %s", strings.Join(resources, ", "), a.Target.Namespace)
	}
}

// allowedCheck reviews every verb on resources of group in the namespace:
// all must be allowed; and, for the first resource, dry-runs creating one.
func allowedCheck(group string, resources ...string) func(*Auditor, context.Context) (Status, string) {
	return func(a *Auditor, ctx context.Context) (Status, string) {
		var list []Access
		for _, r := range resources {
			for _, v := range AllVerbs {
				list = append(list, Access{Verb: v, Group: group, Resource: r, Namespace: a.Target.Namespace})
			}
		}
		allowed, err := Review(ctx, a.As, list)
		if err != nil {
			return Error, err.Error()
		}
		if len(allowed) < len(list) {
			got := map[Access]bool{}
			for _, acc := range allowed {
				got[acc] = true
			}
			var denied []string
			for _, acc := range list {
				if !got[acc] {
					denied = append(denied, acc.String())
				}
			}
			return Fail, fmt.Sprintf("%d of %d accesses denied: %s", len(denied), len(list), summarise(denied))
		}
		return Pass, fmt.Sprintf("all %d accesses on %s allowed", len(list), strings.Join(resources, ", "))
	}
}

// judgeRefusal judges the answer to a dry run that must be refused for a
// reason naming token: by Pod Security or by a Bulkhead rule (whose
// messages name "[rule ..."). Admitted is FAIL; refused for another
// reason (a quota, a missing service account) is ERROR, not PASS.
func judgeRefusal(err error, token string) (Status, string) {
	if err == nil {
		return Fail, "admitted (dry run): nothing refuses " + token
	}
	msg := err.Error()
	if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
		podSecurity := strings.Contains(msg, "violates PodSecurity") && strings.Contains(msg, token)
		if podSecurity || strings.Contains(msg, "[rule ") {
			return Pass, token + " refused by " + reason(msg)
		}
	}
	return Error, "refused, but not for " + token + ": " + firstLine(msg)
}

// pod is a pod of the audited namespace that every profile admits, changed
// by edit, with an image the tenant's registries allow.
func (a *Auditor) pod(edit func(*corev1.Pod)) *corev1.Pod {
	image := "registry.example.com/bulkhead-audit:1"
	if imgs := a.Target.Spec.Pods.Images; imgs != nil && len(imgs.Registries) > 0 {
		image = strings.TrimSuffix(imgs.Registries[0], "/") + "/bulkhead-audit:1"
	}
	return CompliantPod(a.Target.Namespace, "bulkhead-audit", image, edit)
}

// CompliantPod is a pod that Pod Security restricted admits, changed by
// each edit in turn.
func CompliantPod(namespace, name, image string, edit ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:  "app",
				Image: image,
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
	for _, e := range edit {
		e(p)
	}
	return p
}

// summarise lists at most five items, sorted, and says how many more.
func summarise(items []string) string {
	sorted := slices.Clone(items)
	sort.Strings(sorted)
	if len(sorted) <= 5 {
		return strings.Join(sorted, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(sorted[:5], "; "), len(sorted)-5)
}

// reason is the part of a refusal that says who refused and why: Pod
// Security's level and check, or Bulkhead's rule and message.
func reason(msg string) string {
	if _, after, ok := strings.Cut(msg, "violates "); ok && strings.HasPrefix(after, "PodSecurity") {
		return firstLine(after)
	}
	// Bulkhead's refusals read "tenant T: what is wrong [rule R]. The fix".
	if strings.Contains(msg, "[rule ") {
		if i := strings.Index(msg, "tenant "); i >= 0 {
			return firstLine(msg[i:])
		}
	}
	return firstLine(msg)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
