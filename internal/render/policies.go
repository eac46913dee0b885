package render

import (
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The admission policies Bulkhead compiles, one per rule family. Each has one
// binding of the same name, whatever the number of tenants: the binding
// selects every tenant namespace and takes its parameters from the
// namespace's TenantPolicy, and a tenant namespace without one is closed.
const (
	PodsPolicy            = "bulkhead-pods"
	ServiceAccountsPolicy = "bulkhead-serviceaccounts"
	ServicesPolicy        = "bulkhead-services"
	IngressesPolicy       = "bulkhead-ingresses"
	StoragePolicy         = "bulkhead-storage"
	RBACPolicy            = "bulkhead-rbac"
	ManagedPolicy         = "bulkhead-managed"
	NetworkPoliciesPolicy = "bulkhead-networkpolicies"
)

// Policies compiles the admission rules of every tenant into shared
// ValidatingAdmissionPolicies and MutatingAdmissionPolicies with their
// bindings. They depend on the settings only; what differs between tenants
// is in each namespace's TenantPolicy (see TenantPolicies).
func Policies(s Settings) []client.Object {
	return append(ValidatingPolicies(s), MutatingPolicies(s)...)
}

// ValidatingPolicies are the validating half of Policies: they hold the line
// even where the mutating half is unavailable.
func ValidatingPolicies(s Settings) []client.Object {
	var out []client.Object
	for _, p := range []*admissionv1.ValidatingAdmissionPolicy{podsValidation(s), servicesValidation(), ingressesValidation(s), storageValidation(), rbacValidation(s), networkPoliciesValidation(s)} {
		out = append(out, p, &admissionv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: policyMeta(p.Name),
			Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        p.Name,
				ParamRef:          tenantParamRef(),
				MatchResources:    tenantNamespaces(),
				ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			},
		})
	}
	out = append(out, RetainedPolicies(s)...)
	out = append(out, TokensPolicies(s)...)
	managed := managedValidation(s)
	return append(out, managed, &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: policyMeta(managed.Name),
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        managed.Name,
			MatchResources:    tenantNamespaces(),
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		},
	})
}

// managedValidation keeps tenants off the objects Bulkhead renders into
// their namespaces: the owner role may edit RoleBindings and
// NetworkPolicies in general, but not the ones that isolate the tenant. It
// also refuses objects of any kind that a tenant creates, or labels, as
// Bulkhead's: they would be read as Bulkhead's own and keep its controllers
// busy. The controllers, the garbage collector, the namespace controller and
// cluster admins pass.
func managedValidation(s Settings) *admissionv1.ValidatingAdmissionPolicy {
	exempt := []string{
		s.NotBulkheadCEL(),
		"!request.userInfo.username.startsWith('system:serviceaccount:kube-system:')",
		"request.userInfo.username != 'system:kube-controller-manager'",
	}
	exempt = append(exempt, s.NotAdminCEL()...)
	ops := []admissionv1.OperationType{admissionv1.Create, admissionv1.Update, admissionv1.Delete}
	all := rules(ops, "*", "*")
	all.Scope = ptr.To(admissionv1.NamespacedScope)
	// The message must not fail to evaluate (it would read "failed
	// expression"): every value is guarded, and a static message backs it.
	tenant := namespaceTenantCEL
	// A deletecollection's requests carry no name; the object each deletes
	// has one.
	name := "(has(request.name) && request.name != '' ? request.name : (oldObject != null ? oldObject.metadata.name : '(unnamed)'))"
	const fix = "Change the Tenant instead (a cluster admin can); Bulkhead would restore the object anyway"
	const label = tenancyv1alpha1.ManagedByLabel + "=" + tenancyv1alpha1.ManagedByValue
	oldIsManaged := "(oldObject != null && has(oldObject.metadata.labels) && '" + tenancyv1alpha1.ManagedByLabel + "' in oldObject.metadata.labels && " +
		"oldObject.metadata.labels['" + tenancyv1alpha1.ManagedByLabel + "'] == '" + tenancyv1alpha1.ManagedByValue + "')"
	return &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: policyMeta(ManagedPolicy),
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{
				ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
				ResourceRules:  []admissionv1.NamedRuleWithOperations{all},
			},
			MatchConditions: []admissionv1.MatchCondition{{Name: "not-a-controller-or-admin", Expression: strings.Join(exempt, " && ")}},
			Validations: []admissionv1.Validation{{
				// Creating, or labelling, an object as Bulkhead's.
				Expression: "request.operation == 'DELETE' || " + oldIsManaged,
				MessageExpression: "'tenant ' + " + tenant + " + ': ' + request.kind.kind + ' ' + " + name + " + ' carries the label " + label +
					", which only Bulkhead sets [rule managed-objects]. Remove the label'",
				Message: "an object labelled " + label + " is Bulkhead's [rule managed-objects]. Remove the label",
				Reason:  ptr.To(metav1.StatusReasonForbidden),
			}, {
				// Changing or deleting one of Bulkhead's objects.
				Expression: "request.operation == 'CREATE' || !" + oldIsManaged,
				MessageExpression: "'tenant ' + " + tenant + " + ': ' + request.kind.kind + ' ' + " + name +
					" + ' is managed by Bulkhead [rule managed-objects]. " + fix + "'",
				Message: "this object is managed by Bulkhead [rule managed-objects]. " + fix,
				Reason:  ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
}

// namespaceTenantCEL is, for policies without parameters, the tenant of the
// request's namespace, read from its label (the namespace's name where it
// has none), so that their denials name the tenant like every other.
const namespaceTenantCEL = "(has(namespaceObject.metadata.labels) && '" + tenancyv1alpha1.TenantLabel + "' in namespaceObject.metadata.labels ? " +
	"namespaceObject.metadata.labels['" + tenancyv1alpha1.TenantLabel + "'] : namespaceObject.metadata.name)"

// notBulkheadOrAdmin is one CEL condition: neither Bulkhead nor an admin.
func notBulkheadOrAdmin(s Settings) string {
	return strings.Join(append([]string{s.NotBulkheadCEL()}, s.NotAdminCEL()...), " && ")
}

// MutatingPolicies are the defaults Bulkhead fills into tenant objects.
func MutatingPolicies(Settings) []client.Object {
	var out []client.Object
	for _, p := range []*admissionv1.MutatingAdmissionPolicy{podsMutation(), serviceAccountsMutation()} {
		out = append(out, p, &admissionv1.MutatingAdmissionPolicyBinding{
			ObjectMeta: policyMeta(p.Name),
			Spec: admissionv1.MutatingAdmissionPolicyBindingSpec{
				PolicyName:     p.Name,
				ParamRef:       tenantParamRef(),
				MatchResources: tenantNamespaces(),
			},
		})
	}
	return out
}

func policyMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}}
}

