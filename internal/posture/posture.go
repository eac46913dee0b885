// Package posture checks, from what the API server exposes, whether a
// cluster is safe to share among tenants: what Bulkhead cannot enforce
// itself but relies on. Each check runs a named probe and says, when the
// answer is not PASS, what to do. Nothing is left behind: probes are
// server-side dry runs, reads, and one Secret written and deleted at once.
//
// Results: PASS; FAIL (unsafe, with the fix); WARN (safe as things stand,
// but one step from unsafe); N/A (nothing to check, such as no nodes);
// ERROR (the probe could not tell).
package posture

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/audit"
	"github.com/bulkhead-dev/bulkhead/internal/discovery"
)

// Status is a check's outcome, as the audit's checks have them, and WARN.
type Status = audit.Status

// Outcomes of a check.
const (
	Pass  = audit.Pass
	Fail  = audit.Fail
	NA    = audit.NotApplicable
	Error = audit.Error
	// Warn is safe as things stand, but one step from unsafe.
	Warn Status = "WARN"
)

// Result is one check's answer.
type Result struct {
	ID       string `json:"id"`
	Check    string `json:"check"`
	Status   Status `json:"status"`
	Probe    string `json:"probe"`
	Evidence string `json:"evidence"`
	// Fix says what to do; empty on PASS and N/A.
	Fix string `json:"fix,omitempty"`
}

// Prober runs the checks as a cluster admin.
type Prober struct {
	// Config reaches the API server as a cluster admin.
	Config *rest.Config
	// Client is a client of Config.
	Client client.Client
	// Namespace is where the encryption probe writes its Secret
	// (Bulkhead's own namespace).
	Namespace string
	// SandboxRuntimeClass is the RuntimeClass Hard tenants run in.
	SandboxRuntimeClass string
	// SystemNamespace is a namespace Bulkhead's webhooks must never block
	// (kube-system).
	SystemNamespace string
	// NoImpersonation skips the one probe that impersonates a node
	// (NodeRestriction): the manager runs the checks as itself and is not
	// given the right to act as nodes.
	NoImpersonation bool
}

// Run runs every check, in order.
func (p *Prober) Run(ctx context.Context) []Result {
	// The API server's /metrics is large: read twice in all, around the
	// encryption probe, and the audit check reads the second.
	encryption, families := p.encryption(ctx)
	return []Result{
		encryption,
		p.audit(families),
		p.anonymous(ctx),
		p.podSecurity(ctx),
		p.policiesServed(),
		p.nodeRestriction(ctx),
		p.sandbox(ctx),
		p.userNamespaces(ctx),
		p.webhooks(ctx),
	}
}

type (
	dtoFamily = dto.MetricFamily
	dtoMetric = dto.Metric
)

// metrics reads the API server's Prometheus metrics.
func (p *Prober) metrics(ctx context.Context) (map[string]*dtoFamily, error) {
	hc, err := rest.HTTPClientFor(p.Config)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(p.Config.Host, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing /metrics: %w", err)
	}
	return families, nil
}

// encrypted sums the to-storage transformations of the API server through
// a provider other than identity.
func encrypted(families map[string]*dtoFamily) float64 {
	total := 0.0
	for _, m := range families["apiserver_storage_transformation_operations_total"].GetMetric() {
		l := labelsOf(m)
		if l["transformation_type"] != "to_storage" || l["status"] != "OK" || l["transformer_prefix"] == "" || l["transformer_prefix"] == "identity" {
			continue
		}
		total += m.GetCounter().GetValue()
	}
	return total
}

// encryption writes a Secret and looks for it in the API server's storage
// transformation metrics: an encrypting provider counts it.
func (p *Prober) encryption(ctx context.Context) (Result, map[string]*dtoFamily) {
	r := Result{ID: "encryption-at-rest", Check: "Secrets are encrypted at rest",
		Probe: "write a Secret in " + p.Namespace + ", compare apiserver_storage_transformation_operations_total{transformation_type=to_storage} by provider before and after"}
	before, err := p.metrics(ctx)
	if err != nil {
		return errored(r, err), nil
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: "bulkhead-posture-" + hex.EncodeToString(suffix)}, StringData: map[string]string{"probe": "x"}}
	if err := p.Client.Create(ctx, s); err != nil {
		return errored(r, fmt.Errorf("writing the probe Secret: %w", err)), before
	}
	_ = p.Client.Delete(ctx, s)
	after, err := p.metrics(ctx)
	if err != nil {
		return errored(r, err), nil
	}
	if encrypted(after) > encrypted(before) {
		r.Status, r.Evidence = Pass, "the probe Secret was written through an encrypting provider ("+providers(after)+")"
		return r, after
	}
	r.Status = Fail
	r.Evidence = "the probe Secret was stored without an encrypting provider (providers seen: " + providers(after) + ")"
	r.Fix = "Start kube-apiserver with --encryption-provider-config naming an encrypting provider (kms v2, aesgcm or aescbc) first for secrets, then rewrite existing Secrets (kubectl get secrets -A -o json | kubectl replace -f -)"
	return r, after
}

