package webhook

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// TestMatchConditionsKeepAdminsAndControlPlaneAway evaluates the webhook's
// matchConditions, as the API server would, for the identities that must
// never wait on Bulkhead and for those that must always be checked.
func TestMatchConditionsKeepAdminsAndControlPlaneAway(t *testing.T) {
	s := render.DefaultSettings()
	env, err := cel.NewEnv(cel.Variable("request", cel.DynType))
	if err != nil {
		t.Fatal(err)
	}
	var programs []cel.Program
	for _, mc := range matchConditions(s) {
		ast, iss := env.Compile(mc.Expression)
		if iss.Err() != nil {
			t.Fatalf("condition %s does not compile: %v", mc.Name, iss.Err())
		}
		prg, err := env.Program(ast)
		if err != nil {
			t.Fatal(err)
		}
		programs = append(programs, prg)
	}
	sent := func(user string, groups ...string) bool {
		anyGroups := make([]any, len(groups))
		for i, g := range groups {
			anyGroups[i] = g
		}
		req := map[string]any{"userInfo": map[string]any{"username": user, "groups": anyGroups}}
		for _, p := range programs {
			out, _, err := p.Eval(map[string]any{"request": req})
			if err != nil {
				t.Fatalf("evaluating for %s: %v", user, err)
			}
			if out.Value() != true {
				return false
			}
		}
		return true
	}
	for _, tc := range []struct {
		user   string
		groups []string
		want   bool
	}{
		{"alice", []string{"system:authenticated"}, true},
		{"system:serviceaccount:acme-ci:deployer", []string{"system:serviceaccounts"}, true},
		{"root", []string{"system:masters", "system:authenticated"}, false},
		{"system:kube-controller-manager", nil, false},
		{"system:serviceaccount:kube-system:namespace-controller", nil, false},
		{"system:serviceaccount:bulkhead-system:bulkhead-manager", nil, false},
	} {
		if got := sent(tc.user, tc.groups...); got != tc.want {
			t.Errorf("%s %v: sent to webhook = %v, want %v", tc.user, tc.groups, got, tc.want)
		}
	}
}

func TestConfigurationsShareScope(t *testing.T) {
	s := render.DefaultSettings()
	m, v := Configurations(Endpoint{URL: "https://localhost:9443"}, []byte("ca"), s, false, nil)
	mw, vw := m.Webhooks[0], v.Webhooks[0]
	if *mw.ClientConfig.URL != "https://localhost:9443/namespaces/mutate" || *vw.ClientConfig.URL != "https://localhost:9443/namespaces/validate" {
		t.Errorf("URLs = %s, %s", *mw.ClientConfig.URL, *vw.ClientConfig.URL)
	}
	if string(mw.ClientConfig.CABundle) != "ca" || string(vw.ClientConfig.CABundle) != "ca" {
		t.Error("CA bundle not injected")
	}
	if mw.Rules[0].Operations[0] != "CREATE" || vw.Rules[0].Operations[0] != "UPDATE" {
		t.Errorf("operations = %v, %v", mw.Rules[0].Operations, vw.Rules[0].Operations)
	}
	// System namespaces are skipped by name, never by labels a request
	// carries (a forged kubernetes.io/metadata.name on a generateName create).
	for name, wh := range map[string]struct {
		sel   *metav1.LabelSelector
		conds []admissionregistrationv1.MatchCondition
	}{"mutating": {mw.NamespaceSelector, mw.MatchConditions}, "validating": {vw.NamespaceSelector, vw.MatchConditions}} {
		if wh.sel != nil {
			t.Errorf("%s webhook has namespace selector %+v; a request's own labels must not decide whether it is judged", name, wh.sel)
		}
		var cond string
		for _, c := range wh.conds {
			if c.Name == "not-a-system-namespace" {
				cond = c.Expression
			}
		}
		for _, sys := range s.SystemNamespaces {
			if !strings.Contains(cond, "'"+sys+"'") {
				t.Errorf("%s webhook: system namespace %s is not excluded (%q)", name, sys, cond)
			}
		}
	}
	svc, _ := Configurations(Endpoint{ServiceNamespace: "bulkhead-system", ServiceName: "bulkhead-webhook", ServicePort: 443}, nil, s, false, nil)
	if ref := svc.Webhooks[0].ClientConfig.Service; ref == nil || ref.Name != "bulkhead-webhook" || *ref.Path != "/namespaces/mutate" {
		t.Errorf("service reference = %+v", ref)
	}
}