func tenantParamKind() *admissionv1.ParamKind {
	return &admissionv1.ParamKind{APIVersion: tenancyv1alpha1.GroupVersion.String(), Kind: "TenantPolicy"}
}

// tenantParamRef looks the TenantPolicy up in the request's own namespace,
// and denies when it is missing: a tenant namespace is closed until Bulkhead
// has written its parameters.
func tenantParamRef() *admissionv1.ParamRef {
	return &admissionv1.ParamRef{
		Name:                    tenancyv1alpha1.TenantPolicyName,
		ParameterNotFoundAction: ptr.To(admissionv1.DenyAction),
	}
}

func tenantNamespaces() *admissionv1.MatchResources {
	return &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: tenancyv1alpha1.TenantLabel, Operator: metav1.LabelSelectorOpExists}},
	}}
}

func rules(ops []admissionv1.OperationType, group string, resources ...string) admissionv1.NamedRuleWithOperations {
	return admissionv1.NamedRuleWithOperations{RuleWithOperations: admissionv1.RuleWithOperations{
		Operations: ops,
		Rule:       admissionv1.Rule{APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: resources},
	}}
}

var (
	createUpdate = []admissionv1.OperationType{admissionv1.Create, admissionv1.Update}
	createOnly   = []admissionv1.OperationType{admissionv1.Create}
)

// specChanged skips updates that leave the spec alone (labels, finalizers,
// annotations written by controllers), so that tightening a tenant's rules
// never wedges the controllers that manage existing objects.
var specChanged = admissionv1.MatchCondition{
	Name:       "spec-changed",
	Expression: "request.operation == 'CREATE' || object.spec != oldObject.spec",
}

// rule is one validation: expr must hold; else the message names the tenant,
// the rule (a Tenant field) and the fix.
type rule struct {
	name    string
	expr    string
	problem string // a CEL string expression saying what is wrong
	fix     string
}

func (r rule) validation() admissionv1.Validation {
	return admissionv1.Validation{
		Expression: r.expr,
		MessageExpression: "'tenant ' + params.spec.tenant + ': ' + " + r.problem +
			" + ' [rule " + r.name + "]. " + strings.ReplaceAll(r.fix, "'", "\\'") + "'",
		Reason: ptr.To(metav1.StatusReasonForbidden),
	}
}

// validatingPolicy is a policy of the given rules over match, reading the
// namespace's TenantPolicy, failing closed.
func validatingPolicy(name string, match []admissionv1.NamedRuleWithOperations, conds []admissionv1.MatchCondition, variables []admissionv1.Variable, rs ...rule) *admissionv1.ValidatingAdmissionPolicy {
	return &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: policyMeta(name),
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			ParamKind:        tenantParamKind(),
			FailurePolicy:    ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: match},
			MatchConditions:  conds,
			Variables:        variables,
			Validations:      validations(rs...),
		},
	}
}

func validations(rs ...rule) []admissionv1.Validation {
	out := make([]admissionv1.Validation, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.validation())
	}
	return out
}

func vars(kv ...string) []admissionv1.Variable {
	out := make([]admissionv1.Variable, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, admissionv1.Variable{Name: kv[i], Expression: kv[i+1]})
	}
	return out
}

// tolerationCEL is CanonicalToleration in CEL, for the toleration named t.
const tolerationCEL = `(has(t.key) ? t.key : '') + '|' + (has(t.operator) && t.operator != '' ? t.operator : 'Equal') + '|' + ` +
	`(has(t.value) ? t.value : '') + '|' + (has(t.effect) ? t.effect : '') + '|' + (has(t.tolerationSeconds) ? string(t.tolerationSeconds) : '')`

// AllowedVolumeSources are the pod volume sources tenants may use: each
// stays inside the tenant's namespace (its objects, its claims, its
// images), or is judged by Pod Security (hostPath). Inline CSI volumes are
// allowed only for the drivers the settings list. Every other source is
// refused by the rule pods.volumes.
var AllowedVolumeSources = []string{
	"configMap", "secret", "downwardAPI", "projected", "emptyDir", "ephemeral",
	"persistentVolumeClaim", "image", "hostPath",
}

// celStrings is a CEL list literal of the given strings.
func celStrings(list []string) string {
	quoted := prefixEach("'", "'", list)
	return "[" + strings.Join(quoted, ", ") + "]"
}

func inlineCSIHint(s Settings) string {
	if len(s.InlineCSIDrivers) == 0 {
		return ""
	}
	return ", or csi with driver " + strings.Join(s.InlineCSIDrivers, " or ")
}

func prefixEach(pre, post string, list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, pre+s+post)
	}
	return out
}

// affinityTermsCEL lists the required and preferred terms of a podAffinity
// or podAntiAffinity field.
func affinityTermsCEL(field string) string {
	return "(!has(" + field + ") ? [] : " +
		"(has(" + field + ".requiredDuringSchedulingIgnoredDuringExecution) ? " + field + ".requiredDuringSchedulingIgnoredDuringExecution : [])" +
		" + (has(" + field + ".preferredDuringSchedulingIgnoredDuringExecution) ? " +
		field + ".preferredDuringSchedulingIgnoredDuringExecution.map(w, w.podAffinityTerm) : []))"
}

