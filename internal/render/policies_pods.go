package render

import (
	"fmt"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The pods family: what a tenant's pods, and the pod templates of its
// workloads, may ask for (rules pods.*, nodes.* and namespaces.protected),
// and the defaults Bulkhead fills into new pods and ServiceAccounts. Its
// parameters are TenantPolicySpec.Pods, and Protected, which TenantPolicies
// sets per namespace.

// PodsPolicy names the validating and the mutating policy of the pods
// family, and their bindings.
const PodsPolicy = "bulkhead-pods"

// ServiceAccountsPolicy names the mutating policy that gives the tenant's
// ServiceAccounts the pods' default for automountServiceAccountToken.
const ServiceAccountsPolicy = "bulkhead-serviceaccounts"

// podsParams flattens the tenant's pod and node rules, with the facts of the
// cluster that its runtime and priority classes need, into pods.
func podsParams(pods *tenancyv1alpha1.PodRules, spec *tenancyv1alpha1.TenantSpec, in PolicyInputs) {
	p := spec.Pods

	*pods = tenancyv1alpha1.PodRules{
		NodeSelector:                 map[string]string{},
		Tolerations:                  []corev1.Toleration{},
		AllowedTolerations:           []string{},
		RuntimeClasses:               []string{},
		RequireUserNamespace:         p.UserNamespaces == tenancyv1alpha1.UserNamespacesRequired,
		EnableServiceLinks:           p.ServiceLinks == tenancyv1alpha1.ServiceLinksEnabled,
		EnforceServiceLinks:          p.ServiceLinks == tenancyv1alpha1.ServiceLinksForbidden,
		AutomountServiceAccountToken: *p.AutomountServiceAccountToken,
		Registries:                   []string{},
		PriorityClasses:              []string{},
		PriorityClassGlobalDefault:   in.GlobalDefaultPriorityClass,
		PodAffinityScope:             p.PodAffinityScope,
	}
	if n := spec.Nodes; n != nil {
		for k, v := range n.Selector {
			pods.NodeSelector[k] = v
		}
		for _, tol := range n.Tolerations {
			pods.Tolerations = append(pods.Tolerations, *tol.DeepCopy())
			pods.AllowedTolerations = append(pods.AllowedTolerations, CanonicalToleration(tol))
		}
	}
	pods.RuntimeClassOverhead = corev1.ResourceList{}
	if rc := p.RuntimeClass; rc != nil {
		pods.RuntimeClassDefault = rc.Default
		pods.RuntimeClasses = nonNil(rc.Allowed)
		for _, name := range append([]string{rc.Default}, rc.Allowed...) {
			class := in.RuntimeClasses[name]
			if class == nil || class.Scheduling == nil {
				continue
			}
			for _, tol := range class.Scheduling.Tolerations {
				if c := CanonicalToleration(tol); !contains(pods.AllowedTolerations, c) {
					pods.AllowedTolerations = append(pods.AllowedTolerations, c)
				}
			}
		}
		// What the RuntimeClass admission step would have done for the
		// default class, had the class been set before it ran.
		if class := in.RuntimeClasses[rc.Default]; class != nil {
			if class.Overhead != nil {
				pods.RuntimeClassOverhead = class.Overhead.PodFixed.DeepCopy()
			}
			if sch := class.Scheduling; sch != nil {
				for k, v := range sch.NodeSelector {
					if _, ok := pods.NodeSelector[k]; !ok {
						pods.NodeSelector[k] = v
					}
				}
				pods.Tolerations = append(pods.Tolerations, sch.Tolerations...)
			}
		}
	}
	if p.Images != nil {
		pods.Registries = nonNil(p.Images.Registries)
		pods.PullPolicy = string(p.Images.PullPolicy)
	}
	if pc := p.PriorityClasses; pc != nil {
		pods.PriorityClassDefault = pc.Default
		pods.PriorityDefault = in.PriorityValue
		pods.PreemptionDefault = in.PreemptionPolicy
		pods.PriorityClasses = nonNil(pc.Allowed)
	}
}

// podSpecVars locate the pod spec in a Pod or in a workload's template, so
// that one set of rules covers both: a user learns of a bad template when
// applying the Deployment, not from a ReplicaSet's events. Rules that a
// mutation satisfies on pods (a default runtime class, say) are required of
// pods only; templates merely may not contradict them.
func podSpecVars(s Settings) []admissionregistrationv1.Variable {
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
		// Extended resources backed by a DeviceClass the tenant may not
		// use (see policies_devices.go).
		"badDeviceResources", badDeviceResourcesCEL(),
	)
}

