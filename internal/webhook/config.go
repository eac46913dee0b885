package webhook

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/defaults"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/grants"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/ingress"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/namespace"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenantquota"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/tenants"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/volumes"
)

// ConfigurationName names both webhook configurations Bulkhead keeps.
const ConfigurationName = "bulkhead"

// Endpoint says how the API server reaches the webhooks: a URL (the manager
// running outside the cluster, as in the dev cluster) or a Service.
type Endpoint struct {
	URL              string // base URL, such as https://localhost:9443
	ServiceNamespace string
	ServiceName      string
	ServicePort      int32
}

func (e Endpoint) clientConfig(path string, caBundle []byte) admissionregistrationv1.WebhookClientConfig {
	if e.URL != "" {
		return admissionregistrationv1.WebhookClientConfig{URL: ptr.To(e.URL + path), CABundle: caBundle}
	}
	return admissionregistrationv1.WebhookClientConfig{
		Service:  &admissionregistrationv1.ServiceReference{Namespace: e.ServiceNamespace, Name: e.ServiceName, Path: ptr.To(path), Port: ptr.To(e.ServicePort)},
		CABundle: caBundle,
	}
}

// matchConditions keep cluster admins and the control plane's own identities
// away from the webhook, so that it can never block them.
func matchConditions(s render.Settings) []admissionregistrationv1.MatchCondition {
	return append([]admissionregistrationv1.MatchCondition{{
		Name:       "not-control-plane",
		Expression: `!request.userInfo.username.startsWith("system:") || request.userInfo.username.startsWith("system:serviceaccount:") && !request.userInfo.username.startsWith("system:serviceaccount:kube-system:")`,
	}}, notBulkheadOrAdmin(s)...)
}

// notBulkheadOrAdmin keeps Bulkhead and cluster admins away from a webhook
// that must still see the control plane's controllers.
func notBulkheadOrAdmin(s render.Settings) []admissionregistrationv1.MatchCondition {
	out := []admissionregistrationv1.MatchCondition{{Name: "not-bulkhead", Expression: s.NotBulkheadCEL()}}
	for i, expr := range s.NotAdminCEL() {
		out = append(out, admissionregistrationv1.MatchCondition{Name: fmt.Sprintf("not-admin-group-%d", i), Expression: expr})
	}
	return out
}

// notSystemNamespace skips system namespaces by the name of the namespace
// in the request. Not by a namespaceSelector: for a Namespace object it is
// matched against the request's own labels, and on a create with
// generateName the API server sets kubernetes.io/metadata.name only after
// the mutating webhooks have run, so a forged value of that label (say
// "default") would keep the webhook from ever seeing the namespace.
func notSystemNamespace(s render.Settings) admissionregistrationv1.MatchCondition {
	quoted := make([]string, 0, len(s.SystemNamespaces))
	for _, n := range s.SystemNamespaces {
		quoted = append(quoted, "'"+n+"'")
	}
	return admissionregistrationv1.MatchCondition{
		Name:       "not-a-system-namespace",
		Expression: "!has(object.metadata.name) || !(object.metadata.name in [" + strings.Join(quoted, ", ") + "])",
	}
}

// namespaceWebhook is the scope every Bulkhead namespace webhook shares:
// namespaces only, never system namespaces, admins or the control plane, a
// short timeout, and failing closed (see package namespace for why).
func namespaceWebhook(e Endpoint, path string, op admissionregistrationv1.OperationType, caBundle []byte, s render.Settings) admissionregistrationv1.ValidatingWebhook {
	resources := []string{"namespaces"}
	// A create is recorded in the tenant's NamespaceLedger, except on dry
	// runs; an update writes nothing.
	sideEffects := admissionregistrationv1.SideEffectClassNoneOnDryRun
	if op == admissionregistrationv1.Update {
		sideEffects = admissionregistrationv1.SideEffectClassNone
		// The status and finalize subresources save label changes too.
		resources = append(resources, "namespaces/status", "namespaces/finalize")
	}
	return admissionregistrationv1.ValidatingWebhook{
		Name:         "namespaces.tenancy.bulkhead.dev",
		ClientConfig: e.clientConfig(path, caBundle),
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{op},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: resources,
				Scope: ptr.To(admissionregistrationv1.ClusterScope),
			},
		}},
		FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
		MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
		MatchConditions:         append(matchConditions(s), notSystemNamespace(s)),
		SideEffects:             ptr.To(sideEffects),
		TimeoutSeconds:          ptr.To[int32](5),
		AdmissionReviewVersions: []string{"v1"},
	}
}

