package namespace

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func nsObj(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func generated(generateName string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: generateName, Labels: labels}}
}

func annotated(ns *corev1.Namespace, annotations map[string]string) *corev1.Namespace {
	ns.Annotations = annotations
	return ns
}

// denial is what a refusal must say: whose tenant (or which namespace, when
// the caller owns none), which rule, how to fix it, and any detail.
type denial struct {
	tenant, rule, fix string
	detail            []string
}

func (w denial) check(t *testing.T, d Decision) {
	t.Helper()
	if d.Allowed {
		t.Fatalf("allowed, want a denial by rule %s", w.rule)
	}
	want := append([]string{"[rule " + w.rule + "]. " + w.fix}, w.detail...)
	if w.tenant != "" {
		want = append(want, "tenant "+w.tenant+": ")
		if !strings.HasPrefix(d.Message, "tenant "+w.tenant+": ") {
			t.Errorf("message %q does not start with the tenant %s", d.Message, w.tenant)
		}
	}
	for _, s := range want {
		if !strings.Contains(d.Message, s) {
			t.Errorf("message %q lacks %q", d.Message, s)
		}
	}
}

func createTenants() []tenancyv1alpha1.Tenant {
	return []tenancyv1alpha1.Tenant{
		*testutil.Tenant("acme").Owner("alice").Group("platform").Max(2).Obj(),
		*testutil.Tenant("globex").Owner("carol").Group("platform").Hard().
			Labels(map[string]string{"cost": "1", "app.kubernetes.io/part-of": "globex"}).
			Annotations(map[string]string{"example.com/contact": "ops@globex.example"}).Obj(),
		*testutil.Tenant("free").Owner("frank").RequirePrefix(false).Obj(),
		// a and a-b: the names "a-b-..." are a-b's, though they start with "a-".
		*testutil.Tenant("a").Owner("anna").Obj(),
		*testutil.Tenant("a-b").Owner("bert").Obj(),
		*testutil.Tenant("a-free").Owner("anna-free").RequirePrefix(false).Obj(),
		*testutil.Tenant("gone").Owner("gina").Deleting().Obj(),
		*testutil.Tenant("frost").Owner("fay").Frozen("ops-oncall").Obj(),
	}
}

