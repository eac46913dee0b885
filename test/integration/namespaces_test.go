package integration

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// reservedLabelAttempts are labels a tenant must never write on its
// namespaces, each for a reason of its own.
var reservedLabelAttempts = []struct {
	what, key, value string
}{
	{"DRA admin access to every device", "resource.kubernetes.io/admin-access", "true"},
	{"a Pod Security level", "pod-security.kubernetes.io/enforce", "privileged"},
	{"Bulkhead's own label (the quota webhook selects on it)", tenancyv1alpha1.TenantQuotaLabel, "true"},
	{"the reserved label another tenant's allowFrom selects", "monitoring.k8s.io/scrape", "true"},
}

// TestTenantsCannotWriteReservedNamespaceLabels: at creation by the owner,
// and at any later change by a non-admin allowed to patch namespaces,
// reserved labels and annotations are refused by the namespaces.labels
// (.annotations) rule, while ordinary labels stay the tenant's.
func TestTenantsCannotWriteReservedNamespaceLabels(t *testing.T) {
	// peer lets in namespaces labelled monitoring.k8s.io/scrape=true, meaning
	// the cluster's monitoring; a tenant that could set it would walk in.
	env.CreateTenant(t, testutil.Tenant("peer").Owner("peer-owner").
		AllowFromNamespaces(&metav1.LabelSelector{MatchLabels: map[string]string{"monitoring.k8s.io/scrape": "true"}}).Obj())
	env.CreateTenant(t, testutil.Tenant("lbl").Owner("lbl-owner").Hard().Obj())
	env.WaitReady(t, "lbl")
	owner := env.As("lbl-owner")
	testenv.Eventually(t, "owner may create namespaces", func() error { return testenv.CanI(owner, "create", "namespaces", "") })

	t.Run("an ordinary label at creation is the tenant's", func(t *testing.T) {
		ns := testutil.Namespace("lbl-app").Label("team", "web").Obj()
		if err := owner.Create(ctx, ns); err != nil {
			t.Fatalf("creating a namespace with team=web: %v", err)
		}
		if ns.Labels["team"] != "web" || ns.Labels[tenancyv1alpha1.TenantLabel] != "lbl" || ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("labels %v, want team=web, the tenant and its Pod Security level", ns.Labels)
		}
	})
	for i, a := range reservedLabelAttempts {
		t.Run("at creation: "+a.what, func(t *testing.T) {
			err := owner.Create(ctx, testutil.Namespace(fmt.Sprintf("lbl-c%d", i)).Label(a.key, a.value).Obj())
			testenv.Rejected(t, err, "lbl", "namespaces.labels")
			testenv.ExpectDenied(t, err, a.key)
		})
	}
	t.Run("at creation: the node selector the API server applies to every pod", func(t *testing.T) {
		err := owner.Create(ctx, testutil.Namespace("lbl-ann").Annotation("scheduler.alpha.kubernetes.io/node-selector", "pool=gpu").Obj())
		testenv.Rejected(t, err, "lbl", "namespaces.annotations")
		testenv.ExpectDenied(t, err, "scheduler.alpha.kubernetes.io/node-selector")
	})

	env.GrantNamespacePatch(t, "lbl-patcher")
	patcher := env.As("lbl-patcher")
	app := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "lbl-app"}}
	merge := func(labels string) client.Patch {
		return client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":`+labels+`}}`))
	}
	for _, a := range reservedLabelAttempts {
		t.Run("at update: "+a.what, func(t *testing.T) {
			err := patcher.Patch(ctx, app.DeepCopy(), merge(fmt.Sprintf(`{%q:%q}`, a.key, a.value)))
			testenv.Rejected(t, err, "lbl", "namespaces.labels")
			testenv.ExpectDenied(t, err, a.key)
		})
	}
	t.Run("at update: removing a Pod Security label", func(t *testing.T) {
		err := patcher.Patch(ctx, app.DeepCopy(), merge(`{"pod-security.kubernetes.io/warn":null}`))
		testenv.Rejected(t, err, "lbl", "namespaces.labels")
		testenv.ExpectDenied(t, err, "pod-security.kubernetes.io/warn", "pods.securityLevel")
	})
	t.Run("at update: an annotation the API server reads", func(t *testing.T) {
		err := patcher.Patch(ctx, app.DeepCopy(), client.RawPatch("application/merge-patch+json",
			[]byte(`{"metadata":{"annotations":{"scheduler.alpha.kubernetes.io/defaultTolerations":"[]"}}}`)))
		testenv.Rejected(t, err, "lbl", "namespaces.annotations")
	})
	t.Run("at update: an ordinary label is the tenant's", func(t *testing.T) {
		if err := patcher.Patch(ctx, app.DeepCopy(), merge(`{"team":"api"}`)); err != nil {
			t.Fatalf("changing team to api: %v", err)
		}
	})
}

