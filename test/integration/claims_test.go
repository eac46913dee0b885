package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/claims"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/ingress"
)

// claimRounds is how often each race across replicas is run:
// BULKHEAD_CLAIMS_ROUNDS, 5 when unset.
func claimRounds(t *testing.T) int {
	t.Helper()
	v := os.Getenv("BULKHEAD_CLAIMS_ROUNDS")
	if v == "" {
		return 5
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("BULKHEAD_CLAIMS_ROUNDS=%q: want a positive number", v)
	}
	return n
}

// twoReplicas runs two managers serving the webhook behind a round-robin
// front for the rest of the test.
func twoReplicas(t *testing.T) *testenv.Replicas {
	t.Helper()
	r, err := env.StartReplicas(2)
	if err != nil {
		t.Fatalf("starting two replicas: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stopping the replicas: %v", err)
		}
	})
	return r
}

func hostIngress(ns, name, host string) *networkingv1.Ingress {
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
		Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: backend}},
		}},
	}}}}
}

// TestNamespaceMaxHoldsAcrossReplicas: 50 owners' creates at once, spread
// over two webhook replicas, against namespaces.max 5: exactly 5 exist.
func TestNamespaceMaxHoldsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	replicas := twoReplicas(t)
	const tries, max = 50, 5
	for round := range claimRounds(t) {
		tenant := fmt.Sprintf("nsmax%d", round)
		owner := tenant + "-owner"
		env.CreateTenant(t, testutil.Tenant(tenant).Owner(owner).Max(max).Obj())
		c := env.As(owner)
		testenv.Eventually(t, "owner may create namespaces", func() error { return testenv.CanI(c, "create", "namespaces", "") })
		// Both replicas' caches know the Tenant: four dry runs in a row pass.
		testenv.Eventually(t, "both replicas know tenant "+tenant, func() error {
			for range 4 {
				if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenant + "-probe"}}, client.DryRunAll); err != nil {
					return err
				}
			}
			return nil
		})
		errs := make([]error, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = testenv.CreateNamespaceAs(c, fmt.Sprintf("%s-%d", tenant, i), nil)
			}()
		}
		wg.Wait()
		admitted := 0
		for _, err := range errs {
			if err == nil {
				admitted++
				continue
			}
			testenv.Rejected(t, err, tenant, "namespaces.max")
		}
		list := &corev1.NamespaceList{}
		if err := env.Client.List(ctx, list, client.MatchingLabels{tenancyv1alpha1.TenantLabel: tenant}); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d creates tried, %d admitted, %d exist, %d expected; requests per replica so far %v", round, tries, admitted, len(list.Items), max, replicas.Served())
		if admitted != max || len(list.Items) != max {
			t.Errorf("round %d: %d admitted and %d exist, want exactly %d", round, admitted, len(list.Items), max)
		}
	}
	if served := replicas.Served(); served[0] == 0 || served[1] == 0 {
		t.Errorf("requests per replica %v: both replicas must serve", served)
	}
}

