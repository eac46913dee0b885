package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

var ctx = context.Background()

func TestDriftIsRepaired(t *testing.T) {
	env.CreateTenant(t, testutil.Tenant("hooli").Owner("gavin").Hard().Obj())
	env.WaitReady(t, "hooli")
	testenv.OwnerCreatesNamespace(t, env.As("gavin"), "hooli-a")
	key := client.ObjectKey{Namespace: "hooli-a", Name: render.OwnersBinding}
	testenv.Eventually(t, "owners RoleBinding", func() error { return env.Client.Get(ctx, key, &rbacv1.RoleBinding{}) })
	testenv.Eventually(t, "ingress NetworkPolicy", func() error {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: "hooli-a", Name: render.IngressPolicy}, &networkingv1.NetworkPolicy{})
	})
	if err := env.Client.Delete(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "deleted RoleBinding restored", func() error { return env.Client.Get(ctx, key, &rbacv1.RoleBinding{}) })

	np := &networkingv1.NetworkPolicy{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "hooli-a", Name: render.IngressPolicy}, np); err != nil {
		t.Fatal(err)
	}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}} // allow everything
	if err := env.Client.Update(ctx, np); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "edited NetworkPolicy restored", func() error {
		got := &networkingv1.NetworkPolicy{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(np), got); err != nil {
			return err
		}
		if len(got.Spec.Ingress) != 1 || len(got.Spec.Ingress[0].From) == 0 {
			return fmt.Errorf("ingress still %+v", got.Spec.Ingress)
		}
		return nil
	})

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "hooli-a"}}
	loosen := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`))
	if err := env.Client.Patch(ctx, ns, loosen); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "Pod Security label restored", func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ns), ns); err != nil {
			return err
		}
		if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
			return fmt.Errorf("enforce is %q", got)
		}
		return nil
	})
}

func TestMalformedTenantsAreRefusedWithFieldPaths(t *testing.T) {
	for _, tc := range []struct {
		name string
		obj  *tenancyv1alpha1.Tenant
		want []string
	}{
		{"no owners", testutil.Tenant("bad-a").Obj(), []string{"spec.owners"}},
		{"service account without namespace", func() *tenancyv1alpha1.Tenant {
			tn := testutil.Tenant("bad-b").Obj()
			tn.Spec.Owners = []tenancyv1alpha1.Subject{{Kind: tenancyv1alpha1.SubjectServiceAccount, Name: "ci"}}
			return tn
		}(), []string{"spec.owners[0]", "a ServiceAccount subject needs a namespace"}},
		{"name too long", testutil.Tenant(strings.Repeat("a", 41)).Owner("x").Obj(), []string{"tenant name must be a DNS label of at most 40 characters"}},
		{"bad CIDR", testutil.Tenant("bad-c").Owner("x").DenyCIDRs("10.0.0.0/33").Obj(), []string{"spec.network.egress.denyCIDRs", "must be a CIDR"}},
		{"negative max", testutil.Tenant("bad-d").Owner("x").Max(-1).Obj(), []string{"spec.namespaces.max"}},
		{"a locked label Bulkhead decides", testutil.Tenant("bad-g").Owner("x").Labels(map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}).Obj(),
			[]string{"spec.namespaces.labels", "set by Bulkhead only"}},
		{"a locked annotation in Bulkhead's domain", testutil.Tenant("bad-h").Owner("x").Annotations(map[string]string{"tenancy.bulkhead.dev/retained": "x"}).Obj(),
			[]string{"spec.namespaces.annotations", "set by Bulkhead only"}},
		{"unknown isolation", func() *tenancyv1alpha1.Tenant {
			tn := testutil.Tenant("bad-f").Owner("x").Obj()
			tn.Spec.Isolation = "Medium"
			return tn
		}(), []string{"spec.isolation", `"Soft", "Hard"`}},
		{"negative tenant-wide quota", testutil.Tenant("bad-g").Owner("x").TenantQuota(testutil.Quantities("pods", "10", "requests.cpu", "-1")).Obj(),
			[]string{"spec.quota.tenant.hard: Invalid value: quantities must not be negative"}},
		{"negative namespace quota", testutil.Tenant("bad-h").Owner("x").NamespaceQuota(testutil.Quantities("limits.memory", "-1Gi", "pods", "-1")).Obj(),
			[]string{"spec.quota.namespace.hard: Invalid value: quantities must not be negative"}},
		{"negative default request", testutil.Tenant("bad-i").Owner("x").ContainerLimits(tenancyv1alpha1.LimitsSpec{DefaultRequest: testutil.Quantities("cpu", "-100m")}).Obj(),
			[]string{"spec.limits.defaultRequest: Invalid value: quantities must not be negative"}},
		{"negative default limit", testutil.Tenant("bad-j").Owner("x").ContainerLimits(tenancyv1alpha1.LimitsSpec{Default: testutil.Quantities("memory", "-1")}).Obj(),
			[]string{"spec.limits.default: Invalid value: quantities must not be negative"}},
		{"negative container max", testutil.Tenant("bad-k").Owner("x").ContainerLimits(tenancyv1alpha1.LimitsSpec{Max: testutil.Quantities("ephemeral-storage", "-1Gi")}).Obj(),
			[]string{"spec.limits.max: Invalid value: quantities must not be negative"}},
		{"negative container min", testutil.Tenant("bad-l").Owner("x").ContainerLimits(tenancyv1alpha1.LimitsSpec{Min: testutil.Quantities("cpu", "-0.5")}).Obj(),
			[]string{"spec.limits.min: Invalid value: quantities must not be negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := env.Client.Create(ctx, tc.obj)
			if err == nil {
				_ = env.Client.Delete(ctx, tc.obj)
				t.Fatal("malformed tenant was accepted")
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want Invalid, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err.Error(), w)
				}
			}
		})
	}

	// What the quantity rules must still let through: zero and positive
	// quantities, in every form a ResourceList takes.
	l := testutil.Quantities
	fine := testutil.Tenant("fine-q").Owner("x").
		TenantQuota(l("pods", "0", "requests.cpu", "1500m", "limits.memory", "1Gi")).
		NamespaceQuota(l("pods", "10", "requests.storage", "0", "count/jobs.batch", "5")).
		ContainerLimits(tenancyv1alpha1.LimitsSpec{
			DefaultRequest: l("cpu", "0.1"), Default: l("memory", "512Mi"), Max: l("cpu", "4", "example.com/gpu", "1"), Min: l("cpu", "0"),
		}).Obj()
	if err := env.Client.Create(ctx, fine, client.DryRunAll); err != nil {
		t.Errorf("a tenant with zero and positive quantities was refused: %v", err)
	}

	// A quantity sent as a JSON number, as a hand-written request may, is
	// checked too.
	number := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": tenancyv1alpha1.GroupVersion.String(), "kind": "Tenant",
		"metadata": map[string]any{"name": "bad-number"},
		"spec": map[string]any{
			"owners": []any{map[string]any{"kind": "User", "name": "x"}},
			"quota":  map[string]any{"namespace": map[string]any{"hard": map[string]any{"pods": int64(-1)}}},
		},
	}}
	if err := env.Client.Create(ctx, number, client.DryRunAll); !apierrors.IsInvalid(err) ||
		!strings.Contains(err.Error(), "spec.quota.namespace.hard: Invalid value: quantities must not be negative") {
		t.Errorf("a negative JSON number in quota.namespace.hard: got %v, want Invalid at spec.quota.namespace.hard", err)
	}

	// The usage ledger cannot record a negative either, whoever writes it.
	ledger := testutil.Tenant("ledger-q").Owner("x").Obj()
	env.CreateTenant(t, ledger)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		got := &tenancyv1alpha1.Tenant{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ledger), got); err != nil {
			return err
		}
		got.Status.Usage = l("pods", "-3")
		return env.Client.Status().Update(ctx, got)
	})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "status.usage: Invalid value: quantities must not be negative") {
		t.Errorf("a negative usage written to status: got %v, want Invalid at status.usage", err)
	}
}

// TestEveryControllerKeepsItsFinalizer: controllers add their finalizers at
// the same moment on many new Tenants; none may drop another's, or that
// controller's objects would outlive the Tenant.
func TestEveryControllerKeepsItsFinalizer(t *testing.T) {
	want := []string{"tenancy.bulkhead.dev/admission", "tenancy.bulkhead.dev/fairness", "tenancy.bulkhead.dev/namespaces", "tenancy.bulkhead.dev/network", "tenancy.bulkhead.dev/quota", "tenancy.bulkhead.dev/rbac"}
	var names []string
	for i := 0; i < 10; i++ {
		name := fmt.Sprintf("fin-%d", i)
		env.CreateTenant(t, testutil.Tenant(name).Owner("owner-"+name).Obj())
		names = append(names, name)
	}
	for _, name := range names {
		tn := env.WaitReady(t, name)
		got := append([]string(nil), tn.Finalizers...)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("tenant %s finalizers = %v, want %v", name, got, want)
		}
	}
}

// TestAdminAdoptsANamespaceByLabel: a cluster admin brings an existing
// namespace into a tenant with the tenant label alone; Bulkhead stamps the
// rest and renders the tenant's objects there.
func TestAdminAdoptsANamespaceByLabel(t *testing.T) {
	env.CreateTenant(t, testutil.Tenant("umbrella").Owner("ursula").Hard().Obj())
	env.WaitReady(t, "umbrella")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "legacy-app"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	adopt := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"tenancy.bulkhead.dev/tenant":"umbrella"}}}`))
	if err := env.Client.Patch(ctx, ns, adopt); err != nil {
		t.Fatalf("admin adopting: %v", err)
	}
	testenv.Eventually(t, "adopted namespace stamped and furnished", func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ns), ns); err != nil {
			return err
		}
		if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
			return fmt.Errorf("enforce label %q", got)
		}
		return env.Client.Get(ctx, client.ObjectKey{Namespace: "legacy-app", Name: render.OwnersBinding}, &rbacv1.RoleBinding{})
	})
	testenv.Eventually(t, "owner may work in the adopted namespace", func() error {
		return testenv.CanI(env.As("ursula"), "create", "pods", "legacy-app")
	})
}