// TestNamespaceNamesBelongToTheLongestPrefix: a name belongs to the tenant
// with the longest matching prefix; another tenant cannot take it, with or
// without requirePrefix, and a new Tenant cannot take names already used.
func TestNamespaceNamesBelongToTheLongestPrefix(t *testing.T) {
	env.CreateTenant(t, testutil.Tenant("sq").Owner("sq-owner").Obj())
	env.CreateTenant(t, testutil.Tenant("sqfree").Owner("sqfree-owner").RequirePrefix(false).Obj())
	env.WaitReady(t, "sq")
	sq := env.As("sq-owner")
	// Before tenant sq-b exists, sq-b-db is tenant sq's to take.
	testenv.OwnerCreatesNamespace(t, sq, "sq-b-db")

	t.Run("a Tenant whose prefix would take another tenant's namespace", func(t *testing.T) {
		err := env.Client.Create(ctx, testutil.Tenant("sq-b").Owner("x").Obj())
		if err == nil {
			_ = env.Client.Delete(ctx, testutil.Tenant("sq-b").Obj())
		}
		testenv.Rejected(t, err, "sq-b", "tenant.name")
		testenv.ExpectDenied(t, err, "sq-b-db (tenant sq)", "tenancy.bulkhead.dev/tenant=sq-b")
	})
	t.Run("a Tenant whose prefix covers system namespaces", func(t *testing.T) {
		err := env.Client.Create(ctx, testutil.Tenant("kube").Owner("x").Obj())
		if err == nil {
			_ = env.Client.Delete(ctx, testutil.Tenant("kube").Obj())
		}
		testenv.Rejected(t, err, "kube", "tenant.name")
		testenv.ExpectDenied(t, err, `"kube-"`)
	})

	env.CreateTenant(t, testutil.Tenant("sq-c").Owner("sqc-owner").Obj())
	env.WaitReady(t, "sq-c")
	t.Run("the owner of sq cannot take sq-c's names", func(t *testing.T) {
		err := testenv.CreateNamespaceAs(sq, "sq-c-db", nil)
		testenv.Rejected(t, err, "sq", "namespaces.names")
		testenv.ExpectDenied(t, err, "tenant sq-c", `Choose a name that does not start with "sq-c-"`)
	})
	t.Run("nor can a tenant without requirePrefix", func(t *testing.T) {
		free := env.As("sqfree-owner")
		testenv.Eventually(t, "sqfree owner may create namespaces", func() error { return testenv.CanI(free, "create", "namespaces", "") })
		err := testenv.CreateNamespaceAs(free, "sq-c-web", nil)
		testenv.Rejected(t, err, "sqfree", "namespaces.names")
		testenv.ExpectDenied(t, err, "tenant sq-c")
	})
	t.Run("sq-c takes its own", func(t *testing.T) {
		testenv.OwnerCreatesNamespace(t, env.As("sqc-owner"), "sq-c-db")
	})
}

// TestGenerateNameNamespaces: CI systems create namespaces with
// generateName; they work when the generated name will carry the tenant's
// prefix, and are refused with the rule otherwise.
func TestGenerateNameNamespaces(t *testing.T) {
	env.CreateTenant(t, testutil.Tenant("gen").Owner("gen-owner").Obj())
	env.WaitReady(t, "gen")
	owner := env.As("gen-owner")
	testenv.Eventually(t, "owner may create namespaces", func() error { return testenv.CanI(owner, "create", "namespaces", "") })

	ns := testutil.Generated("gen-ci-").Obj()
	if err := owner.Create(ctx, ns); err != nil {
		t.Fatalf("creating a namespace with generateName gen-ci-: %v", err)
	}
	if !strings.HasPrefix(ns.Name, "gen-ci-") || len(ns.Name) != len("gen-ci-")+5 {
		t.Errorf("generated name %q, want gen-ci- and five characters", ns.Name)
	}
	if ns.Labels[tenancyv1alpha1.TenantLabel] != "gen" || ns.Labels[corev1.LabelMetadataName] != ns.Name {
		t.Errorf("labels %v, want the tenant gen and the generated name", ns.Labels)
	}
	testenv.Eventually(t, "the generated namespace in the tenant's status", func() error {
		tn := &tenancyv1alpha1.Tenant{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "gen"}, tn); err != nil {
			return err
		}
		for _, n := range tn.Status.Namespaces {
			if n == ns.Name {
				return nil
			}
		}
		return fmt.Errorf("status.namespaces %v lacks %s", tn.Status.Namespaces, ns.Name)
	})

	err := owner.Create(ctx, testutil.Generated("other-").Obj())
	testenv.Rejected(t, err, "gen", "namespaces.requirePrefix")
	testenv.ExpectDenied(t, err, `names generated from "other-" would not start with "gen-"`, `Use generateName "gen-other-"`)
}