// TestHostnameOwnershipHoldsAcrossReplicas: 40 Ingresses for one new
// hostname at once, 20 from each of two tenants, spread over two webhook
// replicas: every one admitted belongs to one tenant, and every refusal
// says the hostname is another tenant's.
func TestHostnameOwnershipHoldsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	a := env.TenantWithNamespace(t, testutil.Tenant("hra").Owner("hra-owner").Obj(), "hra-web")
	b := env.TenantWithNamespace(t, testutil.Tenant("hrb").Owner("hrb-owner").Obj(), "hrb-web")
	replicas := twoReplicas(t)
	racers := []struct {
		c          client.Client
		ns, tenant string
	}{{a, "hra-web", "hra"}, {b, "hrb-web", "hrb"}}
	testenv.Eventually(t, "both replicas know the tenants' namespaces", func() error {
		for range 4 {
			for _, r := range racers {
				if err := r.c.Create(ctx, hostIngress(r.ns, "probe", "probe-"+r.tenant+".replicas.test"), client.DryRunAll); err != nil {
					return err
				}
			}
		}
		return nil
	})
	const tries = 40
	for round := range claimRounds(t) {
		host := fmt.Sprintf("race-%d.replicas.test", round)
		errs := make([]error, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := racers[i%2]
				errs[i] = r.c.Create(ctx, hostIngress(r.ns, fmt.Sprintf("race-%d-%d", round, i), host))
			}()
		}
		wg.Wait()
		admitted := map[string]int{}
		for i, err := range errs {
			r := racers[i%2]
			if err == nil {
				admitted[r.tenant]++
				continue
			}
			testenv.Rejected(t, err, r.tenant, "ingress.hostnames")
			testenv.ExpectDenied(t, err, "by another tenant")
		}
		stored := map[string]int{}
		for _, r := range racers {
			list := &networkingv1.IngressList{}
			if err := env.Client.List(ctx, list, client.InNamespace(r.ns)); err != nil {
				t.Fatal(err)
			}
			for _, ing := range list.Items {
				if ing.Spec.Rules[0].Host == host {
					stored[r.tenant]++
				}
			}
		}
		t.Logf("round %d: %d creates tried, admitted per tenant %v, stored per tenant %v; requests per replica so far %v", round, tries, admitted, stored, replicas.Served())
		if len(admitted) != 1 || len(stored) != 1 {
			t.Errorf("round %d: host %s admitted for %v and stored for %v; want exactly one tenant", round, host, admitted, stored)
		}
		// The winner's own creates are never refused for the other tenant.
		for winner, n := range admitted {
			if n != tries/2 || stored[winner] != n {
				t.Errorf("round %d: tenant %s had %d of its %d creates admitted and %d stored; want all of them", round, winner, n, tries/2, stored[winner])
			}
		}
	}
	if served := replicas.Served(); served[0] == 0 || served[1] == 0 {
		t.Errorf("requests per replica %v: both replicas must serve", served)
	}
}

// ageHold moves tenant's hold on host back by d, as the passing of d would.
func ageHold(t *testing.T, host, tenant string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	claim := &tenancyv1alpha1.HostnameClaim{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: claims.ClaimName(claims.GroupOf(host))}, claim); err != nil {
		t.Fatal(err)
	}
	aged := false
	for i, h := range claim.Spec.Holds {
		if h.Host == host && h.Tenant == tenant {
			claim.Spec.Holds[i].ClaimTime = metav1.NewTime(h.ClaimTime.Add(-d))
			aged = true
		}
	}
	if !aged {
		t.Fatalf("no hold of tenant %s on %s in %+v", tenant, host, claim.Spec.Holds)
	}
	if err := env.Client.Update(ctx, claim); err != nil {
		t.Fatal(err)
	}
}