// pinnedToCEL is true when the namespace selector sel can match only
// namespaces whose tenant label is one of the CEL list allowed: it requires
// the label by matchLabels or by an In expression whose values are all
// allowed. Only Bulkhead and admins set that label, so no forged label can
// widen such a selector.
func pinnedToCEL(sel, allowed string) string {
	tl := "'" + tenancyv1alpha1.TenantLabel + "'"
	return "((has(" + sel + ".matchLabels) && " + tl + " in " + sel + ".matchLabels && " + sel + ".matchLabels[" + tl + "] in " + allowed + ") || " +
		"(has(" + sel + ".matchExpressions) && " + sel + ".matchExpressions.exists(e, e.key == " + tl + " && e.operator == 'In' && " +
		"has(e.values) && size(e.values) > 0 && e.values.all(v, v in " + allowed + "))))"
}

// clusterOverlapCEL is true when the ipBlock of peer p may match an
// address in the cluster's ranges: it overlaps one of them and its except
// does not cover it. With no ranges known, every ipBlock may.
func clusterOverlapCEL(clusterCIDRs []string) string {
	if len(clusterCIDRs) == 0 {
		return "true"
	}
	return celStrings(clusterCIDRs) + ".exists(c, cidr(c).containsCIDR(p.ipBlock.cidr) || " +
		"(cidr(p.ipBlock.cidr).containsCIDR(c) && !(has(p.ipBlock.except) && p.ipBlock.except.exists(e, cidr(e).containsCIDR(c)))))"
}

func clusterCIDRsText(clusterCIDRs []string) string {
	if len(clusterCIDRs) == 0 {
		return "the cluster\\'s own ranges are not configured, so no ipBlock source can be told apart from them"
	}
	return "it must leave out the cluster\\'s ranges " + strings.Join(clusterCIDRs, ", ")
}

// outsideTenantsCEL is true when the namespace selector sel requires the
// tenant label to be absent: it matches no tenant's namespace.
func outsideTenantsCEL(sel string) string {
	return "(has(" + sel + ".matchExpressions) && " + sel + ".matchExpressions.exists(e, e.key == '" +
		tenancyv1alpha1.TenantLabel + "' && e.operator == 'DoesNotExist'))"
}

// podSpecVars locate the pod spec in a Pod or in a workload's template, so
// that one set of rules covers both: a user learns of a bad template when
// applying the Deployment, not from a ReplicaSet's events. Rules that a
// mutation satisfies on pods (a default runtime class, say) are required of
// pods only; templates merely may not contradict them.
func podSpecVars(s Settings) []admissionv1.Variable {
	return vars(
		"isPod", "request.resource.resource == 'pods'",
		"spec", "request.resource.resource == 'pods' ? object.spec : "+
			"(request.resource.resource == 'cronjobs' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)",
		"containers", "variables.spec.containers"+
			" + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])"+
			" + (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])",
		"conditionTaints", "['"+strings.Join(NodeConditionTaints, "', '")+"']",
		"badTolerations", "!has(variables.spec.tolerations) ? [] : variables.spec.tolerations"+
			".filter(t, !(has(t.key) && t.key in variables.conditionTaints))"+
			".map(t, "+tolerationCEL+")"+
			".filter(c, !(c in params.spec.pods.allowedTolerations))",
		// The first bad toleration, split into key, operator, value,
		// effect and seconds, for a readable message.
		"badToleration", "size(variables.badTolerations) == 0 ? [] : variables.badTolerations[0].split('|')",
		"badSelector", "params.spec.pods.nodeSelector.filter(k, has(variables.spec.nodeSelector) && k in variables.spec.nodeSelector ? "+
			"variables.spec.nodeSelector[k] != params.spec.pods.nodeSelector[k] : variables.isPod)",
		// Every image the pod pulls: containers of all three kinds, and
		// image volumes, which the kubelet pulls like a container's image.
		"imageVolumes", "has(variables.spec.volumes) ? variables.spec.volumes.filter(v, has(v.image)) : []",
		"images", "variables.containers.map(c, has(c.image) ? c.image : '')"+
			" + variables.imageVolumes.map(v, has(v.image.reference) ? v.image.reference : '')",
		"badImages", "size(params.spec.pods.registries) == 0 ? [] : variables.images"+
			".filter(i, !params.spec.pods.registries.exists(r, r.endsWith('/') ? i.startsWith(r) : "+
			"(i == r || i.startsWith(r + '/') || i.startsWith(r + ':') || i.startsWith(r + '@'))))",
		"badPullPolicy", "params.spec.pods.pullPolicy == '' || !variables.isPod ? [] : variables.containers"+
			".filter(c, !has(c.imagePullPolicy) || c.imagePullPolicy != params.spec.pods.pullPolicy).map(c, 'container ' + c.name)"+
			" + variables.imageVolumes.filter(v, !has(v.image.pullPolicy) || v.image.pullPolicy != params.spec.pods.pullPolicy).map(v, 'image volume ' + v.name)",
		// Pod affinity and anti-affinity terms, required and preferred. A
		// term selects its pod's namespace, the namespaces it lists, and
		// those its namespaceSelector matches ({} matches all).
		"affinityTerms", "!has(variables.spec.affinity) ? [] : "+
			affinityTermsCEL("variables.spec.affinity.podAffinity")+" + "+affinityTermsCEL("variables.spec.affinity.podAntiAffinity"),
		"badAffinity", "params.spec.pods.podAffinityScope == 'Cluster' ? [] : variables.affinityTerms.filter(t, !("+
			"(!has(t.namespaces) || t.namespaces.all(n, n == request.namespace || n in params.spec.rbac.namespaces)) && "+
			"(!has(t.namespaceSelector) || "+pinnedToCEL("t.namespaceSelector", "[params.spec.tenant]")+")))",
		// Volume sources the kubelet mounts from the node (nfs, iscsi,
		// gitRepo and the like) reach outside the tenant from the node's
		// network and identity, past NetworkPolicies: only sources that stay
		// inside the namespace are allowed. hostPath is Pod Security's.
		"badVolumes", "!has(variables.spec.volumes) ? [] : variables.spec.volumes.filter(v, !("+
			strings.Join(prefixEach("has(v.", ")", AllowedVolumeSources), " || ")+
			" || (has(v.csi) && v.csi.driver in "+celStrings(s.InlineCSIDrivers)+"))).map(v, v.name)",
	)
}