func TestDecideCreate(t *testing.T) {
	s := render.DefaultSettings()
	tenants := createTenants()
	for _, tc := range []struct {
		name       string
		ns         *corev1.Namespace
		caller     Caller
		inUse      map[string]int
		deny       *denial
		wantLevel  string
		wantTenant string
	}{
		{name: "owner gets a namespace of their tenant", ns: nsObj("acme-dev", nil), caller: Caller{User: "alice"}, wantLevel: "baseline", wantTenant: "acme"},
		{name: "Hard tenant namespace is restricted", ns: nsObj("globex-dev", map[string]string{tenancyv1alpha1.TenantLabel: "globex"}),
			caller: Caller{User: "carol"}, wantLevel: "restricted", wantTenant: "globex"},
		{name: "prefix not required", ns: nsObj("anything", nil), caller: Caller{User: "frank"}, wantLevel: "baseline", wantTenant: "free"},
		{name: "an ordinary label is the tenant's to set", ns: nsObj("acme-web", map[string]string{"team": "web", "example.com/tier": "1"}),
			caller: Caller{User: "alice"}, wantLevel: "baseline", wantTenant: "acme"},
		{name: "kubernetes.io/metadata.name equal to the name", ns: nsObj("acme-md", map[string]string{corev1.LabelMetadataName: "acme-md"}),
			caller: Caller{User: "alice"}, wantLevel: "baseline", wantTenant: "acme"},
		{name: "kubectl's last-applied annotation", ns: annotated(nsObj("acme-kc", nil), map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}),
			caller: Caller{User: "alice"}, wantLevel: "baseline", wantTenant: "acme"},
		{name: "a copy of an existing namespace's stamped labels", caller: Caller{User: "carol"}, wantLevel: "restricted", wantTenant: "globex",
			ns: annotated(nsObj("globex-copy", render.Namespace(render.NewScope(&tenants[1], nil, s)).Labels), render.Namespace(render.NewScope(&tenants[1], nil, s)).Annotations)},

		{name: "limit reached", ns: nsObj("acme-c", nil), caller: Caller{User: "alice"}, inUse: map[string]int{"acme": 2},
			deny: &denial{tenant: "acme", rule: RuleMax, fix: "Delete a namespace, or ask a cluster admin to raise spec.namespaces.max", detail: []string{"namespaces.max is 2, 2 in use"}}},
		{name: "a kube- name without the prefix rule", ns: nsObj("kube-fake", nil), caller: Caller{User: "frank"},
			deny: &denial{tenant: "free", rule: RuleNames, fix: `Choose a name that does not start with "kube-"`, detail: []string{"kube- space"}}},
		{name: "wrong prefix", ns: nsObj("dev", nil), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleRequirePrefix, fix: `Try "acme-dev"`, detail: []string{`must start with "acme-"`}}},
		{name: "not an owner of anything", ns: nsObj("acme-x", nil), caller: Caller{User: "mallory"},
			deny: &denial{rule: RuleOwners, fix: "Ask a cluster admin", detail: []string{`namespace "acme-x": `, "not an owner of any tenant"}}},
		{name: "labelled for a tenant the caller does not own", ns: nsObj("globex-x", map[string]string{tenancyv1alpha1.TenantLabel: "globex"}), caller: Caller{User: "alice"},
			deny: &denial{tenant: "globex", rule: RuleOwners, fix: "Use a tenant you own (acme)"}},
		{name: "owner of several tenants must choose", ns: nsObj("acme-x", nil), caller: Caller{User: "pat", Groups: []string{"platform"}},
			deny: &denial{rule: RuleOwners, fix: "Say which with the label " + tenancyv1alpha1.TenantLabel + "=<tenant>", detail: []string{"several tenants (acme, globex)"}}},
		{name: "owner of several tenants who chooses", ns: nsObj("globex-x", map[string]string{tenancyv1alpha1.TenantLabel: "globex"}),
			caller: Caller{User: "pat", Groups: []string{"platform"}}, wantLevel: "restricted", wantTenant: "globex"},
		{name: "a tenant being deleted", ns: nsObj("gone-x", map[string]string{tenancyv1alpha1.TenantLabel: "gone"}), caller: Caller{User: "gina"},
			deny: &denial{tenant: "gone", rule: RuleDeleting, fix: "Create the namespace in another tenant"}},
		{name: "a frozen tenant", ns: nsObj("frost-x", nil), caller: Caller{User: "fay"},
			deny: &denial{tenant: "frost", rule: RuleState, fix: "A cluster admin unfreezes it by setting the Tenant's spec.state to Active", detail: []string{"frozen by ops-oncall"}}},

		// Item 3(a): reserved labels and annotations at creation.
		{name: "DRA admin access", ns: nsObj("acme-dra", map[string]string{"resource.kubernetes.io/admin-access": "true"}), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: "Remove the label; if the namespace needs it, ask a cluster admin",
				detail: []string{"resource.kubernetes.io/admin-access", "reserved for Kubernetes and cluster admins"}}},
		{name: "a forged Pod Security level", ns: nsObj("globex-y", map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}), caller: Caller{User: "carol"},
			deny: &denial{tenant: "globex", rule: RuleLabels, fix: "Remove the label, or give it the value Bulkhead sets",
				detail: []string{"pod-security.kubernetes.io/enforce=privileged", "pods.securityLevel", `"restricted"`}}},
		{name: "a Pod Security label Bulkhead does not set", ns: nsObj("acme-ex", map[string]string{"pod-security.kubernetes.io/exempt": "true"}), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: "Remove the label", detail: []string{"pods.securityLevel"}}},
		{name: "a Bulkhead label", ns: nsObj("acme-q", map[string]string{tenancyv1alpha1.TenantQuotaLabel: "true"}), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: "Remove the label", detail: []string{tenancyv1alpha1.TenantQuotaLabel, "written by Bulkhead only"}}},
		{name: "a label another tenant's allowFrom selects", ns: nsObj("acme-in", map[string]string{"monitoring.k8s.io/scrape": "true"}), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: "Remove the label", detail: []string{"monitoring.k8s.io/scrape"}}},
		{name: "Bulkhead's managed-by label", ns: nsObj("acme-mb", map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: "Remove the label", detail: []string{tenancyv1alpha1.ManagedByLabel}}},
		{name: "kubernetes.io/metadata.name naming another namespace", ns: nsObj("acme-md2", map[string]string{corev1.LabelMetadataName: "kube-system"}), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: "Remove the label", detail: []string{corev1.LabelMetadataName}}},
		{name: "a locked label with another value", ns: nsObj("globex-c", map[string]string{"cost": "0"}), caller: Caller{User: "carol"},
			deny: &denial{tenant: "globex", rule: RuleLabels, fix: "Remove the label, or give it the value Bulkhead sets", detail: []string{"cost=0", "locked by the tenant's namespaces.labels", `"1"`}}},
		{name: "a reserved label locked with another value", ns: nsObj("globex-p", map[string]string{"app.kubernetes.io/part-of": "acme"}), caller: Caller{User: "carol"},
			deny: &denial{tenant: "globex", rule: RuleLabels, fix: "Remove the label, or give it the value Bulkhead sets", detail: []string{"app.kubernetes.io/part-of=acme", `"globex"`}}},
		{name: "the node-selector annotation the API server applies to every pod",
			ns:     annotated(nsObj("acme-ns", nil), map[string]string{"scheduler.alpha.kubernetes.io/node-selector": "pool=gpu"}),
			caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleAnnotations, fix: "Remove the annotation; if the namespace needs it, ask a cluster admin",
				detail: []string{"scheduler.alpha.kubernetes.io/node-selector"}}},
		{name: "default tolerations", ns: annotated(nsObj("acme-tol", nil), map[string]string{"scheduler.alpha.kubernetes.io/defaultTolerations": "[]"}),
			caller: Caller{User: "alice"}, deny: &denial{tenant: "acme", rule: RuleAnnotations, fix: "Remove the annotation"}},
		{name: "a locked annotation with another value", ns: annotated(nsObj("globex-a", nil), map[string]string{"example.com/contact": "me"}),
			caller: Caller{User: "carol"}, deny: &denial{tenant: "globex", rule: RuleAnnotations, fix: "Remove the annotation, or give it the value Bulkhead sets", detail: []string{"namespaces.annotations"}}},

		// Item 4: the longest prefix owns the name.
		{name: "a takes a-b's name", ns: nsObj("a-b-db", nil), caller: Caller{User: "anna"},
			deny: &denial{tenant: "a", rule: RuleNames, fix: `Choose a name that does not start with "a-b-"`, detail: []string{"tenant a-b", `"a-b-"`}}},
		{name: "a takes a-b's name without requirePrefix", ns: nsObj("a-b-db", nil), caller: Caller{User: "anna-free"},
			deny: &denial{tenant: "a-free", rule: RuleNames, fix: `Choose a name that does not start with "a-b-"`, detail: []string{"tenant a-b"}}},
		{name: "a tenant without requirePrefix takes another's name", ns: nsObj("acme-x", nil), caller: Caller{User: "frank"},
			deny: &denial{tenant: "free", rule: RuleNames, fix: `Choose a name that does not start with "acme-"`, detail: []string{"tenant acme"}}},
		{name: "a keeps its own names", ns: nsObj("a-bc", nil), caller: Caller{User: "anna"}, wantLevel: "baseline", wantTenant: "a"},
		{name: "a-b takes its names", ns: nsObj("a-b-db", nil), caller: Caller{User: "bert"}, wantLevel: "baseline", wantTenant: "a-b"},
		{name: "a tenant being deleted still owns its names", ns: nsObj("gone-y", nil), caller: Caller{User: "frank"},
			deny: &denial{tenant: "free", rule: RuleNames, fix: `Choose a name that does not start with "gone-"`}},

		// Item 15: generateName.
		{name: "generateName with the prefix", ns: generated("acme-ci-", nil), caller: Caller{User: "alice"}, wantLevel: "baseline", wantTenant: "acme"},
		{name: "generateName ending at the prefix", ns: generated("acme-", nil), caller: Caller{User: "alice"}, wantLevel: "baseline", wantTenant: "acme"},
		{name: "generateName without the prefix", ns: generated("other-", nil), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleRequirePrefix, fix: `Use generateName "acme-other-"`, detail: []string{`names generated from "other-" would not start with "acme-"`}}},
		{name: "generateName that only looks like the prefix", ns: generated("acme", nil), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleRequirePrefix, fix: `Use generateName "acme-acme"`}},
		{name: "generateName in another tenant's names", ns: generated("a-b-", nil), caller: Caller{User: "anna"},
			deny: &denial{tenant: "a", rule: RuleNames, fix: `Choose a name that does not start with "a-b-"`, detail: []string{`namespaces generated from "a-b-"`}}},
		{name: "generateName without a prefix requirement", ns: generated("ci-", nil), caller: Caller{User: "frank"}, wantLevel: "baseline", wantTenant: "free"},
		{name: "generateName cannot claim kubernetes.io/metadata.name", ns: generated("acme-", map[string]string{corev1.LabelMetadataName: ""}), caller: Caller{User: "alice"},
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: "Remove the label", detail: []string{"namespaces generated from"}}},
		{name: "a long generateName is cut where the API server cuts it", ns: generated("acme-"+strings.Repeat("x", 70), nil), caller: Caller{User: "alice"},
			wantLevel: "baseline", wantTenant: "acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideCreate(tc.ns, tc.caller, tenants, tc.inUse, s)
			if tc.deny != nil {
				tc.deny.check(t, d)
				return
			}
			if !d.Allowed {
				t.Fatalf("denied: %s", d.Message)
			}
			if got := d.Labels["pod-security.kubernetes.io/enforce"]; got != tc.wantLevel {
				t.Errorf("enforce label = %q, want %q", got, tc.wantLevel)
			}
			if got := d.Labels[tenancyv1alpha1.TenantLabel]; got != tc.wantTenant {
				t.Errorf("tenant label = %q, want %q", got, tc.wantTenant)
			}
		})
	}
}