// quotaWebhook charges pods and claims to their tenant's tenant-wide quota,
// and new objects of the kinds some Tenant counts (counted, from the
// Tenants' count/<resource>.<group> limits; never every kind, which would
// put the webhook in the way of every write to a tenant namespace). It sees only namespaces of tenants that have one (the namespaces
// controller labels them), and everyone but Bulkhead and cluster admins:
// the controllers that create pods for Deployments and Jobs must be counted.
// It fails closed, so that quota is never overshot; with Bulkhead down, only
// those tenants wait to create pods and claims.
func quotaWebhook(e Endpoint, caBundle []byte, s render.Settings, counted []schema.GroupResource) admissionregistrationv1.ValidatingWebhook {
	w := admissionregistrationv1.ValidatingWebhook{
		Name:         "quota.tenancy.bulkhead.dev",
		ClientConfig: e.clientConfig(tenantquota.Path, caBundle),
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods", "persistentvolumeclaims"},
				Scope: ptr.To(admissionregistrationv1.NamespacedScope),
			},
		}, {
			// Expanding a claim uses more storage; resizing a pod in place
			// (GA since 1.35) more cpu or memory. Kubernetes' ResourceQuota
			// charges both.
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"persistentvolumeclaims", "pods/resize"},
				Scope: ptr.To(admissionregistrationv1.NamespacedScope),
			},
		}},
		FailurePolicy: ptr.To(admissionregistrationv1.Fail),
		MatchPolicy:   ptr.To(admissionregistrationv1.Equivalent),
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
			tenancyv1alpha1.TenantQuotaLabel: "true",
		}},
		MatchConditions: append(notBulkheadOrAdmin(s), namespaceBootstrap),
		// It writes the tenant's TenantQuotaLedger status, except on dry runs.
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNoneOnDryRun),
		TimeoutSeconds:          ptr.To[int32](10),
		AdmissionReviewVersions: []string{"v1"},
	}
	w.Rules = append(w.Rules, countRules(counted)...)
	return w
}

// namespaceBootstrap keeps away from the quota webhook the two objects the
// control plane puts in every namespace, the kube-root-ca.crt ConfigMap and
// the default ServiceAccount: without them no pod of the namespace starts,
// so a count of ConfigMaps or ServiceAccounts must never refuse them. The
// recount still counts them. Only the control plane's own identities are
// kept away, and only for those two names.
var namespaceBootstrap = admissionregistrationv1.MatchCondition{
	Name: "not-namespace-bootstrap",
	Expression: `!(request.resource.group == "" && ` +
		`(request.userInfo.username.startsWith("system:serviceaccount:kube-system:") || request.userInfo.username == "system:kube-controller-manager") && ` +
		`(request.resource.resource == "configmaps" && object.metadata.name == "kube-root-ca.crt" || ` +
		`request.resource.resource == "serviceaccounts" && object.metadata.name == "default"))`,
}

// countRules send the webhook every create of the counted kinds, one rule
// per API group, at every version (a count is of objects, whichever
// version made them).
func countRules(counted []schema.GroupResource) []admissionregistrationv1.RuleWithOperations {
	var out []admissionregistrationv1.RuleWithOperations
	byGroup := map[string]int{}
	for _, gr := range counted {
		i, ok := byGroup[gr.Group]
		if !ok {
			i = len(out)
			byGroup[gr.Group] = i
			out = append(out, admissionregistrationv1.RuleWithOperations{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{gr.Group}, APIVersions: []string{"*"},
					Scope: ptr.To(admissionregistrationv1.NamespacedScope),
				},
			})
		}
		out[i].Resources = append(out[i].Resources, gr.Resource)
	}
	return out
}