func podsValidation(s Settings) *admissionv1.ValidatingAdmissionPolicy {
	return validatingPolicy(PodsPolicy,
		[]admissionv1.NamedRuleWithOperations{
			rules(createUpdate, "", "pods", "pods/ephemeralcontainers", "replicationcontrollers"),
			rules(createUpdate, "apps", "deployments", "replicasets", "statefulsets", "daemonsets"),
			rules(createUpdate, "batch", "jobs", "cronjobs"),
		},
		[]admissionv1.MatchCondition{specChanged},
		podSpecVars(s),
		rule{
			// Pods wait for the namespace's NetworkPolicies: no pod ever runs
			// before the network baseline is in place.
			name:    "namespaces.protected",
			expr:    "params.spec.protected || !variables.isPod || request.operation != 'CREATE'",
			problem: "'namespace ' + request.namespace + ' is not protected yet: its NetworkPolicies are still being written'",
			fix:     "Retry in a moment; if it persists, a cluster admin can read the Tenant's NetworkReady and AdmissionReady conditions",
		},
		rule{
			name:    "nodes.nodeName",
			expr:    "!has(variables.spec.nodeName) || variables.spec.nodeName == '' || (variables.isPod && request.operation == 'UPDATE')",
			problem: "'spec.nodeName is set to ' + variables.spec.nodeName + ', which would skip the scheduler and the taints of node pools'",
			fix:     "Remove nodeName and let the scheduler place the pod; a nodeSelector may narrow it within the tenant's nodes",
		},
		rule{
			// Another scheduler may ignore the taints that keep a pool to
			// its tenant; only the schedulers the platform vouches for.
			name: "nodes.schedulerName",
			expr: "!has(variables.spec.schedulerName) || variables.spec.schedulerName == '' || " +
				"variables.spec.schedulerName in " + celStrings(s.Schedulers),
			problem: "'schedulerName ' + variables.spec.schedulerName + ' is not a scheduler the platform allows (' + " + celStrings(s.Schedulers) + ".join(', ') + ')'",
			fix:     "Remove schedulerName to use the cluster's scheduler",
		},
		rule{
			name:    "nodes.selector",
			expr:    "size(variables.badSelector) == 0",
			problem: "'nodeSelector ' + variables.badSelector[0] + ' must be ' + params.spec.pods.nodeSelector[variables.badSelector[0]]",
			fix:     "Drop the key or give it the tenant's value: pods of the tenant run only on its node pool",
		},
		rule{
			name: "nodes.tolerations",
			expr: "size(variables.badTolerations) == 0",
			problem: "'toleration ' + (variables.badToleration[0] == '' ? '(any key)' : variables.badToleration[0]) + " +
				"(variables.badToleration[1] == 'Exists' ? ' Exists' : '=' + variables.badToleration[2]) + " +
				"(variables.badToleration[3] == '' ? ' (any effect)' : ':' + variables.badToleration[3]) + ' is not one of the tenant\\'s'",
			fix: "Remove it: pods get exactly the tolerations in the Tenant's spec.nodes.tolerations, added for them",
		},
		rule{
			name: "pods.runtimeClass",
			expr: "size(params.spec.pods.runtimeClasses) == 0 || (has(variables.spec.runtimeClassName) ? " +
				"variables.spec.runtimeClassName in params.spec.pods.runtimeClasses : !variables.isPod)",
			problem: "'runtimeClassName ' + (has(variables.spec.runtimeClassName) ? variables.spec.runtimeClassName : '(none)') + ' is not allowed; allowed: ' + params.spec.pods.runtimeClasses.join(', ')",
			fix:     "Leave runtimeClassName unset to get the tenant's default, or name an allowed class",
		},
		rule{
			name: "pods.userNamespaces",
			expr: "!params.spec.pods.requireUserNamespace || (has(variables.spec.hostUsers) ? " +
				"variables.spec.hostUsers == false : !variables.isPod)",
			problem: "'hostUsers must be false: the tenant\\'s pods run in a user namespace'",
			fix:     "Remove hostUsers or set it to false",
		},
		rule{
			name: "pods.serviceLinks",
			expr: "!params.spec.pods.enforceServiceLinks || !variables.isPod || !has(variables.spec.enableServiceLinks) || " +
				"variables.spec.enableServiceLinks == params.spec.pods.enableServiceLinks",
			problem: "'enableServiceLinks must be ' + (params.spec.pods.enableServiceLinks ? 'true' : 'false')",
			fix:     "Remove enableServiceLinks; find services through DNS",
		},
		rule{
			name:    "pods.images.registries",
			expr:    "size(variables.badImages) == 0",
			problem: "'image ' + variables.badImages[0] + ' is not from an allowed registry (' + params.spec.pods.registries.join(', ') + ')'",
			fix:     "Use an image whose full name starts with an allowed prefix, registry host included",
		},
		rule{
			name:    "pods.images.pullPolicy",
			expr:    "size(variables.badPullPolicy) == 0",
			problem: "variables.badPullPolicy[0] + ' must have pull policy ' + params.spec.pods.pullPolicy",
			fix:     "Set imagePullPolicy (image.pullPolicy for an image volume) to the tenant's policy; it is set for you on new pods",
		},
		rule{
			name:    "pods.affinity",
			expr:    "size(variables.badAffinity) == 0",
			problem: "'a pod affinity or anti-affinity term may select namespaces outside the tenant, and so steer where other tenants\\' pods run'",
			fix: "List only the tenant's own namespaces in the term's namespaces, or give it a namespaceSelector with matchLabels " +
				tenancyv1alpha1.TenantLabel + ": <tenant>; a term with neither selects its own namespace",
		},
		rule{
			name:    "pods.volumes",
			expr:    "size(variables.badVolumes) == 0",
			problem: "'volume ' + variables.badVolumes[0] + ' has a source the node would mount from outside the tenant'",
			fix: "Use one of " + strings.Join(AllowedVolumeSources, ", ") + inlineCSIHint(s) +
				"; a PersistentVolumeClaim of an allowed StorageClass reaches network storage safely",
		},
		rule{
			name: "pods.automountServiceAccountToken",
			// The ServiceAccount step mounts the token before any policy
			// runs, reading the pod's field or its ServiceAccount's; Bulkhead
			// defaults the ServiceAccount. A token mounted without the pod
			// asking for it means that default was missed (a ServiceAccount
			// made while Bulkhead's defaults were not served): refuse the pod
			// rather than hand it a credential the tenant's policy withholds.
			expr: "params.spec.pods.automountServiceAccountToken || !variables.isPod || request.operation != 'CREATE' || " +
				"(has(variables.spec.automountServiceAccountToken) && variables.spec.automountServiceAccountToken) || " +
				"!has(variables.spec.volumes) || !variables.spec.volumes.exists(v, v.name.startsWith('kube-api-access-') && has(v.projected))",
			problem: "'the pod would mount its service account token, which the tenant\\'s pods get only when they ask'",
			fix:     "Set spec.automountServiceAccountToken to false, or to true if the pod needs to call the API server",
		},
		rule{
			name: "pods.priorityClasses",
			// The system classes preempt everything: a tenant gets them only
			// by name in its allowlist.
			// The cluster's global default, which the Priority step filled
			// in, is allowed when the tenant has no default of its own (with
			// one, the mutation has replaced it).
			expr: "!has(variables.spec.priorityClassName) || variables.spec.priorityClassName == '' || " +
				"(params.spec.pods.priorityClassDefault == '' && variables.spec.priorityClassName == params.spec.pods.priorityClassGlobalDefault) || " +
				"(size(params.spec.pods.priorityClasses) == 0 ? !variables.spec.priorityClassName.startsWith('system-') : " +
				"variables.spec.priorityClassName in params.spec.pods.priorityClasses)",
			problem: "'priorityClassName ' + variables.spec.priorityClassName + ' is not allowed; allowed: ' + " +
				"(size(params.spec.pods.priorityClasses) == 0 ? 'any but system-*' : params.spec.pods.priorityClasses.join(', '))",
			fix: "Leave priorityClassName unset to get the tenant's default, or name an allowed class",
		},
	)
}