// TestHostnameFreedByItsLastIngress: a hostname is held while an Ingress of
// its tenant serves it, and claimable by another tenant once the last one
// is deleted; a hold whose Ingress was never stored expires; dry runs
// claim nothing.
func TestHostnameFreedByItsLastIngress(t *testing.T) {
	ctx := context.Background()
	a := env.TenantWithNamespace(t, testutil.Tenant("hfa").Owner("hfa-owner").Obj(), "hfa-web")
	b := env.TenantWithNamespace(t, testutil.Tenant("hfb").Owner("hfb-owner").Obj(), "hfb-web")

	const host = "shop.freed.test"
	if err := a.Create(ctx, hostIngress("hfa-web", "shop", host)); err != nil {
		t.Fatalf("tenant hfa claiming %s: %v", host, err)
	}
	if err := a.Create(ctx, hostIngress("hfa-web", "shop-v2", host)); err != nil {
		t.Fatalf("tenant hfa serving %s from a second Ingress: %v", host, err)
	}
	// Long after the claim, the Ingresses alone hold the hostname.
	ageHold(t, host, "hfa", time.Hour)
	err := b.Create(ctx, hostIngress("hfb-web", "shop", host))
	testenv.Rejected(t, err, "hfb", "ingress.hostnames")
	testenv.ExpectDenied(t, err, "by another tenant")
	if err := a.Delete(ctx, hostIngress("hfa-web", "shop", host)); err != nil {
		t.Fatal(err)
	}
	err = b.Create(ctx, hostIngress("hfb-web", "shop", host))
	testenv.Rejected(t, err, "hfb", "ingress.hostnames")
	if err := a.Delete(ctx, hostIngress("hfa-web", "shop-v2", host)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "tenant hfb claiming the freed "+host, func() error {
		return b.Create(ctx, hostIngress("hfb-web", "shop", host))
	})
	err = a.Create(ctx, hostIngress("hfa-web", "shop-v3", host))
	testenv.Rejected(t, err, "hfa", "ingress.hostnames")

	// A dry run decides but claims nothing.
	const dry = "dry.orphan.test"
	if err := a.Create(ctx, hostIngress("hfa-web", "dry", dry), client.DryRunAll); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	claimKey := client.ObjectKey{Name: claims.ClaimName(claims.GroupOf(dry))}
	if err := env.Client.Get(ctx, claimKey, &tenancyv1alpha1.HostnameClaim{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a dry run wrote HostnameClaim %s: %v", claimKey.Name, err)
	}

	// A hold left by an Ingress that was never stored: fresh, it holds the
	// hostname; after HoldGrace it is free.
	const orphan = "shop.orphan.test"
	if err := env.Client.Create(ctx, &tenancyv1alpha1.HostnameClaim{
		ObjectMeta: metav1.ObjectMeta{Name: claimKey.Name, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
		Spec: tenancyv1alpha1.HostnameClaimSpec{Holds: []tenancyv1alpha1.HostnameHold{
			{Host: orphan, Tenant: "hfa", ClaimTime: metav1.Now()},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	err = b.Create(ctx, hostIngress("hfb-web", "orphan", orphan))
	testenv.Rejected(t, err, "hfb", "ingress.hostnames")
	testenv.ExpectDenied(t, err, "admitted moments ago")
	ageHold(t, orphan, "hfa", claims.HoldGrace)
	if err := b.Create(ctx, hostIngress("hfb-web", "orphan", orphan)); err != nil {
		t.Fatalf("tenant hfb claiming %s after the orphan hold expired: %v", orphan, err)
	}
}

// TestClaimsAreOutOfTenantsReach: the claims that decide namespaces.max and
// hostname ownership are Bulkhead's. Tenants' roles grant none of them, and
// someone given them by mistake still meets the managed-objects rule:
// editing a claim would free a tenant's namespace slots or hand over its
// hostnames.
func TestClaimsAreOutOfTenantsReach(t *testing.T) {
	ctx := context.Background()
	owner := env.TenantWithNamespace(t, testutil.Tenant("cr").Owner("cr-owner").Obj(), "cr-web")
	const host = "shop.reach.test"
	if err := owner.Create(ctx, hostIngress("cr-web", "shop", host)); err != nil {
		t.Fatal(err)
	}
	ledger := &tenancyv1alpha1.NamespaceLedger{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "cr"}, ledger); err != nil {
		t.Fatalf("the tenant's NamespaceLedger: %v", err)
	}
	live := &tenancyv1alpha1.Tenant{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "cr"}, live); err != nil {
		t.Fatal(err)
	}
	if ref := metav1.GetControllerOf(ledger); ref == nil || ref.Kind != "Tenant" || ref.UID != live.UID {
		t.Errorf("ledger controller %+v, want the Tenant (uid %s)", ref, live.UID)
	}
	claim := &tenancyv1alpha1.HostnameClaim{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: claims.ClaimName(claims.GroupOf(host))}, claim); err != nil {
		t.Fatalf("the HostnameClaim of %s: %v", host, err)
	}
	for _, obj := range []client.Object{ledger, claim} {
		if obj.GetLabels()[tenancyv1alpha1.ManagedByLabel] != tenancyv1alpha1.ManagedByValue {
			t.Errorf("%T %s labels %v, want Bulkhead's managed label", obj, obj.GetName(), obj.GetLabels())
		}
	}

	forbidden := func(what string, err error, want string) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want Forbidden (%s)", what, err, want)
		}
	}
	forbidden("the owner reading the ledger", owner.Get(ctx, client.ObjectKeyFromObject(ledger), &tenancyv1alpha1.NamespaceLedger{}), `cannot get resource "namespaceledgers"`)
	forbidden("the owner listing claims", owner.List(ctx, &tenancyv1alpha1.HostnameClaimList{}), `cannot list resource "hostnameclaims"`)
	forbidden("the owner deleting the claim", owner.Delete(ctx, claim.DeepCopy()), `cannot delete resource "hostnameclaims"`)

	const operator = "cr-operator"
	name := "test-claims-" + operator
	env.Ensure(t, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{tenancyv1alpha1.GroupVersion.Group},
			Resources: []string{"namespaceledgers", "hostnameclaims"}, Verbs: []string{"get", "update", "delete"}}},
	})
	env.Ensure(t, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: operator}},
	})
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}})
		_ = env.Client.Delete(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
	op := env.As(operator)
	// The authorizer learns of the binding from a watch.
	testenv.Eventually(t, operator+" may read claims", func() error {
		return op.Get(ctx, client.ObjectKeyFromObject(claim), &tenancyv1alpha1.HostnameClaim{})
	})
	forged := claim.DeepCopy()
	forged.Spec.Holds = nil
	err := op.Update(ctx, forged)
	testenv.ExpectDenied(t, err, "is managed by Bulkhead [rule managed-objects]")
	err = op.Delete(ctx, ledger.DeepCopy())
	testenv.ExpectDenied(t, err, "tenant cr:", "is managed by Bulkhead [rule managed-objects]")
}

