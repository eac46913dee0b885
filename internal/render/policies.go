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
	for _, p := range []*admissionv1.ValidatingAdmissionPolicy{podsValidation(), servicesValidation(), ingressesValidation(), storageValidation(), rbacValidation(s), networkPoliciesValidation(s)} {
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
// NetworkPolicies in general, but not the ones that isolate the tenant.
// The controllers, the garbage collector, the namespace controller and
// cluster admins pass.
func managedValidation(s Settings) *admissionv1.ValidatingAdmissionPolicy {
	exempt := []string{
		s.NotBulkheadCEL(),
		"!request.userInfo.username.startsWith('system:serviceaccount:kube-system:')",
		"request.userInfo.username != 'system:kube-controller-manager'",
	}
	exempt = append(exempt, s.NotAdminCEL()...)
	ops := []admissionv1.OperationType{admissionv1.Update, admissionv1.Delete}
	p := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: policyMeta(ManagedPolicy),
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{
				ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
				ResourceRules: []admissionv1.NamedRuleWithOperations{
					rules(ops, "rbac.authorization.k8s.io", "rolebindings"),
					rules(ops, "networking.k8s.io", "networkpolicies"),
					rules(ops, "", "resourcequotas", "limitranges"),
					rules(ops, tenancyv1alpha1.GroupVersion.Group, "tenantpolicies"),
				},
			},
			MatchConditions: []admissionv1.MatchCondition{{Name: "not-a-controller-or-admin", Expression: strings.Join(exempt, " && ")}},
			Validations: []admissionv1.Validation{{
				Expression: "false",
				MessageExpression: "'tenant ' + namespaceObject.metadata.labels['" + tenancyv1alpha1.TenantLabel + "'] + ': ' + request.kind.kind + ' ' + request.name + " +
					"' is managed by Bulkhead [rule managed-objects]. Change the Tenant instead (a cluster admin can); Bulkhead would restore the object anyway'",
				Reason: ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
	return p
}

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

// podSpecVars locate the pod spec in a Pod or in a workload's template, so
// that one set of rules covers both: a user learns of a bad template when
// applying the Deployment, not from a ReplicaSet's events. Rules that a
// mutation satisfies on pods (a default runtime class, say) are required of
// pods only; templates merely may not contradict them.
func podSpecVars() []admissionv1.Variable {
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
		"badImages", "size(params.spec.pods.registries) == 0 ? [] : variables.containers"+
			".filter(c, !params.spec.pods.registries.exists(r, r.endsWith('/') ? c.image.startsWith(r) : "+
			"(c.image == r || c.image.startsWith(r + '/') || c.image.startsWith(r + ':') || c.image.startsWith(r + '@')))).map(c, c.image)",
		"badPullPolicy", "params.spec.pods.pullPolicy == '' || !variables.isPod ? [] : variables.containers"+
			".filter(c, !has(c.imagePullPolicy) || c.imagePullPolicy != params.spec.pods.pullPolicy).map(c, c.name)",
	)
}

func podsValidation() *admissionv1.ValidatingAdmissionPolicy {
	return validatingPolicy(PodsPolicy,
		[]admissionv1.NamedRuleWithOperations{
			rules(createUpdate, "", "pods", "pods/ephemeralcontainers", "replicationcontrollers"),
			rules(createUpdate, "apps", "deployments", "replicasets", "statefulsets", "daemonsets"),
			rules(createUpdate, "batch", "jobs", "cronjobs"),
		},
		[]admissionv1.MatchCondition{specChanged},
		podSpecVars(),
		rule{
			name:    "nodes.nodeName",
			expr:    "!has(variables.spec.nodeName) || variables.spec.nodeName == '' || (variables.isPod && request.operation == 'UPDATE')",
			problem: "'spec.nodeName is set to ' + variables.spec.nodeName + ', which would skip the scheduler and the taints of node pools'",
			fix:     "Remove nodeName and let the scheduler place the pod; a nodeSelector may narrow it within the tenant's nodes",
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
			problem: "'container ' + variables.badPullPolicy[0] + ' must have imagePullPolicy ' + params.spec.pods.pullPolicy",
			fix:     "Set imagePullPolicy to the tenant's policy (it is set for you on containers of new pods)",
		},
		rule{
			name: "pods.priorityClasses",
			// The system classes preempt everything: a tenant gets them only
			// by name in its allowlist.
			expr: "!has(variables.spec.priorityClassName) || variables.spec.priorityClassName == '' || " +
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

func ingressesValidation() *admissionv1.ValidatingAdmissionPolicy {
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
			"badHosts", "size(params.spec.network.hostnames) == 0 ? [] : variables.hosts.filter(h, "+
				"!params.spec.network.hostnames.exists(p, h != '' && (h == p || (p.startsWith('*.') && h.endsWith(p.substring(1))))))",
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
			problem: "(variables.badHosts[0] == '' ? 'a rule or backend without a host would serve every hostname' : 'host ' + variables.badHosts[0] + ' is not the tenant\\'s') + '; allowed: ' + params.spec.network.hostnames.join(', ')",
			fix:     "Give every rule a host matching the tenant's hostname patterns",
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

// networkPoliciesValidation keeps a Hard tenant's own NetworkPolicies from
// allowing egress: NetworkPolicies only ever add to what is allowed, so one
// egress rule of the tenant's would undo the Tenant's egress settings.
func networkPoliciesValidation(s Settings) *admissionv1.ValidatingAdmissionPolicy {
	return validatingPolicy(NetworkPoliciesPolicy,
		[]admissionv1.NamedRuleWithOperations{rules(createUpdate, "networking.k8s.io", "networkpolicies")},
		[]admissionv1.MatchCondition{specChanged, {
			Name:       "not-bulkhead-or-admin",
			Expression: notBulkheadOrAdmin(s),
		}},
		nil,
		rule{
			name:    "network.egress",
			expr:    "!params.spec.network.lockEgress || !has(object.spec.egress) || size(object.spec.egress) == 0",
			problem: "'a NetworkPolicy of the tenant may not allow egress: it would add to the egress the Tenant allows'",
			fix:     "Remove spec.egress (denying egress with policyTypes: [Egress] alone is fine); ask a cluster admin to add destinations to the Tenant's spec.network.egress.allowCIDRs",
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
				"defaultPriority", "params.spec.pods.priorityClassDefault != '' && !(has(object.spec.priorityClassName) && object.spec.priorityClassName != '')",
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
					"?priorityClassName: variables.defaultPriority ? optional.of(params.spec.pods.priorityClassDefault) : optional.none(), " +
					"?priority: variables.defaultPriority ? optional.of(params.spec.pods.priorityDefault) : optional.none(), " +
					"?preemptionPolicy: variables.defaultPriority && params.spec.pods.preemptionDefault != '' ? " +
					"optional.of(params.spec.pods.preemptionDefault) : optional.none(), " +
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