func servicesValidation() *admissionv1.ValidatingAdmissionPolicy {
	return validatingPolicy(ServicesPolicy,
		[]admissionv1.NamedRuleWithOperations{rules(createUpdate, "", "services")},
		[]admissionv1.MatchCondition{specChanged},
		vars("type", "has(object.spec.type) ? object.spec.type : 'ClusterIP'"),
		rule{
			name:    "services.externalIPs",
			expr:    "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
			problem: "'spec.externalIPs are never allowed: they let a Service capture traffic meant for any address (CVE-2020-8554)'",
			fix:     "Remove spec.externalIPs; expose the Service with an allowed type or an Ingress",
		},
		rule{
			name:    "services.allowedTypes",
			expr:    "variables.type in params.spec.network.serviceTypes",
			problem: "'Service type ' + variables.type + ' is not allowed; allowed: ' + params.spec.network.serviceTypes.join(', ')",
			fix:     "Use an allowed type, or ask a cluster admin to add this one to the Tenant's spec.services.allowedTypes",
		},
	)
}

const ingressClassAnnotation = "kubernetes.io/ingress.class"

// annotationCEL is the value of annotation key on obj, or ” when absent.
func annotationCEL(obj, key string) string {
	return "(has(" + obj + ".metadata.annotations) && '" + key + "' in " + obj + ".metadata.annotations ? " +
		obj + ".metadata.annotations['" + key + "'] : '')"
}

func ingressesValidation(s Settings) *admissionv1.ValidatingAdmissionPolicy {
	return validatingPolicy(IngressesPolicy,
		[]admissionv1.NamedRuleWithOperations{rules(createUpdate, "networking.k8s.io", "ingresses")},
		// Controllers still honour the class annotation: a change of it
		// alone must be judged too.
		[]admissionv1.MatchCondition{{
			Name: "spec-or-class-changed",
			Expression: specChanged.Expression + " || " + annotationCEL("object", ingressClassAnnotation) +
				" != " + annotationCEL("oldObject", ingressClassAnnotation),
		}},
		vars(
			"classes", "(has(object.spec.ingressClassName) ? [object.spec.ingressClassName] : [])"+
				" + (has(object.metadata.annotations) && 'kubernetes.io/ingress.class' in object.metadata.annotations ? "+
				"[object.metadata.annotations['kubernetes.io/ingress.class']] : [])",
			"hosts", "(has(object.spec.rules) ? object.spec.rules.map(r, has(r.host) ? r.host : '') : [])"+
				" + (has(object.spec.tls) ? object.spec.tls.filter(t, has(t.hosts)).map(t, t.hosts).flatten() : [])"+
				" + (has(object.spec.defaultBackend) ? [''] : [])",
			"badHosts", "size(params.spec.network.hostnames) == 0 ? [] : variables.hosts.filter(h, h != '' && "+
				"!params.spec.network.hostnames.exists(p, h == p || (p.startsWith('*.') && h.endsWith(p.substring(1)))))",
			"isAdmin", s.AdminCEL(),
		),
		rule{
			name: "ingress.classes",
			expr: "size(params.spec.network.ingressClasses) == 0 || (size(variables.classes) > 0 && " +
				"variables.classes.all(c, c in params.spec.network.ingressClasses))",
			problem: "'ingress class ' + (size(variables.classes) > 0 ? variables.classes[0] : '(none)') + ' is not allowed; allowed: ' + params.spec.network.ingressClasses.join(', ')",
			fix:     "Set spec.ingressClassName to an allowed class",
		},
		rule{
			name:    "ingress.hostnames",
			expr:    "size(variables.badHosts) == 0",
			problem: "'host ' + variables.badHosts[0] + ' is not the tenant\\'s; allowed: ' + params.spec.network.hostnames.join(', ')",
			fix:     "Give every rule a host matching the tenant's hostname patterns",
		},
		rule{
			// A rule without a host, or a default backend, serves every
			// hostname nobody else claims on its class: on a shared class
			// that is the platform's decision, never a tenant's.
			name:    "ingress.defaultBackend",
			expr:    "variables.isAdmin || !variables.hosts.exists(h, h == '')",
			problem: "'a rule without a host, or a default backend, would serve every hostname nobody else claims'",
			fix:     "Give every rule a host (and drop spec.defaultBackend); a catch-all backend is set up by a cluster admin",
		},
	)
}