// podsValidation judges pods, their ephemeral containers and the pod
// templates of workloads, against the tenant's node pool, runtime, images,
// priority and the rest of its pod rules.
func podsValidation(s Settings) *admissionregistrationv1.ValidatingAdmissionPolicy {
	return validatingPolicy(PodsPolicy,
		[]admissionregistrationv1.NamedRuleWithOperations{
			rules(createUpdate, "", "pods", "pods/ephemeralcontainers", "replicationcontrollers"),
			rules(createUpdate, "apps", "deployments", "replicasets", "statefulsets", "daemonsets"),
			rules(createUpdate, "batch", "jobs", "cronjobs"),
		},
		[]admissionregistrationv1.MatchCondition{specChanged},
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
		podDevicesRule(),
	)
}

// podsMutation fills a new pod with the tenant's defaults. It runs before
// validation, so what it sets is then checked like anything the user wrote;
// it never overwrites a value the user chose (the validation refuses a wrong
// one with a reason instead), except enableServiceLinks, which the API
// server has already defaulted to true before admission: a tenant whose
// serviceLinks is Disabled or Forbidden gets false whatever the pod says.
func podsMutation() *admissionregistrationv1.MutatingAdmissionPolicy {
	return &admissionregistrationv1.MutatingAdmissionPolicy{
		ObjectMeta: policyMeta(PodsPolicy),
		Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
			ParamKind:          tenantParamKind(),
			FailurePolicy:      ptr.To(admissionregistrationv1.Fail),
			ReinvocationPolicy: admissionregistrationv1.NeverReinvocationPolicy,
			MatchConstraints:   &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{rules(createOnly, "", "pods")}},
			Variables: vars(
				"podTolerations", "has(object.spec.tolerations) ? object.spec.tolerations.map(t, "+tolerationCEL+") : []",
				// The Priority step has already filled in the cluster's global
				// default class, if there is one: treat it as unset, or the
				// tenant's default would never apply.
				"defaultPriority", "params.spec.pods.priorityClassDefault != '' && (!has(object.spec.priorityClassName) || "+
					"object.spec.priorityClassName == '' || object.spec.priorityClassName == params.spec.pods.priorityClassGlobalDefault)",
				"defaultRuntimeClass", "params.spec.pods.runtimeClassDefault != '' && !has(object.spec.runtimeClassName)",
			),
			// One JSON patch rather than an apply configuration: an apply
			// configuration is merged into the pod with the structured
			// merge of server-side apply, which cost a Hard tenant's pod
			// create several milliseconds of API server CPU; a JSON patch
			// is applied as it is. "add" on a field that is set replaces it.
			Mutations: []admissionregistrationv1.Mutation{jsonPatch(strings.Join([]string{
				"(!has(object.spec.nodeSelector) ? " +
					"(size(params.spec.pods.nodeSelector) == 0 ? [] : [JSONPatch{op: 'add', path: '/spec/nodeSelector', value: params.spec.pods.nodeSelector}]) : " +
					"params.spec.pods.nodeSelector.filter(k, !(k in object.spec.nodeSelector)).map(k, " +
					"JSONPatch{op: 'add', path: '/spec/nodeSelector/' + jsonpatch.escapeKey(k), value: params.spec.pods.nodeSelector[k]}))",
				"(!has(object.spec.tolerations) ? " +
					"(size(params.spec.pods.tolerations) == 0 ? [] : [JSONPatch{op: 'add', path: '/spec/tolerations', value: params.spec.pods.tolerations}]) : " +
					"params.spec.pods.tolerations.filter(t, !((" + tolerationCEL + ") in variables.podTolerations)).map(t, " +
					"JSONPatch{op: 'add', path: '/spec/tolerations/-', value: t}))",
				setIf("variables.defaultRuntimeClass", "/spec/runtimeClassName", "params.spec.pods.runtimeClassDefault"),
				// A pod asking for a host namespace is left for Pod Security
				// to refuse with its own reason, rather than made invalid here.
				setIf("params.spec.pods.requireUserNamespace && !has(object.spec.hostUsers) && "+
					"!(has(object.spec.hostNetwork) && object.spec.hostNetwork) && !(has(object.spec.hostPID) && object.spec.hostPID) && "+
					"!(has(object.spec.hostIPC) && object.spec.hostIPC)", "/spec/hostUsers", "false"),
				// Enabled leaves the pod's own value (the API server's
				// default is true); Disabled and Forbidden write false.
				setIf("!params.spec.pods.enableServiceLinks", "/spec/enableServiceLinks", "false"),
				setIf("!has(object.spec.automountServiceAccountToken)", "/spec/automountServiceAccountToken", "params.spec.pods.automountServiceAccountToken"),
				pullPolicyPatch("containers", "has(c.name)", "imagePullPolicy"),
				pullPolicyPatch("initContainers", "has(c.name)", "imagePullPolicy"),
				pullPolicyPatch("volumes", "has(c.image)", "image/pullPolicy"),
				setIf("variables.defaultPriority", "/spec/priorityClassName", "params.spec.pods.priorityClassDefault"),
				// priority and preemptionPolicy follow the class set, replacing
				// what the Priority step took from the global default.
				setIf("variables.defaultPriority", "/spec/priority", "params.spec.pods.priorityDefault"),
				setIf("variables.defaultPriority", "/spec/preemptionPolicy",
					"params.spec.pods.preemptionDefault != '' ? params.spec.pods.preemptionDefault : 'PreemptLowerPriority'"),
				setIf("variables.defaultRuntimeClass && size(params.spec.pods.runtimeClassOverhead) > 0", "/spec/overhead", "params.spec.pods.runtimeClassOverhead"),
			}, " + "))},
		},
	}
}