// TestGeneratedNamesAreJudgedExactly: whatever suffix the API server adds,
// the owner of the final name is the owner of the generateName.
func TestGeneratedNamesAreJudgedExactly(t *testing.T) {
	tenants := []string{"a", "a-b", "a-bc", "acme", "x"}
	// Suffixes from the generator's alphabet, which has no "-".
	for _, g := range []string{"a-", "a-b", "a-b-", "a-bc", "acme-", "acme", "x-y-", "", strings.Repeat("a-", 40)} {
		for _, suffix := range []string{"bcdfg", "22222", "zzzzz", "b2c4d"} {
			final := GeneratedBase(g) + suffix
			if got, want := render.NamespaceOwner(final, tenants), render.NamespaceOwner(GeneratedBase(g), tenants); got != want {
				t.Errorf("generateName %q + %q: final name owned by %q, generateName by %q", g, suffix, got, want)
			}
		}
	}
}

func TestDecideUpdate(t *testing.T) {
	s := render.DefaultSettings()
	tenants := []tenancyv1alpha1.Tenant{*testutil.Tenant("acme").Owner("alice").
		Labels(map[string]string{"cost": "1"}).Annotations(map[string]string{"team": "a"}).Obj()}
	base := render.Namespace(render.NewScope(&tenants[0], nil, s)).Labels
	base[corev1.LabelMetadataName] = "acme-a"
	with := func(k, v string) map[string]string {
		out := map[string]string{}
		for kk, vv := range base {
			out[kk] = vv
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	undo := "Undo your change to it; only a cluster admin can change it"
	for _, tc := range []struct {
		name    string
		old, ns *corev1.Namespace
		deny    *denial
	}{
		{name: "an ordinary label change is allowed", old: nsObj("acme-a", base), ns: nsObj("acme-a", with("team", "web"))},
		{name: "an ordinary annotation change is allowed", old: nsObj("acme-a", base), ns: annotated(nsObj("acme-a", base), map[string]string{"example.com/x": "y"})},
		{name: "kubectl's last-applied annotation may change", old: nsObj("acme-a", base),
			ns: annotated(nsObj("acme-a", base), map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"})},
		{name: "tenant label removed", old: nsObj("acme-a", base), ns: nsObj("acme-a", with(tenancyv1alpha1.TenantLabel, "")),
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: `Put it back to "acme"`, detail: []string{"managed by Bulkhead"}}},
		{name: "tenant label moved to another tenant", old: nsObj("acme-a", base), ns: nsObj("acme-a", with(tenancyv1alpha1.TenantLabel, "globex")),
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: `Put it back to "acme"`}},
		{name: "adoption by a non-admin", old: nsObj("plain", nil), ns: nsObj("plain", map[string]string{tenancyv1alpha1.TenantLabel: "acme"}),
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: "Ask a cluster admin to adopt it", detail: []string{`only a cluster admin can bring namespace "plain" into the tenant`}}},
		{name: "a retained namespace released by a non-admin", old: nsObj("old-a", map[string]string{tenancyv1alpha1.RetainedLabel: "old"}), ns: nsObj("old-a", nil),
			deny: &denial{tenant: "old", rule: RuleRetained, fix: "Undo your change to it; a cluster admin adopts the namespace into a tenant or releases it",
				detail: []string{"retained from the deleted tenant", tenancyv1alpha1.RetainedLabel}}},
		{name: "a retained namespace's Pod Security loosened", old: nsObj("old-a", map[string]string{tenancyv1alpha1.RetainedLabel: "old", "pod-security.kubernetes.io/enforce": "restricted"}),
			ns:   nsObj("old-a", map[string]string{tenancyv1alpha1.RetainedLabel: "old", "pod-security.kubernetes.io/enforce": "privileged"}),
			deny: &denial{tenant: "old", rule: RuleRetained, fix: "Undo your change to it; a cluster admin adopts the namespace into a tenant or releases it"}},
		{name: "an ordinary label on a retained namespace", old: nsObj("old-a", map[string]string{tenancyv1alpha1.RetainedLabel: "old"}),
			ns: nsObj("old-a", map[string]string{tenancyv1alpha1.RetainedLabel: "old", "team": "x"})},
		{name: "Pod Security loosened", old: nsObj("acme-a", base), ns: nsObj("acme-a", with("pod-security.kubernetes.io/enforce", "privileged")),
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: undo, detail: []string{"pod-security.kubernetes.io/enforce", "pods.securityLevel"}}},
		{name: "Pod Security label removed", old: nsObj("acme-a", base), ns: nsObj("acme-a", with("pod-security.kubernetes.io/warn", "")),
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: undo}},
		{name: "DRA admin access added", old: nsObj("acme-a", base), ns: nsObj("acme-a", with("resource.kubernetes.io/admin-access", "true")),
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: undo, detail: []string{"resource.kubernetes.io/admin-access", "reserved for Kubernetes and cluster admins"}}},
		{name: "a reserved label an admin set is removed", old: nsObj("acme-a", with("networking.k8s.io/zone", "dmz")), ns: nsObj("acme-a", base),
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: undo, detail: []string{"networking.k8s.io/zone"}}},
		{name: "a Bulkhead label added", old: nsObj("acme-a", base), ns: nsObj("acme-a", with("tenancy.bulkhead.dev/retained", "true")),
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: undo, detail: []string{"written by Bulkhead only"}}},
		{name: "locked label changed", old: nsObj("acme-a", base), ns: nsObj("acme-a", with("cost", "2")),
			deny: &denial{tenant: "acme", rule: RuleLabels, fix: undo, detail: []string{`label cost on namespace "acme-a" is locked by the tenant's namespaces.labels`}}},
		{name: "reserved annotation added", old: nsObj("acme-a", base),
			ns:   annotated(nsObj("acme-a", base), map[string]string{"scheduler.alpha.kubernetes.io/node-selector": "pool=gpu"}),
			deny: &denial{tenant: "acme", rule: RuleAnnotations, fix: undo, detail: []string{"scheduler.alpha.kubernetes.io/node-selector"}}},
		{name: "locked annotation changed", old: annotated(nsObj("acme-a", base), map[string]string{"team": "a"}),
			ns:   annotated(nsObj("acme-a", base), map[string]string{"team": "b"}),
			deny: &denial{tenant: "acme", rule: RuleAnnotations, fix: undo, detail: []string{`annotation team on namespace "acme-a" is locked by the tenant's namespaces.annotations`}}},
		{name: "reserved labels of a namespace whose Tenant is gone", old: nsObj("old-a", map[string]string{tenancyv1alpha1.TenantLabel: "old"}),
			ns:   nsObj("old-a", map[string]string{tenancyv1alpha1.TenantLabel: "old", "app.kubernetes.io/managed-by": "bulkhead"}),
			deny: &denial{tenant: "old", rule: RuleLabels, fix: undo}},
		{name: "plain namespace edits are not ours", old: nsObj("plain", nil), ns: nsObj("plain", map[string]string{"x": "y"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideUpdate(tc.old, tc.ns, tenants, s)
			if tc.deny != nil {
				tc.deny.check(t, d)
				return
			}
			if !d.Allowed {
				t.Fatalf("denied: %s", d.Message)
			}
		})
	}
}

