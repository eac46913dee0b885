package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestHostileTenantsAreRefusedOrExplained sends the API server Tenants an
// attacker or a careless script would write. Each is either refused with an
// error that names the field (the CRD) or the rule and its fix (the Tenant
// webhook), or accepted and then reconciled to Ready; and after all of
// them, a plain Tenant still converges, so none of them stopped the manager
// reconciling the others.
func TestHostileTenantsAreRefusedOrExplained(t *testing.T) {
	// Refused by the CRD's schema, each at its field.
	for _, tc := range []struct {
		name string
		obj  *tenancyv1alpha1.Tenant
		want []string
	}{
		{"ten thousand owners", func() *tenancyv1alpha1.Tenant {
			w := testutil.Tenant("hostile-owners")
			for i := 0; i < 10000; i++ {
				w.Owner(fmt.Sprintf("user-%d", i))
			}
			return w.Obj()
		}(), []string{"spec.owners", "must have at most 128 items"}},
		{"a thousand allowed CIDRs", func() *tenancyv1alpha1.Tenant {
			var cidrs []string
			for i := 0; i < 1000; i++ {
				cidrs = append(cidrs, fmt.Sprintf("10.%d.%d.0/24", i/256, i%256))
			}
			return testutil.Tenant("hostile-cidrs").Owner("x").AllowCIDRs(cidrs...).Obj()
		}(), []string{"spec.network.egress.allowCIDRs", "must have at most 64 items"}},
		{"a name in another script", testutil.Tenant("tenänt").Owner("x").Obj(),
			[]string{"metadata.name"}},
		{"a megabyte of namespace labels", func() *tenancyv1alpha1.Tenant {
			labels := map[string]string{}
			for i := 0; i < 16000; i++ {
				labels[fmt.Sprintf("example.com/label-%05d", i)] = strings.Repeat("v", 40)
			}
			return testutil.Tenant("hostile-mb").Owner("x").Labels(labels).Obj()
		}(), []string{"spec.namespaces.labels", "must have at most 64 items"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := env.Client.Create(ctx, tc.obj, client.DryRunAll)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want Invalid naming %v, got %v", tc.want, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %.500s", w, err.Error())
				}
			}
		})
	}

	// Refused by the Tenant webhook (the CRD cannot see other objects):
	// names whose namespace prefix reaches into names Kubernetes or the
	// cluster keeps.
	t.Run("a tenant named kube", func(t *testing.T) {
		err := env.Client.Create(ctx, testutil.Tenant("kube").Owner("x").Obj(), client.DryRunAll)
		testenv.ExpectDenied(t, err, `tenant kube`, `"kube-"`, `Choose a tenant name that does not start with "kube-"`)
	})
	t.Run("a tenant whose prefix covers a system namespace", func(t *testing.T) {
		err := env.Client.Create(ctx, testutil.Tenant("bulkhead").Owner("x").Obj(), client.DryRunAll)
		testenv.ExpectDenied(t, err, `tenant bulkhead`, `covers the system namespaces bulkhead-system`, "Choose another tenant name")
	})
	t.Run("a tenant named default", func(t *testing.T) {
		// Its prefix "default-" does not cover the namespace default
		// itself, so on its own it is accepted...
		if err := env.Client.Create(ctx, testutil.Tenant("default").Owner("x").Obj(), client.DryRunAll); err != nil {
			t.Fatalf("tenant default with no default-* namespace: %v", err)
		}
		// ...but not once a default-* namespace exists outside any
		// tenant: the webhook will not hand it over unasked.
		legacy := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default-legacy"}}
		if err := env.Client.Create(ctx, legacy); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(ctx, legacy) })
		err := env.Client.Create(ctx, testutil.Tenant("default").Owner("x").Obj(), client.DryRunAll)
		testenv.ExpectDenied(t, err, "tenant default", `covers namespaces outside any tenant: default-legacy`, "label them")
	})

	// Accepted, and reconciled: what they ask is odd but well-formed.
	t.Run("the whole internet in allowCIDRs", func(t *testing.T) {
		tn := testutil.Tenant("wideopen").Owner("wendy").Hard().AllowCIDRs("0.0.0.0/0", "::/0").Obj()
		env.TenantWithNamespace(t, tn, "wideopen-a")
		np := &networkingv1.NetworkPolicy{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "wideopen-a", Name: render.EgressPolicy}, np); err != nil {
			t.Fatal(err)
		}
		// Allowing everything still leaves the metadata endpoint out: the
		// Hard profile's deny is an exception of the widest block.
		var v4 *networkingv1.IPBlock
		for _, rule := range np.Spec.Egress {
			for _, peer := range rule.To {
				if peer.IPBlock != nil && peer.IPBlock.CIDR == "0.0.0.0/0" {
					v4 = peer.IPBlock
				}
			}
		}
		if v4 == nil || !slices.Contains(v4.Except, render.MetadataIP) {
			t.Errorf("egress block for 0.0.0.0/0 is %+v, want it to except %s", v4, render.MetadataIP)
		}
	})
	t.Run("a megabyte of labels on the Tenant itself", func(t *testing.T) {
		// Kubernetes bounds neither the number of labels nor their total
		// size, and only admins write Tenants, so the API server stores
		// it and Bulkhead reconciles it. Every write of the Tenant (each
		// finalizer, each condition) then costs the API server about a
		// second, so it is slow to converge (about 15 s on two cores,
		// against well under one for a plain Tenant), but it converges,
		// and the plain Tenant at the end shows it held up no other.
		labels := map[string]string{}
		for i := 0; i < 16000; i++ {
			labels[fmt.Sprintf("example.com/label-%05d", i)] = strings.Repeat("v", 40)
		}
		tn := testutil.Tenant("heavy").Owner("hank").Obj()
		tn.Labels = labels
		start := time.Now()
		env.CreateTenant(t, tn)
		env.WaitReady(t, "heavy")
		t.Logf("a Tenant with %d labels (1 MB) became Ready in %v", len(labels), time.Since(start).Round(100*time.Millisecond))
	})
	t.Run("a namespace label value in another script", func(t *testing.T) {
		// No namespace could carry this label, so the CRD refuses the
		// Tenant at the label's own field, before any namespace meets it.
		err := env.Client.Create(ctx, testutil.Tenant("hostile-label").Owner("lena").Labels(map[string]string{"team": "ünïcødé"}).Obj())
		testenv.ExpectDenied(t, err, "spec.namespaces.labels.team", "should match")
	})
	t.Run("odd Unicode in subject names", func(t *testing.T) {
		env.CreateTenant(t, testutil.Tenant("unicode").Owner("al\u202eice").Member("ボブ").Viewer("zero\u200bwidth").Obj())
		env.WaitReady(t, "unicode")
	})

	// None of the above stopped the manager: a plain Tenant converges.
	env.CreateTenant(t, testutil.Tenant("after-hostile").Owner("olive").Obj())
	env.WaitReady(t, "after-hostile")
}