// asMutating converts a webhook's shared fields to a mutating webhook.
func asMutating(v admissionregistrationv1.ValidatingWebhook) admissionregistrationv1.MutatingWebhook {
	return admissionregistrationv1.MutatingWebhook{
		Name: v.Name, ClientConfig: v.ClientConfig, Rules: v.Rules,
		FailurePolicy: v.FailurePolicy, MatchPolicy: v.MatchPolicy,
		NamespaceSelector: v.NamespaceSelector, ObjectSelector: v.ObjectSelector, MatchConditions: v.MatchConditions,
		SideEffects: v.SideEffects, TimeoutSeconds: v.TimeoutSeconds, AdmissionReviewVersions: v.AdmissionReviewVersions,
		// Another mutating webhook could drop the tenant label after ours ran;
		// being called again puts it back.
		ReinvocationPolicy: ptr.To(admissionregistrationv1.IfNeededReinvocationPolicy),
	}
}

// ingressWebhook refuses a hostname another tenant serves, by an Ingress or
// by a Gateway API route or listener (see package ingress). The Gateway
// API's rule is at v1: requests at another version are converted.
func ingressWebhook(e Endpoint, caBundle []byte, s render.Settings) admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name:         "ingresses.tenancy.bulkhead.dev",
		ClientConfig: e.clientConfig(ingress.Path, caBundle),
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"ingresses"},
				Scope: ptr.To(admissionregistrationv1.NamespacedScope),
			},
		}, {
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{render.GatewayGroup}, APIVersions: []string{"v1"},
				Resources: []string{"gateways", "listenersets", "httproutes", "grpcroutes", "tlsroutes"},
				Scope:     ptr.To(admissionregistrationv1.NamespacedScope),
			},
		}},
		FailurePolicy:     ptr.To(admissionregistrationv1.Fail),
		MatchPolicy:       ptr.To(admissionregistrationv1.Equivalent),
		NamespaceSelector: tenantNamespaces(),
		MatchConditions:   matchConditions(s),
		// It writes HostnameClaims, except on dry runs.
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNoneOnDryRun),
		TimeoutSeconds:          ptr.To[int32](10),
		AdmissionReviewVersions: []string{"v1"},
	}
}

// tenantNamespaces selects every namespace of a tenant.
func tenantNamespaces() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: tenancyv1alpha1.TenantLabel, Operator: metav1.LabelSelectorOpExists,
	}}}
}

// grantsWebhook judges the tenants' ReferenceGrants (see package grants).
func grantsWebhook(e Endpoint, caBundle []byte, s render.Settings) admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name:         "referencegrants.tenancy.bulkhead.dev",
		ClientConfig: e.clientConfig(grants.Path, caBundle),
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{render.GatewayGroup}, APIVersions: []string{"*"}, Resources: []string{"referencegrants"},
				Scope: ptr.To(admissionregistrationv1.NamespacedScope),
			},
		}},
		FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
		MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
		NamespaceSelector:       tenantNamespaces(),
		MatchConditions:         matchConditions(s),
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		TimeoutSeconds:          ptr.To[int32](5),
		AdmissionReviewVersions: []string{"v1"},
	}
}

// volumesWebhook judges claims that name an existing volume (see package
// volumes); a match condition keeps every other claim away from it.
func volumesWebhook(e Endpoint, caBundle []byte, s render.Settings) admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name:         "volumes.tenancy.bulkhead.dev",
		ClientConfig: e.clientConfig(volumes.Path, caBundle),
		// Claims naming a volume at creation, or given one by an update
		// (allowed once while unbound), by anyone but the volume binder:
		// claims that controllers make from StatefulSet and ephemeral
		// volume templates are judged too.
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"persistentvolumeclaims"},
				Scope: ptr.To(admissionregistrationv1.NamespacedScope),
			},
		}},
		FailurePolicy:     ptr.To(admissionregistrationv1.Fail),
		MatchPolicy:       ptr.To(admissionregistrationv1.Equivalent),
		NamespaceSelector: tenantNamespaces(),
		MatchConditions: append(notBulkheadOrAdmin(s), admissionregistrationv1.MatchCondition{
			Name: "not-the-volume-binder",
			Expression: "request.userInfo.username != 'system:serviceaccount:kube-system:persistent-volume-binder' && " +
				"request.userInfo.username != 'system:kube-controller-manager'",
		}, admissionregistrationv1.MatchCondition{
			Name: "names-a-volume",
			Expression: "has(object.spec.volumeName) && object.spec.volumeName != '' && (request.operation == 'CREATE' || " +
				"!has(oldObject.spec.volumeName) || oldObject.spec.volumeName != object.spec.volumeName)",
		}),
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		TimeoutSeconds:          ptr.To[int32](5),
		AdmissionReviewVersions: []string{"v1"},
	}
}