// TestDecideBatchCountsInOrder: a batch is decided as if its creates came
// one after another; dry runs are decided but reserve nothing.
func TestDecideBatchCountsInOrder(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tenants := []tenancyv1alpha1.Tenant{*testutil.Tenant("acme").Owner("alice").Max(3).Obj()}
	cached := []corev1.Namespace{*tenantNamespace("acme-old", "acme", now.Add(-time.Hour))}
	reservations := []tenancyv1alpha1.NamespaceReservation{
		{Name: "acme-moment", AdmissionTime: metav1.NewTime(now.Add(-time.Second))},      // live: counts
		{Name: "acme-expired", AdmissionTime: metav1.NewTime(now.Add(-2 * time.Minute))}, // expired: does not
	}
	create := func(name string, dryRun bool) Create {
		return Create{Namespace: nsObj(name, nil), Caller: Caller{User: "alice"}, Tenants: tenants, DryRun: dryRun}
	}
	decisions, admitted, owner := DecideBatch("acme", cached, reservations, []Create{
		create("acme-a", true),  // 2 in use: admitted, reserves nothing
		create("acme-b", false), // 2 in use: admitted
		create("acme-c", false), // 3 in use: refused
	}, now, render.DefaultSettings())
	for i, want := range []bool{true, true, false} {
		if decisions[i].Allowed != want {
			t.Errorf("create %d: allowed %v (%s), want %v", i, decisions[i].Allowed, decisions[i].Message, want)
		}
	}
	if !strings.Contains(decisions[2].Message, "[rule namespaces.max]") {
		t.Errorf("the third create is refused for another reason: %s", decisions[2].Message)
	}
	if len(admitted) != 1 || admitted[0].Name != "acme-b" {
		t.Errorf("reservations to record %+v, want acme-b alone", admitted)
	}
	if owner == nil || owner.Name != "acme" {
		t.Errorf("owner %v, want Tenant acme", owner)
	}
}