func providers(families map[string]*dtoFamily) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range families["apiserver_storage_transformation_operations_total"].GetMetric() {
		if prefix := labelsOf(m)["transformer_prefix"]; !seen[prefix] {
			seen[prefix] = true
			out = append(out, prefix)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// audit reads the API server's audit event counter from families (nil
// when /metrics could not be read).
func (p *Prober) audit(families map[string]*dtoFamily) Result {
	r := Result{ID: "audit-log", Check: "the API server writes an audit log", Probe: "apiserver_audit_event_total in the API server's /metrics"}
	if families == nil {
		return errored(r, fmt.Errorf("the API server's /metrics could not be read (see encryption-at-rest)"))
	}
	total := 0.0
	for _, m := range families["apiserver_audit_event_total"].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	if total > 0 {
		r.Status, r.Evidence = Pass, fmt.Sprintf("%.0f audit events recorded", total)
		return r
	}
	r.Status, r.Evidence = Fail, "no audit event recorded"
	r.Fix = "Start kube-apiserver with --audit-policy-file and --audit-log-path (or --audit-webhook-config-file): without a record, a tenant's attempt on another leaves no trace"
	return r
}

// anonymous sends a request without credentials.
func (p *Prober) anonymous(ctx context.Context) Result {
	r := Result{ID: "anonymous-access", Check: "anonymous requests are refused", Probe: "GET /api/v1/namespaces without credentials"}
	cfg := rest.AnonymousClientConfig(p.Config)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return errored(r, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/api/v1/namespaces", nil)
	if err != nil {
		return errored(r, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return errored(r, err)
	}
	_ = resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		r.Status, r.Evidence = Pass, "401 Unauthorized: anonymous authentication is off"
	case http.StatusForbidden:
		r.Status, r.Evidence = Warn, "403 Forbidden: anonymous requests are authenticated as system:anonymous and refused by authorization"
		r.Fix = "Run kube-apiserver with --anonymous-auth=false, or an AuthenticationConfiguration whose anonymous block allows only the health endpoints: one RoleBinding to system:unauthenticated would open the API to anyone"
	default:
		r.Status, r.Evidence = Fail, fmt.Sprintf("%d: an anonymous request was served", resp.StatusCode)
		r.Fix = "Remove every binding to system:anonymous and system:unauthenticated, and run kube-apiserver with --anonymous-auth=false"
	}
	return r
}

// podSecurity asks the PodSecurity admission plugin to judge a namespace
// label it must refuse.
func (p *Prober) podSecurity(ctx context.Context) Result {
	r := Result{ID: "pod-security", Check: "the PodSecurity admission plugin is on",
		Probe: "dry-run create a namespace labelled pod-security.kubernetes.io/enforce=not-a-level"}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bulkhead-posture-probe", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "not-a-level"}}}
	err := p.Client.Create(ctx, ns, client.DryRunAll)
	switch {
	case err == nil:
		r.Status, r.Evidence = Fail, "the invalid level was admitted: PodSecurity does not judge namespaces"
		r.Fix = "Enable the PodSecurity admission plugin (on by default; check --disable-admission-plugins): Bulkhead's profiles set Pod Security levels on tenant namespaces and rely on it"
	case strings.Contains(err.Error(), "pod-security.kubernetes.io/enforce"):
		r.Status, r.Evidence = Pass, "refused: "+firstLine(err.Error())
	default:
		return errored(r, err)
	}
	return r
}

// policiesServed reads discovery for the admission policy kinds.
func (p *Prober) policiesServed() Result {
	r := Result{ID: "admission-policies", Check: "ValidatingAdmissionPolicy and MutatingAdmissionPolicy are served",
		Probe: "discovery of admissionregistration.k8s.io/v1"}
	mapper := p.Client.RESTMapper()
	vap, err := discovery.Served(mapper, admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingAdmissionPolicy"))
	if err != nil {
		return errored(r, err)
	}
	mapServed, err := discovery.MutatingPoliciesServed(mapper)
	if err != nil {
		return errored(r, err)
	}
	switch {
	case !vap:
		r.Status, r.Evidence = Fail, "ValidatingAdmissionPolicy is not served"
		r.Fix = "Run Kubernetes 1.30 or later: Bulkhead's isolation rules are ValidatingAdmissionPolicies"
	case !mapServed:
		r.Status, r.Evidence = Warn, "ValidatingAdmissionPolicy is served; MutatingAdmissionPolicy is not, so the tenants' defaults come from Bulkhead's webhook"
		r.Fix = "On 1.34 and 1.35 enable the MutatingAdmissionPolicy feature gate and admissionregistration.k8s.io/v1beta1 (GA in 1.36), so defaults do not depend on the manager being up"
	default:
		r.Status, r.Evidence = Pass, "both served"
	}
	return r
}

// nodeRestriction has a node try to give itself a label NodeRestriction
// reserves, as a dry run.
func (p *Prober) nodeRestriction(ctx context.Context) Result {
	r := Result{ID: "node-restriction", Check: "the NodeRestriction admission plugin is on",
		Probe: "as system:node:<name>, dry-run patch the node's own label node-restriction.kubernetes.io/bulkhead-probe"}
	if p.NoImpersonation {
		r.Status, r.Evidence = NA, "not probed: it impersonates a node, which the manager may not; kubectl bulkhead posture runs it"
		return r
	}
	nodes := &corev1.NodeList{}
	if err := p.Client.List(ctx, nodes, client.Limit(1)); err != nil {
		return errored(r, err)
	}
	if len(nodes.Items) == 0 {
		r.Status, r.Evidence = NA, "no nodes to probe as"
		return r
	}
	name := nodes.Items[0].Name
	r.Probe = strings.Replace(r.Probe, "<name>", name, 1)
	cfg := rest.CopyConfig(p.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:node:" + name, Groups: []string{"system:nodes", "system:authenticated"}}
	as, err := client.New(cfg, client.Options{Scheme: p.Client.Scheme(), Mapper: p.Client.RESTMapper()})
	if err != nil {
		return errored(r, err)
	}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"node-restriction.kubernetes.io/bulkhead-probe":"x"}}}`))
	err = as.Patch(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, patch, client.DryRunAll)
	switch {
	case err == nil:
		r.Status, r.Evidence = Fail, "node "+name+" may label itself node-restriction.kubernetes.io/*: NodeRestriction is off"
		r.Fix = "Enable the NodeRestriction admission plugin (--enable-admission-plugins=NodeRestriction) and the Node authorizer: otherwise a compromised node can relabel itself into another tenant's node pool"
	case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "node-restriction.kubernetes.io"):
		r.Status, r.Evidence = Pass, "refused: "+firstLine(err.Error())
	case apierrors.IsForbidden(err):
		r.Status, r.Evidence = Warn, "refused by authorization before admission, so NodeRestriction was not reached: "+firstLine(err.Error())
		r.Fix = "Use --authorization-mode=Node,RBAC, which lets nodes write their own Node object and so lets NodeRestriction be observed"
	default:
		return errored(r, err)
	}
	return r
}

// sandbox looks up the RuntimeClass Hard tenants need.
func (p *Prober) sandbox(ctx context.Context) Result {
	r := Result{ID: "sandbox-runtimeclass", Check: "the sandbox RuntimeClass Hard tenants need exists",
		Probe: "get RuntimeClass " + p.SandboxRuntimeClass}
	rc := &nodev1.RuntimeClass{}
	err := p.Client.Get(ctx, client.ObjectKey{Name: p.SandboxRuntimeClass}, rc)
	switch {
	case err == nil:
		r.Status, r.Evidence = Pass, "RuntimeClass "+rc.Name+" (handler "+rc.Handler+")"
	case apierrors.IsNotFound(err):
		r.Status, r.Evidence = Fail, "RuntimeClass "+p.SandboxRuntimeClass+" does not exist: every pod of a Hard tenant is refused"
		r.Fix = "Install a sandbox runtime (gVisor, Kata) on the nodes Hard tenants use and create its RuntimeClass, or start bulkhead-manager with --sandbox-runtime-class naming yours"
	default:
		return errored(r, err)
	}
	return r
}

// userNamespaces reads the nodes' runtime handler features.
func (p *Prober) userNamespaces(ctx context.Context) Result {
	r := Result{ID: "user-namespaces", Check: "nodes run pods in user namespaces", Probe: "Node status.runtimeHandlers[].features.userNamespaces"}
	nodes := &corev1.NodeList{}
	if err := p.Client.List(ctx, nodes); err != nil {
		return errored(r, err)
	}
	if len(nodes.Items) == 0 {
		r.Status, r.Evidence = NA, "no nodes"
		return r
	}
	var with []string
	for _, n := range nodes.Items {
		for _, h := range n.Status.RuntimeHandlers {
			if h.Features != nil && h.Features.UserNamespaces != nil && *h.Features.UserNamespaces {
				with = append(with, n.Name)
				break
			}
		}
	}
	if len(with) > 0 {
		r.Status, r.Evidence = Pass, fmt.Sprintf("%d of %d nodes (%s)", len(with), len(nodes.Items), strings.Join(first(with, 5), ", "))
		return r
	}
	r.Status, r.Evidence = Warn, fmt.Sprintf("none of %d nodes reports user namespace support", len(nodes.Items))
	r.Fix = "Run a container runtime and kernel that support user namespaces (containerd 2 or CRI-O 1.25+, Linux 6.3+): Hard tenants' pods require hostUsers: false and will not start elsewhere"
	return r
}

// webhooks checks that none of Bulkhead's webhooks is sent the requests
// of a system namespace: it could block the control plane.
func (p *Prober) webhooks(ctx context.Context) Result {
	r := Result{ID: "webhooks-spare-system", Check: "Bulkhead's webhooks cannot block system namespaces",
		Probe: "match each webhook of the bulkhead configurations against namespace " + p.SystemNamespace}
	sys := &corev1.Namespace{}
	if err := p.Client.Get(ctx, client.ObjectKey{Name: p.SystemNamespace}, sys); err != nil {
		return errored(r, err)
	}
	v := &admissionregistrationv1.ValidatingWebhookConfigurationList{}
	m := &admissionregistrationv1.MutatingWebhookConfigurationList{}
	if err := p.Client.List(ctx, v, client.MatchingLabels{"app.kubernetes.io/managed-by": "bulkhead"}); err != nil {
		return errored(r, err)
	}
	if err := p.Client.List(ctx, m, client.MatchingLabels{"app.kubernetes.io/managed-by": "bulkhead"}); err != nil {
		return errored(r, err)
	}
	var hooks []hook
	for _, c := range v.Items {
		for _, w := range c.Webhooks {
			hooks = append(hooks, hook{w.Name, w.Rules, w.NamespaceSelector, w.MatchConditions})
		}
	}
	for _, c := range m.Items {
		for _, w := range c.Webhooks {
			hooks = append(hooks, hook{w.Name, w.Rules, w.NamespaceSelector, w.MatchConditions})
		}
	}
	if len(hooks) == 0 {
		r.Status, r.Evidence = NA, "no Bulkhead webhook configuration"
		return r
	}
	var open []string
	for _, h := range hooks {
		if !h.spares(sys) {
			open = append(open, h.name)
		}
	}
	if len(open) > 0 {
		r.Status, r.Evidence = Fail, "sent requests of "+p.SystemNamespace+": "+strings.Join(open, ", ")
		r.Fix = "Let the manager rewrite its webhook configurations (it restores them within seconds; check ClusterObjectsReady on any Tenant), and keep " + p.SystemNamespace + " in --system-namespaces"
		return r
	}
	r.Status, r.Evidence = Pass, fmt.Sprintf("%d webhooks, none sent %s's requests", len(hooks), p.SystemNamespace)
	return r
}

type hook struct {
	name       string
	rules      []admissionregistrationv1.RuleWithOperations
	selector   *metav1.LabelSelector
	conditions []admissionregistrationv1.MatchCondition
}

// spares reports whether h never sees requests in, or for, namespace sys:
// its namespaceSelector does not select it, or its rules are for Tenants
// only, or a match condition keeps system namespaces away by name.
func (h hook) spares(sys *corev1.Namespace) bool {
	if h.selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(h.selector)
		if err == nil && !sel.Empty() && !sel.Matches(labels.Set(sys.Labels)) {
			return true
		}
	}
	for _, c := range h.conditions {
		if c.Name == "not-a-system-namespace" {
			return true
		}
	}
	for _, rule := range h.rules {
		for _, g := range rule.APIGroups {
			if g != "tenancy.bulkhead.dev" {
				return false
			}
		}
	}
	return true
}

func labelsOf(m *dtoMetric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func errored(r Result, err error) Result {
	r.Status, r.Evidence = Error, firstLine(err.Error())
	r.Fix = "Run the check as a cluster admin; the evidence says what failed"
	return r
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