// setIf is a JSON patch, as a CEL list of at most one operation, that sets
// path to value when cond holds.
func setIf(cond, path, value string) string {
	return "(" + cond + " ? [JSONPatch{op: 'add', path: '" + path + "', value: " + value + "}] : [])"
}

// pullPolicyPatch forces the tenant's pull policy, as a CEL list of JSON
// patch operations, on each item c of the pod's list field for which
// which holds, at the item's sub-path field. Items are found by index
// (indexOf: names are unique, so no two items are equal).
func pullPolicyPatch(list, which, field string) string {
	return "(params.spec.pods.pullPolicy != '' && has(object.spec." + list + ") ? " +
		"object.spec." + list + ".filter(c, " + which + ").map(c, JSONPatch{op: 'add', " +
		"path: '/spec/" + list + "/' + string(object.spec." + list + ".indexOf(c)) + '/" + field + "', value: params.spec.pods.pullPolicy}) : [])"
}

// serviceAccountsMutation defaults automountServiceAccountToken on the
// tenant's ServiceAccounts. The ServiceAccount admission plugin mounts the
// token into a pod before any policy runs, reading the pod's field or else
// its ServiceAccount's: the ServiceAccount is where the default must live.
func serviceAccountsMutation() *admissionregistrationv1.MutatingAdmissionPolicy {
	return &admissionregistrationv1.MutatingAdmissionPolicy{
		ObjectMeta: policyMeta(ServiceAccountsPolicy),
		Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
			ParamKind:          tenantParamKind(),
			FailurePolicy:      ptr.To(admissionregistrationv1.Fail),
			ReinvocationPolicy: admissionregistrationv1.NeverReinvocationPolicy,
			MatchConstraints:   &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{rules(createOnly, "", "serviceaccounts")}},
			Mutations: []admissionregistrationv1.Mutation{
				apply("has(object.automountServiceAccountToken) ? Object{} : " +
					"Object{automountServiceAccountToken: params.spec.pods.automountServiceAccountToken}"),
			},
		},
	}
}

// NodeConditionTaints are the taints Kubernetes puts on nodes for their
// condition. Pods may tolerate them whatever their tenant: the API server
// and the DaemonSet controller add such tolerations themselves, and they
// never open a dedicated pool.
var NodeConditionTaints = []string{
	"node.kubernetes.io/not-ready",
	"node.kubernetes.io/unreachable",
	"node.kubernetes.io/disk-pressure",
	"node.kubernetes.io/memory-pressure",
	"node.kubernetes.io/pid-pressure",
	"node.kubernetes.io/unschedulable",
	"node.kubernetes.io/network-unavailable",
}

// CanonicalToleration is the string form a toleration is compared in, by
// the admission policies as by Go: "key|operator|value|effect|seconds", an
// unset operator written as Equal. The policies compute the same string in
// CEL (see tolerationCEL).
func CanonicalToleration(t corev1.Toleration) string {
	op := string(t.Operator)
	if op == "" {
		op = string(corev1.TolerationOpEqual)
	}
	secs := ""
	if t.TolerationSeconds != nil {
		secs = strconv.FormatInt(*t.TolerationSeconds, 10)
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s", t.Key, op, t.Value, t.Effect, secs)
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

// inlineCSIHint names, for the fix of pods.volumes, the inline CSI drivers
// the settings allow.
func inlineCSIHint(s Settings) string {
	if len(s.InlineCSIDrivers) == 0 {
		return ""
	}
	return ", or csi with driver " + strings.Join(s.InlineCSIDrivers, " or ")
}

// affinityTermsCEL lists the required and preferred terms of a podAffinity
// or podAntiAffinity field.
func affinityTermsCEL(field string) string {
	return "(!has(" + field + ") ? [] : " +
		"(has(" + field + ".requiredDuringSchedulingIgnoredDuringExecution) ? " + field + ".requiredDuringSchedulingIgnoredDuringExecution : [])" +
		" + (has(" + field + ".preferredDuringSchedulingIgnoredDuringExecution) ? " +
		field + ".preferredDuringSchedulingIgnoredDuringExecution.map(w, w.podAffinityTerm) : []))"
}