// betaStorageClass is the annotation that named a claim's class before
// spec.storageClassName existed; the volume controller still honours it.
const betaStorageClass = "volume.beta.kubernetes.io/storage-class"

func storageValidation() *admissionv1.ValidatingAdmissionPolicy {
	return validatingPolicy(StoragePolicy,
		// Only creation: the volume controller binds claims by updating
		// volumeName. A claim naming a volume at creation is judged by the
		// volumes webhook, which can read the volume.
		[]admissionv1.NamedRuleWithOperations{rules(createOnly, "", "persistentvolumeclaims")},
		nil,
		// The volume controller reads the old beta annotation before the
		// field: both must name an allowed class.
		vars("classes", "(has(object.spec.storageClassName) ? [object.spec.storageClassName] : [])"+
			" + (has(object.metadata.annotations) && '"+betaStorageClass+"' in object.metadata.annotations ? "+
			"[object.metadata.annotations['"+betaStorageClass+"']] : [])"),
		rule{
			name: "storage.classes",
			expr: "size(params.spec.storage.classes) == 0 || (size(variables.classes) > 0 && " +
				"variables.classes.all(c, c in params.spec.storage.classes))",
			problem: "'storage class ' + (size(variables.classes) > 0 ? variables.classes.filter(c, !(c in params.spec.storage.classes))[0] : '(none)') + ' is not allowed; allowed: ' + params.spec.storage.classes.join(', ')",
			fix:     "Set spec.storageClassName to an allowed class",
		},
		rule{
			// A selector asks the volume binder for an existing volume by its
			// labels, and the binder hands over any Available volume that
			// matches, one provisioned for another tenant included. Dynamic
			// provisioning ignores selectors, so only static binding needs it;
			// that is an admin's to set up (pre-bound with a claimRef).
			name:    "storage.selector",
			expr:    "!has(object.spec.selector)",
			problem: "'spec.selector would let the volume binder hand this claim an existing volume of any tenant'",
			fix:     "Remove spec.selector and let the StorageClass provision a volume; for an existing volume, ask a cluster admin to pre-bind it to this claim",
		},
		rule{
			// A cross-namespace data source would copy another namespace's
			// snapshot or claim into this one.
			name: "storage.dataSource",
			expr: "!has(object.spec.dataSourceRef) || !has(object.spec.dataSourceRef.namespace) || " +
				"object.spec.dataSourceRef.namespace == '' || object.spec.dataSourceRef.namespace == request.namespace",
			problem: "'spec.dataSourceRef names namespace ' + object.spec.dataSourceRef.namespace + ', another namespace'",
			fix:     "Restore from a snapshot or claim in this namespace: drop dataSourceRef.namespace",
		},
	)
}

func rbacValidation(s Settings) *admissionv1.ValidatingAdmissionPolicy {
	return validatingPolicy(RBACPolicy,
		[]admissionv1.NamedRuleWithOperations{rules(createUpdate, "rbac.authorization.k8s.io", "rolebindings")},
		[]admissionv1.MatchCondition{{
			// Bulkhead's own bindings are rendered from the Tenant, and
			// may be written just before the TenantPolicy catches up.
			Name:       "not-bulkhead-or-admin",
			Expression: notBulkheadOrAdmin(s),
		}},
		vars(
			"badSubjects", "!has(object.subjects) ? [] : object.subjects.filter(s, "+
				"s.kind == 'ServiceAccount' ? !((has(s.namespace) && s.namespace != '' ? s.namespace : request.namespace) in params.spec.rbac.namespaces || "+
				"('ServiceAccount:' + (has(s.namespace) ? s.namespace : '') + ':' + s.name) in params.spec.rbac.subjects) : "+
				"!((s.kind + ':' + s.name) in params.spec.rbac.subjects)).map(s, s.kind + ' ' + s.name)",
		),
		rule{
			name:    "rbac.subjects",
			expr:    "size(variables.badSubjects) == 0",
			problem: "'subject ' + variables.badSubjects[0] + ' is not an owner, member or viewer of the tenant, nor a service account of its namespaces'",
			fix:     "Bind only the tenant's own identities; ask a cluster admin to add a person to the Tenant",
		},
		rule{
			name:    "rbac.clusterRoles",
			expr:    "!params.spec.rbac.restricted || object.roleRef.kind != 'ClusterRole' || object.roleRef.name in params.spec.rbac.clusterRoles",
			problem: "'ClusterRole ' + object.roleRef.name + ' may not be bound; allowed: ' + params.spec.rbac.clusterRoles.join(', ')",
			fix:     "Reference an allowed ClusterRole, or a Role of this namespace",
		},
	)
}