// TestTenantsWebhookSeesAdmins: the Tenant webhook must judge cluster
// admins, who create Tenants, so it has no matchConditions; its rule alone
// keeps it away from everything else, and it fails closed.
func TestTenantsWebhookSeesAdmins(t *testing.T) {
	_, v := Configurations(Endpoint{URL: "https://localhost:9443"}, []byte("ca"), render.DefaultSettings(), false, nil)
	var found *admissionregistrationv1.ValidatingWebhook
	for i := range v.Webhooks {
		if v.Webhooks[i].Name == "tenants.tenancy.bulkhead.dev" {
			found = &v.Webhooks[i]
		}
	}
	if found == nil {
		t.Fatal("no tenants webhook")
	}
	if len(found.MatchConditions) != 0 {
		t.Errorf("match conditions %v: they would skip the cluster admins who create Tenants", found.MatchConditions)
	}
	if *found.FailurePolicy != admissionregistrationv1.Fail {
		t.Errorf("failure policy %s, want Fail", *found.FailurePolicy)
	}
	if *found.ClientConfig.URL != "https://localhost:9443/tenants/validate" {
		t.Errorf("URL %s", *found.ClientConfig.URL)
	}
	want := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule: admissionregistrationv1.Rule{APIGroups: []string{"tenancy.bulkhead.dev"}, APIVersions: []string{"*"}, Resources: []string{"tenants"},
			Scope: ptr.To(admissionregistrationv1.ClusterScope)},
	}}
	if diff := cmp.Diff(want, found.Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}

// TestQuotaWebhookIsSentOnlyCountedKinds: the kinds Tenants count become
// the quota webhook's rules, by group, creates only; no rule ever names
// every resource or group.
func TestQuotaWebhookIsSentOnlyCountedKinds(t *testing.T) {
	counted := []schema.GroupResource{{Resource: "configmaps"}, {Group: "example.com", Resource: "gadgets"}, {Group: "example.com", Resource: "widgets"}}
	_, v := Configurations(Endpoint{URL: "https://localhost:9443"}, []byte("ca"), render.DefaultSettings(), false, counted)
	var quota *admissionregistrationv1.ValidatingWebhook
	for i := range v.Webhooks {
		for _, r := range v.Webhooks[i].Rules {
			if slices.Contains(r.Resources, "*") || slices.Contains(r.APIGroups, "*") {
				t.Errorf("webhook %s has a rule for every kind: %+v", v.Webhooks[i].Name, r)
			}
		}
		if v.Webhooks[i].Name == "quota.tenancy.bulkhead.dev" {
			quota = &v.Webhooks[i]
		}
	}
	if quota == nil {
		t.Fatal("no quota webhook")
	}
	got := map[string][]string{}
	for _, r := range quota.Rules[2:] {
		if len(r.Operations) != 1 || r.Operations[0] != admissionregistrationv1.Create || *r.Scope != admissionregistrationv1.NamespacedScope {
			t.Errorf("count rule %+v: want namespaced creates only", r)
		}
		got[strings.Join(r.APIGroups, ",")] = r.Resources
	}
	want := map[string][]string{"": {"configmaps"}, "example.com": {"gadgets", "widgets"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("count rules = %v, want %v", got, want)
	}
	_, none := Configurations(Endpoint{URL: "https://localhost:9443"}, []byte("ca"), render.DefaultSettings(), false, nil)
	for _, w := range none.Webhooks {
		if w.Name == "quota.tenancy.bulkhead.dev" && len(w.Rules) != 2 {
			t.Fatalf("with nothing counted the quota webhook has %d rules, want the 2 for pods and claims", len(w.Rules))
		}
	}
}
