package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// classifiedAs asks the API server, as user in groups, for something cheap
// and returns the name of the FlowSchema that classified the request. The
// error is one to retry: a FlowSchema replaced between the response and the
// list that names it.
func classifiedAs(t *testing.T, user string, groups ...string) (string, error) {
	t.Helper()
	cfg := devcluster.ImpersonateConfig(env.Cluster.Config, user, groups...)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.ClassifiedBy(ctx, hc, strings.TrimSuffix(cfg.Host, "/"), "/version", env.Client)
}

// expectClassified waits until a request of user in groups is classified by
// the FlowSchema want: the API server's flow-control configuration follows
// FlowSchemas through a watch.
func expectClassified(t *testing.T, want, user string, groups ...string) {
	t.Helper()
	testenv.Eventually(t, user+" classified by "+want, func() error {
		got, err := classifiedAs(t, user, groups...)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("classified by %s", got)
		}
		return nil
	})
}

// fairnessCondition waits until the tenant's FairnessReady has reason.
func fairnessCondition(t *testing.T, tenant, reason string) *tenancyv1alpha1.Tenant {
	t.Helper()
	tn := &tenancyv1alpha1.Tenant{}
	testenv.Eventually(t, tenant+" FairnessReady "+reason, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: tenant}, tn); err != nil {
			return err
		}
		c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionFairnessReady)
		if c == nil || c.Reason != reason || c.ObservedGeneration != tn.Generation {
			return fmt.Errorf("FairnessReady is %+v", c)
		}
		return nil
	})
	return tn
}

// TestBuiltinFlowSchemasComeFirst checks the precedence band against the
// API server's own FlowSchemas: every one that serves the control plane
// (system identities, leader election, controllers, nodes, kube-system's
// service accounts) precedes the band, and only the catch-alls that
// tenants' requests would otherwise reach follow it.
func TestBuiltinFlowSchemasComeFirst(t *testing.T) {
	list := &flowcontrolv1.FlowSchemaList{}
	testenv.Eventually(t, "the API server's built-in FlowSchemas", func() error {
		if err := env.Client.List(ctx, list); err != nil {
			return err
		}
		for _, fs := range list.Items {
			if fs.Name == "global-default" {
				return nil
			}
		}
		return fmt.Errorf("global-default is not there yet")
	})
	var before, after []string
	for _, fs := range list.Items {
		if fs.Labels[tenancyv1alpha1.ManagedByLabel] == tenancyv1alpha1.ManagedByValue {
			continue
		}
		p := fs.Spec.MatchingPrecedence
		switch {
		case p < render.FairnessBandStart:
			before = append(before, fmt.Sprintf("%s(%d)", fs.Name, p))
		case p > render.FairnessBandEnd:
			after = append(after, fs.Name)
		default:
			t.Errorf("built-in FlowSchema %s has precedence %d, inside Bulkhead's band [%d, %d]", fs.Name, p, render.FairnessBandStart, render.FairnessBandEnd)
		}
	}
	slices.Sort(after)
	if want := []string{"catch-all", "global-default", "service-accounts"}; !slices.Equal(after, want) {
		t.Errorf("built-in FlowSchemas after the band are %v, want only the catch-alls %v", after, want)
	}
	for _, name := range []string{"exempt", "probes", "system-leader-election", "system-node-high", "system-nodes", "kube-controller-manager", "kube-scheduler", "kube-system-service-accounts"} {
		if !slices.ContainsFunc(before, func(s string) bool { return strings.HasPrefix(s, name+"(") }) {
			t.Errorf("built-in FlowSchema %s is not ahead of the band; ahead are %v", name, before)
		}
	}
	t.Logf("ahead of the band: %v; after it: %v", before, after)
}