// TestHostnameClaimsAreSwept: a tenant that cycles Ingresses through ever
// new names leaves a hold for each in its group's claim; unswept, the claim
// would grow until the API server refused to store it, and with it every
// tenant's names in that group. The leader drops the holds that no longer
// stand and deletes a claim left with none, and a claim deleted under the
// webhook's feet is created again.
func TestHostnameClaimsAreSwept(t *testing.T) {
	ctx := context.Background()
	a := env.TenantWithNamespace(t, testutil.Tenant("hsw").Owner("hsw-owner").Obj(), "hsw-web")
	const cycled = 12
	for i := range cycled {
		ing := hostIngress("hsw-web", fmt.Sprintf("n%d", i), fmt.Sprintf("n%d.grow.test", i))
		if err := a.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
		if err := a.Delete(ctx, ing); err != nil {
			t.Fatal(err)
		}
	}
	// One Ingress stays: its hold must survive every sweep.
	if err := a.Create(ctx, hostIngress("hsw-web", "kept", "kept.grow.test")); err != nil {
		t.Fatal(err)
	}
	name := claims.ClaimName(claims.GroupOf("kept.grow.test"))
	claim := &tenancyv1alpha1.HostnameClaim{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, claim); err != nil {
		t.Fatal(err)
	}
	if len(claim.Spec.Holds) != cycled+1 {
		t.Fatalf("claim %s has %d holds while they are fresh, want %d", name, len(claim.Spec.Holds), cycled+1)
	}
	// Past the grace, only the served name is left.
	swept := func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, claim); err != nil {
			return err
		}
		if len(claim.Spec.Holds) != 1 || claim.Spec.Holds[0].Host != "kept.grow.test" {
			return fmt.Errorf("holds %+v", claim.Spec.Holds)
		}
		return nil
	}
	ageAll(t, name, claims.HoldGrace)
	testenv.Eventually(t, "claim "+name+" swept down to the served name", swept)
	// Aged too, the served hold stays: its Ingress stands for it.
	ageAll(t, name, time.Hour)
	for range 10 {
		time.Sleep(200 * time.Millisecond)
		if err := swept(); err != nil {
			t.Fatalf("the served hold after ageing: %v", err)
		}
	}
	// The last Ingress goes: so does the claim.
	if err := a.Delete(ctx, hostIngress("hsw-web", "kept", "kept.grow.test")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "claim "+name+" deleted with its last Ingress", func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &tenancyv1alpha1.HostnameClaim{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return errors.New("the claim is still there")
	})
	// And the group is claimable again, the claim created anew.
	if err := a.Create(ctx, hostIngress("hsw-web", "again", "again.grow.test")); err != nil {
		t.Fatalf("claiming a name of the swept group again: %v", err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, claim); err != nil {
		t.Fatalf("the claim created anew: %v", err)
	}
}