// tenantsWebhook refuses a new Tenant whose name prefix would take existing
// namespaces, system ones included (see package tenants). It is the one
// webhook without matchConditions: every other one skips cluster admins so
// that it can never block them, but cluster admins are who create Tenants,
// so this one must see them. Its rule alone keeps it harmless: Tenant
// CREATE only (a Tenant's name cannot change, so UPDATE has nothing to
// check), which nothing in the control plane does. It fails closed: while
// Bulkhead is down a new Tenant would get nothing anyway, and one admitted
// unchecked could take names for good.
func tenantsWebhook(e Endpoint, caBundle []byte) admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name:         "tenants.tenancy.bulkhead.dev",
		ClientConfig: e.clientConfig(tenants.Path, caBundle),
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{tenancyv1alpha1.GroupVersion.Group}, APIVersions: []string{"*"}, Resources: []string{"tenants"},
				Scope: ptr.To(admissionregistrationv1.ClusterScope),
			},
		}},
		FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
		MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		TimeoutSeconds:          ptr.To[int32](10),
		AdmissionReviewVersions: []string{"v1"},
	}
}

// defaultsWebhook serves the tenant's pod and ServiceAccount defaults where
// the API server lacks MutatingAdmissionPolicy. It must see every pod of a
// tenant namespace, the controllers' included, so it has no matchConditions;
// it fails open because the validating policies refuse whatever a missing
// default leaves open (see package defaults).
func defaultsWebhook(e Endpoint, caBundle []byte) admissionregistrationv1.MutatingWebhook {
	return admissionregistrationv1.MutatingWebhook{
		Name:         "defaults.tenancy.bulkhead.dev",
		ClientConfig: e.clientConfig(defaults.Path, caBundle),
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods", "serviceaccounts"},
				Scope: ptr.To(admissionregistrationv1.NamespacedScope),
			},
		}},
		FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
		MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
		NamespaceSelector:       tenantNamespaces(),
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		TimeoutSeconds:          ptr.To[int32](5),
		AdmissionReviewVersions: []string{"v1"},
		ReinvocationPolicy:      ptr.To(admissionregistrationv1.NeverReinvocationPolicy),
	}
}

// Configurations renders the webhook configurations: a mutating webhook that
// assigns new namespaces to their tenant, and a validating webhook that
// guards the reserved labels of existing ones, charges tenant-wide quota
// (pods, claims, and the kinds in counted), and refuses new Tenants whose
// prefix would take existing namespaces. With fallback (the API server lacks
// MutatingAdmissionPolicy) the mutating configuration also serves the
// tenants' pod defaults.
func Configurations(e Endpoint, caBundle []byte, s render.Settings, fallback bool, counted []schema.GroupResource) (*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration) {
	meta := metav1.ObjectMeta{Name: ConfigurationName, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}}
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: *meta.DeepCopy(),
		Webhooks:   []admissionregistrationv1.MutatingWebhook{asMutating(namespaceWebhook(e, namespace.MutatePath, admissionregistrationv1.Create, caBundle, s))},
	}
	if fallback {
		mutating.Webhooks = append(mutating.Webhooks, defaultsWebhook(e, caBundle))
	}
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: meta,
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			namespaceWebhook(e, namespace.ValidatePath, admissionregistrationv1.Update, caBundle, s),
			quotaWebhook(e, caBundle, s, counted),
			ingressWebhook(e, caBundle, s),
			grantsWebhook(e, caBundle, s),
			volumesWebhook(e, caBundle, s),
			tenantsWebhook(e, caBundle),
		},
	}
	return mutating, validating
}