// TestTenantIsOneFlow checks, by how the API server itself classifies
// requests, that a tenant's people and its namespaces' service accounts
// reach its FlowSchema and the shared level, and that nobody else does:
// not an admin who is also in the tenant's group, not a system identity,
// not Bulkhead, not another user.
func TestTenantIsOneFlow(t *testing.T) {
	s := env.Settings
	s.AdminGroups = append(slices.Clone(s.AdminGroups), "platform-admins")
	old := env.Settings
	if err := env.RestartManagerWith(s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.RestartManagerWith(old); err != nil {
			t.Error(err)
		}
	})

	tn := testutil.Tenant("flowy").Owner("fiona").Group("flowy-devs").Obj()
	env.CreateTenant(t, tn)
	testenv.OwnerCreatesNamespace(t, env.As("fiona"), "flowy-a")
	fairnessCondition(t, "flowy", tenancyv1alpha1.ReasonApplied)
	name := render.FairnessFlowSchemaName("flowy")
	fs := &flowcontrolv1.FlowSchema{}
	testenv.Eventually(t, "FlowSchema with the namespace's service accounts", func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, fs); err != nil {
			return err
		}
		for _, sub := range fs.Spec.Rules[0].Subjects {
			if sub.ServiceAccount != nil && sub.ServiceAccount.Namespace == "flowy-a" && sub.ServiceAccount.Name == "*" {
				return nil
			}
		}
		return fmt.Errorf("subjects %+v", fs.Spec.Rules[0].Subjects)
	})
	if fs.Spec.PriorityLevelConfiguration.Name != render.TenantsPriorityLevel || fs.Spec.DistinguisherMethod != nil {
		t.Errorf("FlowSchema sends to %s with distinguisher %v, want %s and none", fs.Spec.PriorityLevelConfiguration.Name, fs.Spec.DistinguisherMethod, render.TenantsPriorityLevel)
	}

	// The tenant: its owner, a member of its group, a service account of
	// its namespace (as the API server authenticates one).
	expectClassified(t, name, "fiona")
	expectClassified(t, name, "gus", "flowy-devs")
	expectClassified(t, name, "system:serviceaccount:flowy-a:builder", "system:serviceaccounts", "system:serviceaccounts:flowy-a")
	// Not the tenant.
	expectClassified(t, "global-default", "mallory")
	expectClassified(t, "service-accounts", "system:serviceaccount:other:builder", "system:serviceaccounts", "system:serviceaccounts:other")
	expectClassified(t, render.AdminsFlowSchema, "root", "platform-admins", "flowy-devs")
	expectClassified(t, "exempt", "root", "system:masters", "flowy-devs")
	expectClassified(t, "kube-controller-manager", "system:kube-controller-manager")
	expectClassified(t, "kube-scheduler", "system:kube-scheduler")
	expectClassified(t, "system-nodes", "system:node:n1", "system:nodes")
	expectClassified(t, "service-accounts", s.ManagerUser(), "system:serviceaccounts", "system:serviceaccounts:"+s.ManagerNamespace)

	// Drift: the schema comes back.
	if err := env.Client.Delete(ctx, fs); err != nil {
		t.Fatal(err)
	}
	expectClassified(t, name, "fiona")

	// Off: the schema goes, and the API server's own schemas take the
	// tenant's requests again.
	env.UpdateTenant(t, "flowy", func(tn *tenancyv1alpha1.Tenant) { tn.Spec.APIFairness.Shares = new(int32) })
	fairnessCondition(t, "flowy", tenancyv1alpha1.ReasonDisabled)
	expectClassified(t, "global-default", "fiona")
	testenv.Eventually(t, "FlowSchema removed", func() error {
		return testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Name: name}, &flowcontrolv1.FlowSchema{}), "FlowSchema "+name)
	})
}

// TestDedicatedLevelsAreCapped checks that tenants asking for a level of
// their own get one up to the cap, oldest first; the next in line waits in
// the shared level, told why, and gets the level freed when an older tenant
// gives its shares up. A Tenant's deletion removes its schema and level.
func TestDedicatedLevelsAreCapped(t *testing.T) {
	n := env.Settings.MaxDedicatedPriorityLevels
	var names []string
	for i := 0; i <= n; i++ {
		name := fmt.Sprintf("lvl%02d", i)
		names = append(names, name)
		env.CreateTenant(t, testutil.Tenant(name).Owner(name+"-owner").Shares(int32(5+i)).Obj())
		// One at a time: the order of creation is the order of the queue.
		fairnessCondition(t, name, map[bool]string{true: tenancyv1alpha1.ReasonApplied, false: tenancyv1alpha1.ReasonLevelCapReached}[i < n])
	}
	last := names[n]
	for i, name := range names[:n] {
		level := &flowcontrolv1.PriorityLevelConfiguration{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: render.FairnessFlowSchemaName(name)}, level); err != nil {
			t.Fatalf("level of %s: %v", name, err)
		}
		if got := *level.Spec.Limited.NominalConcurrencyShares; got != int32(5+i) {
			t.Errorf("level of %s has %d shares, want %d", name, got, 5+i)
		}
	}
	c := meta.FindStatusCondition(fairnessCondition(t, last, tenancyv1alpha1.ReasonLevelCapReached).Status.Conditions, tenancyv1alpha1.ConditionFairnessReady)
	if !strings.Contains(c.Message, "--max-dedicated-priority-levels") || !strings.Contains(c.Message, names[0]) {
		t.Errorf("message does not say what holds the levels and how to raise the cap: %s", c.Message)
	}
	expectClassified(t, render.FairnessFlowSchemaName(last), last+"-owner")
	fs := &flowcontrolv1.FlowSchema{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: render.FairnessFlowSchemaName(last)}, fs); err != nil {
		t.Fatal(err)
	}
	if fs.Spec.PriorityLevelConfiguration.Name != render.TenantsPriorityLevel {
		t.Errorf("tenant past the cap sent to %s, want the shared level", fs.Spec.PriorityLevelConfiguration.Name)
	}

	// The oldest gives its level up: the next in line gets one.
	env.UpdateTenant(t, names[0], func(tn *tenancyv1alpha1.Tenant) { tn.Spec.APIFairness.Shares = nil })
	fairnessCondition(t, last, tenancyv1alpha1.ReasonApplied)
	testenv.Eventually(t, "the freed level removed", func() error {
		return testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Name: render.FairnessFlowSchemaName(names[0])}, &flowcontrolv1.PriorityLevelConfiguration{}), "level of "+names[0])
	})
	testenv.Eventually(t, "the next in line in its own level", func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: render.FairnessFlowSchemaName(last)}, fs); err != nil {
			return err
		}
		if got := fs.Spec.PriorityLevelConfiguration.Name; got != render.FairnessFlowSchemaName(last) {
			return fmt.Errorf("sent to %s", got)
		}
		return nil
	})

	// Deletion removes what the tenant had.
	if err := env.Client.Delete(ctx, testutil.Tenant(last).Obj()); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "schema and level removed with the Tenant", func() error {
		if err := testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Name: render.FairnessFlowSchemaName(last)}, &flowcontrolv1.FlowSchema{}), "FlowSchema"); err != nil {
			return err
		}
		return testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Name: render.FairnessFlowSchemaName(last)}, &flowcontrolv1.PriorityLevelConfiguration{}), "level")
	})
}