// networkPoliciesValidation keeps a tenant's own NetworkPolicies inside
// what the Tenant allows. NetworkPolicies only ever add to what is allowed,
// so one rule of the tenant's could otherwise undo Bulkhead's: admit another
// tenant's namespaces, reach the metadata address or a denied CIDR, or reach
// the internet when the Tenant allows only some CIDRs.
//
// Ingress (unless network.isolation is Off): every rule names its sources,
// and a namespaceSelector either pins the tenant label to this tenant or one
// its allowFrom names, or requires the label to be absent (the platform's
// namespaces, not another tenant's).
//
// Egress (when Bulkhead restricts it): every rule names its destinations; a
// namespaceSelector pins the tenant label to this tenant (unless isolation is
// Off, when Bulkhead's own egress reaches every namespace); an ipBlock
// overlaps no denied CIDR (unless its except covers it) and, without
// internet, lies inside an allowed CIDR. Two CIDRs overlap exactly when one
// contains the other.
func networkPoliciesValidation(s Settings) *admissionv1.ValidatingAdmissionPolicy {
	return validatingPolicy(NetworkPoliciesPolicy,
		[]admissionv1.NamedRuleWithOperations{rules(createUpdate, "networking.k8s.io", "networkpolicies")},
		[]admissionv1.MatchCondition{specChanged, {
			Name:       "not-bulkhead-or-admin",
			Expression: notBulkheadOrAdmin(s),
		}},
		vars(
			"ingressOpen", "params.spec.network.isolation != 'Off' && has(object.spec.ingress) && "+
				"object.spec.ingress.exists(r, !has(r.from) || size(r.from) == 0)",
			"sources", "params.spec.network.isolation == 'Off' || !has(object.spec.ingress) ? [] : "+
				"object.spec.ingress.filter(r, has(r.from)).map(r, r.from).flatten()",
			"badSources", "variables.sources.filter(p, has(p.namespaceSelector) && "+
				"!("+pinnedToCEL("p.namespaceSelector", "([params.spec.tenant] + params.spec.network.allowFromTenants)")+" || "+
				outsideTenantsCEL("p.namespaceSelector")+"))",
			// An ipBlock source must leave out the cluster's own ranges: many
			// network plugins match pod addresses against ipBlocks.
			"badSourceBlocks", "variables.sources.filter(p, has(p.ipBlock) && "+clusterOverlapCEL(s.ClusterCIDRs)+").map(p, p.ipBlock.cidr)",
			"egressOpen", "params.spec.network.egressRestricted && has(object.spec.egress) && "+
				"object.spec.egress.exists(r, !has(r.to) || size(r.to) == 0)",
			"destinations", "!params.spec.network.egressRestricted || !has(object.spec.egress) ? [] : "+
				"object.spec.egress.filter(r, has(r.to)).map(r, r.to).flatten()",
			"badNamespaces", "params.spec.network.isolation == 'Off' ? [] : variables.destinations.filter(p, "+
				"has(p.namespaceSelector) && !"+pinnedToCEL("p.namespaceSelector", "[params.spec.tenant]")+")",
			"badBlocks", "variables.destinations.filter(p, has(p.ipBlock) && ("+
				"params.spec.network.denyCIDRs.exists(d, cidr(d).containsCIDR(p.ipBlock.cidr) || "+
				"(cidr(p.ipBlock.cidr).containsCIDR(d) && !(has(p.ipBlock.except) && p.ipBlock.except.exists(e, cidr(e).containsCIDR(d))))) || "+
				"(!params.spec.network.allowInternet && !params.spec.network.allowCIDRs.exists(a, cidr(a).containsCIDR(p.ipBlock.cidr)))"+
				")).map(p, p.ipBlock.cidr)",
		),
		rule{
			name: "network.ingress",
			expr: "!variables.ingressOpen && size(variables.badSources) == 0 && size(variables.badSourceBlocks) == 0",
			problem: "(variables.ingressOpen ? 'an ingress rule without from admits every source' : " +
				"size(variables.badSourceBlocks) > 0 ? 'ipBlock ' + variables.badSourceBlocks[0] + ' may match the pods of other tenants (" + clusterCIDRsText(s.ClusterCIDRs) + ")' : " +
				"'an ingress rule admits namespaces of tenants that network.allowFrom does not name')",
			fix: "Name sources with a podSelector (this namespace), a namespaceSelector with matchLabels " + tenancyv1alpha1.TenantLabel +
				": <this tenant or one in its allowFrom>, or one requiring " + tenancyv1alpha1.TenantLabel + " DoesNotExist (platform namespaces); an ipBlock source must leave out the cluster's pod and Service ranges (the manager's --cluster-cidrs); ask a cluster admin to add a tenant to spec.network.allowFrom",
		},
		rule{
			name: "network.egress",
			expr: "!variables.egressOpen && size(variables.badNamespaces) == 0 && size(variables.badBlocks) == 0",
			problem: "(variables.egressOpen ? 'an egress rule without to reaches every destination' : " +
				"size(variables.badBlocks) > 0 ? 'ipBlock ' + variables.badBlocks[0] + ' reaches ' + " +
				"(params.spec.network.denyCIDRs.exists(d, cidr(d).containsCIDR(variables.badBlocks[0]) || cidr(variables.badBlocks[0]).containsCIDR(d)) ? " +
				"'addresses the Tenant denies (denied: ' + params.spec.network.denyCIDRs.join(', ') + '; an except must cover them)' : " +
				"'outside the Tenant\\'s allowCIDRs (' + (size(params.spec.network.allowCIDRs) == 0 ? 'none' : params.spec.network.allowCIDRs.join(', ')) + ')') : " +
				"'an egress rule reaches namespaces outside the tenant')",
			fix: "Keep egress inside what the Tenant's spec.network.egress allows (denied CIDRs, the metadata address included, are never reachable); " +
				"ask a cluster admin to add destinations to its allowCIDRs",
		},
	)
}

// apply is one ApplyConfiguration mutation.
func apply(expr string) admissionv1.Mutation {
	return admissionv1.Mutation{PatchType: admissionv1.PatchTypeApplyConfiguration, ApplyConfiguration: &admissionv1.ApplyConfiguration{Expression: expr}}
}

func jsonPatch(expr string) admissionv1.Mutation {
	return admissionv1.Mutation{PatchType: admissionv1.PatchTypeJSONPatch, JSONPatch: &admissionv1.JSONPatch{Expression: expr}}
}

// pullPolicyField forces the tenant's pull policy on one list of
// containers, as an optional field of an apply configuration.
func pullPolicyField(field string) string {
	return "?" + field + ": params.spec.pods.pullPolicy != '' && has(object.spec." + field + ") ? " +
		"optional.of(object.spec." + field + ".map(c, Object.spec." + field + "{name: c.name, imagePullPolicy: params.spec.pods.pullPolicy})) : optional.none()"
}