// TestDecideBatchFrozenByLabel: while a cluster admin has frozen one of a
// tenant's namespaces by label, its owners create no namespace, so that
// deleting the frozen one and creating another cannot lift the freeze.
func TestDecideBatchFrozenByLabel(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tenants := []tenancyv1alpha1.Tenant{*testutil.Tenant("acme").Owner("alice").Obj()}
	held := tenantNamespace("acme-held", "acme", now.Add(-time.Hour))
	held.Labels[tenancyv1alpha1.FrozenLabel] = "ops"
	create := Create{Namespace: nsObj("acme-fresh", nil), Caller: Caller{User: "alice"}, Tenants: tenants}
	decisions, admitted, _ := DecideBatch("acme", []corev1.Namespace{*held}, nil, []Create{create}, now, render.DefaultSettings())
	if decisions[0].Allowed || len(admitted) != 0 {
		t.Fatalf("a new namespace of a tenant frozen by label was admitted: %+v", decisions[0])
	}
	for _, want := range []string{"tenant acme: ", "namespace acme-held of the tenant is frozen by ops", "[rule state]"} {
		if !strings.Contains(decisions[0].Message, want) {
			t.Errorf("denial %q lacks %q", decisions[0].Message, want)
		}
	}
	delete(held.Labels, tenancyv1alpha1.FrozenLabel)
	if decisions, _, _ := DecideBatch("acme", []corev1.Namespace{*held}, nil, []Create{create}, now, render.DefaultSettings()); !decisions[0].Allowed {
		t.Fatalf("once the label is gone, still refused: %s", decisions[0].Message)
	}
}