// ageAll moves every hold of the claim back by d, retrying when a sweep
// wrote the claim in between.
func ageAll(t *testing.T, name string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		claim := &tenancyv1alpha1.HostnameClaim{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, claim); err != nil {
			return err
		}
		for i, h := range claim.Spec.Holds {
			claim.Spec.Holds[i].ClaimTime = metav1.NewTime(h.ClaimTime.Add(-d))
		}
		return env.Client.Update(ctx, claim)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHostnameClaimFloodIsBounded: holds are written before the Ingress is
// stored, so an Ingress the API server refuses after admission (here, sent
// again under a name that exists) leaves holds no Ingress serves. A tenant
// doing that with ever new names could fill its group's claim until no
// tenant could take a name in it; one tenant's holds in a group are
// bounded instead, and the others still take theirs.
func TestHostnameClaimFloodIsBounded(t *testing.T) {
	ctx := context.Background()
	a := env.TenantWithNamespace(t, testutil.Tenant("fla").Owner("fla-owner").Obj(), "fla-web")
	b := env.TenantWithNamespace(t, testutil.Tenant("flb").Owner("flb-owner").Obj(), "flb-web")
	if err := a.Create(ctx, hostIngress("fla-web", "taken", "taken.flood.test")); err != nil {
		t.Fatal(err)
	}
	// As many names as one Ingress may carry, beside the one it serves;
	// enough sends to come within one of the tenant's bound.
	perFlood := ingress.MaxHostsPerIngress - 1
	passing := (claims.MaxHoldsPerTenant - 1) / perFlood
	flood := func(round int) error {
		ing := hostIngress("fla-web", "taken", "taken.flood.test")
		for i := range perFlood {
			rule := ing.Spec.Rules[0].DeepCopy()
			rule.Host = fmt.Sprintf("r%d-%d.flood.test", round, i)
			ing.Spec.Rules = append(ing.Spec.Rules, *rule)
		}
		return a.Create(ctx, ing)
	}
	// Each send passes admission, writing 99 holds, and is then refused
	// by the API server: the name exists.
	for round := range passing {
		if err := flood(round); !apierrors.IsAlreadyExists(err) {
			t.Fatalf("round %d: want AlreadyExists after admission, got %v", round, err)
		}
	}
	// The next would take the tenant past the bound: refused at admission.
	err := flood(passing)
	testenv.Rejected(t, err, "fla", "ingress.hostnames")
	testenv.ExpectDenied(t, err, fmt.Sprintf("more than %d hostnames of the group of *.flood.test", claims.MaxHoldsPerTenant))
	claim := &tenancyv1alpha1.HostnameClaim{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: claims.ClaimName("*.flood.test")}, claim); err != nil {
		t.Fatal(err)
	}
	if len(claim.Spec.Holds) > claims.MaxHoldsPerTenant {
		t.Errorf("claim holds %d names, more than one tenant's bound %d", len(claim.Spec.Holds), claims.MaxHoldsPerTenant)
	}
	// Another tenant still takes a free name of the group.
	if err := b.Create(ctx, hostIngress("flb-web", "shop", "shop.flood.test")); err != nil {
		t.Fatalf("tenant flb claiming a free name of the flooded group: %v", err)
	}
	t.Logf("after %d floods of %d names: %d holds in the claim, bound %d per tenant", passing+1, perFlood, len(claim.Spec.Holds), claims.MaxHoldsPerTenant)
}

// TestIngressHostnamesAreBounded: each hostname group an Ingress names
// costs a claim write before the Ingress is stored, so one Ingress of
// thousands of names in as many groups would be thousands of writes. An
// Ingress names at most MaxHostsPerIngress hostnames, and one refused for
// it writes no claim.
func TestIngressHostnamesAreBounded(t *testing.T) {
	ctx := context.Background()
	a := env.TenantWithNamespace(t, testutil.Tenant("amp").Owner("amp-owner").Obj(), "amp-web")
	many := func(n int) *networkingv1.Ingress {
		ing := hostIngress("amp-web", fmt.Sprintf("many-%d", n), "h0.g0.amp.test")
		for i := 1; i < n; i++ {
			rule := ing.Spec.Rules[0].DeepCopy()
			rule.Host = fmt.Sprintf("h%d.g%d.amp.test", i, i)
			ing.Spec.Rules = append(ing.Spec.Rules, *rule)
		}
		return ing
	}
	err := a.Create(ctx, many(ingress.MaxHostsPerIngress+1))
	testenv.Rejected(t, err, "amp", "ingress.hostnames")
	testenv.ExpectDenied(t, err, fmt.Sprintf("more than the %d one Ingress may", ingress.MaxHostsPerIngress))
	for _, group := range []string{"*.g0.amp.test", fmt.Sprintf("*.g%d.amp.test", ingress.MaxHostsPerIngress)} {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: claims.ClaimName(group)}, &tenancyv1alpha1.HostnameClaim{}); !apierrors.IsNotFound(err) {
			t.Errorf("the refused Ingress left HostnameClaim %s (%v)", claims.ClaimName(group), err)
		}
	}
	if err := a.Create(ctx, many(ingress.MaxHostsPerIngress)); err != nil {
		t.Fatalf("an Ingress of %d hostnames: %v", ingress.MaxHostsPerIngress, err)
	}
}