// podsMutation fills a new pod with the tenant's defaults. It runs before
// validation, so what it sets is then checked like anything the user wrote;
// it never overwrites a value the user chose (the validation refuses a wrong
// one with a reason instead), except enableServiceLinks, which the API
// server has already defaulted to true before admission.
func podsMutation() *admissionv1.MutatingAdmissionPolicy {
	return &admissionv1.MutatingAdmissionPolicy{
		ObjectMeta: policyMeta(PodsPolicy),
		Spec: admissionv1.MutatingAdmissionPolicySpec{
			ParamKind:          tenantParamKind(),
			FailurePolicy:      ptr.To(admissionv1.Fail),
			ReinvocationPolicy: admissionv1.NeverReinvocationPolicy,
			MatchConstraints:   &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{rules(createOnly, "", "pods")}},
			Variables: vars(
				"podTolerations", "has(object.spec.tolerations) ? object.spec.tolerations.map(t, "+tolerationCEL+") : []",
				// The Priority step has already filled in the cluster's global
				// default class, if there is one: treat it as unset, or the
				// tenant's default would never apply.
				"defaultPriority", "params.spec.pods.priorityClassDefault != '' && (!has(object.spec.priorityClassName) || "+
					"object.spec.priorityClassName == '' || object.spec.priorityClassName == params.spec.pods.priorityClassGlobalDefault)",
				"defaultRuntimeClass", "params.spec.pods.runtimeClassDefault != '' && !has(object.spec.runtimeClassName)",
			),
			// Two mutations rather than one per default: each mutation is a
			// merge of its own, and fewer merges make pod creates cheaper.
			Mutations: []admissionv1.Mutation{
				jsonPatch("(!has(object.spec.nodeSelector) ? " +
					"(size(params.spec.pods.nodeSelector) == 0 ? [] : [JSONPatch{op: 'add', path: '/spec/nodeSelector', value: params.spec.pods.nodeSelector}]) : " +
					"params.spec.pods.nodeSelector.filter(k, !(k in object.spec.nodeSelector)).map(k, " +
					"JSONPatch{op: 'add', path: '/spec/nodeSelector/' + jsonpatch.escapeKey(k), value: params.spec.pods.nodeSelector[k]})) + " +
					"(!has(object.spec.tolerations) ? " +
					"(size(params.spec.pods.tolerations) == 0 ? [] : [JSONPatch{op: 'add', path: '/spec/tolerations', value: params.spec.pods.tolerations}]) : " +
					"params.spec.pods.tolerations.filter(t, !((" + tolerationCEL + ") in variables.podTolerations)).map(t, " +
					"JSONPatch{op: 'add', path: '/spec/tolerations/-', value: t}))"),
				apply("Object{spec: Object.spec{" +
					"?runtimeClassName: variables.defaultRuntimeClass ? " +
					"optional.of(params.spec.pods.runtimeClassDefault) : optional.none(), " +
					// A pod asking for a host namespace is left for Pod Security
					// to refuse with its own reason, rather than made invalid here.
					"?hostUsers: params.spec.pods.requireUserNamespace && !has(object.spec.hostUsers) && " +
					"!(has(object.spec.hostNetwork) && object.spec.hostNetwork) && !(has(object.spec.hostPID) && object.spec.hostPID) && " +
					"!(has(object.spec.hostIPC) && object.spec.hostIPC) ? optional.of(false) : optional.none(), " +
					"enableServiceLinks: params.spec.pods.enableServiceLinks, " +
					"?automountServiceAccountToken: !has(object.spec.automountServiceAccountToken) ? " +
					"optional.of(params.spec.pods.automountServiceAccountToken) : optional.none(), " +
					pullPolicyField("containers") + ", " + pullPolicyField("initContainers") + ", " +
					"?volumes: params.spec.pods.pullPolicy != '' && has(object.spec.volumes) && object.spec.volumes.exists(v, has(v.image)) ? " +
					"optional.of(object.spec.volumes.filter(v, has(v.image)).map(v, Object.spec.volumes{name: v.name, " +
					"image: Object.spec.volumes.image{pullPolicy: params.spec.pods.pullPolicy}})) : optional.none(), " +
					"?priorityClassName: variables.defaultPriority ? optional.of(params.spec.pods.priorityClassDefault) : optional.none(), " +
					"?priority: variables.defaultPriority ? optional.of(params.spec.pods.priorityDefault) : optional.none(), " +
					// priority and preemptionPolicy follow the class set, replacing
					// what the Priority step took from the global default.
					"?preemptionPolicy: variables.defaultPriority ? optional.of(params.spec.pods.preemptionDefault != '' ? " +
					"params.spec.pods.preemptionDefault : 'PreemptLowerPriority') : optional.none(), " +
					"?overhead: variables.defaultRuntimeClass && size(params.spec.pods.runtimeClassOverhead) > 0 ? " +
					"optional.of(params.spec.pods.runtimeClassOverhead) : optional.none()" +
					"}}"),
			},
		},
	}
}

// serviceAccountsMutation defaults automountServiceAccountToken on the
// tenant's ServiceAccounts. The ServiceAccount admission plugin mounts the
// token into a pod before any policy runs, reading the pod's field or else
// its ServiceAccount's: the ServiceAccount is where the default must live.
func serviceAccountsMutation() *admissionv1.MutatingAdmissionPolicy {
	return &admissionv1.MutatingAdmissionPolicy{
		ObjectMeta: policyMeta(ServiceAccountsPolicy),
		Spec: admissionv1.MutatingAdmissionPolicySpec{
			ParamKind:          tenantParamKind(),
			FailurePolicy:      ptr.To(admissionv1.Fail),
			ReinvocationPolicy: admissionv1.NeverReinvocationPolicy,
			MatchConstraints:   &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{rules(createOnly, "", "serviceaccounts")}},
			Mutations: []admissionv1.Mutation{
				apply("has(object.automountServiceAccountToken) ? Object{} : " +
					"Object{automountServiceAccountToken: params.spec.pods.automountServiceAccountToken}"),
			},
		},
	}
}
