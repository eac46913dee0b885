package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// Counts of any kind (count/<resource>.<group> in spec.quota.tenant.hard),
// with a custom resource installed for the purpose.

var widgetGVK = schema.GroupVersionKind{Group: "counts.example.com", Version: "v1", Kind: "Widget"}

const widgetsCount = "count/widgets.counts.example.com"

// widgetCRD installs, once, the namespaced custom resource
// widgets.counts.example.com, and lets user create and delete them
// anywhere, as a platform granting a tenant an operator's kind would.
func widgetCRD(t *testing.T, users ...string) {
	t.Helper()
	ctx := context.Background()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.counts.example.com"},
		"spec": map[string]any{
			"group": "counts.example.com", "scope": "Namespaced",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
	if err := env.Client.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("installing the Widget CRD: %v", err)
	}
	testenv.Eventually(t, "widgets served", func() error {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(widgetGVK.GroupVersion().WithKind("WidgetList"))
		return env.Client.List(ctx, list, client.Limit(1))
	})
	env.Ensure(t, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets-edit"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{widgetGVK.Group}, Resources: []string{"widgets"}, Verbs: []string{"create", "delete", "get", "list"}}},
	})
	for _, u := range users {
		env.Ensure(t, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "widgets-edit-" + u},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "widgets-edit"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: u}},
		})
	}
}

func widget(ns, name string) *unstructured.Unstructured {
	w := &unstructured.Unstructured{}
	w.SetGroupVersionKind(widgetGVK)
	w.SetNamespace(ns)
	w.SetName(name)
	return w
}

// quotaWebhookResources lists the group/resource pairs the quota webhook is
// sent creates of, beyond its pod and claim rules.
func quotaWebhookResources(t *testing.T) []string {
	t.Helper()
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: bwebhook.ConfigurationName}, v); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range v.Webhooks {
		if w.Name != "quota.tenancy.bulkhead.dev" {
			continue
		}
		for _, r := range w.Rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					if g == "*" || res == "*" {
						t.Fatalf("the quota webhook has a rule for every kind: %+v", r)
					}
					out = append(out, g+"/"+res)
				}
			}
		}
	}
	return out
}

// countOf waits for the recount to have counted key for tenant, and
// returns the usage on record.
func countOf(t *testing.T, tenant string, key corev1.ResourceName) int64 {
	t.Helper()
	var n int64
	testenv.Eventually(t, "tenant "+tenant+" counted", func() error {
		l := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: tenant}, l); err != nil {
			return err
		}
		q, ok := l.Status.Usage[key]
		if !ok {
			return fmt.Errorf("no %s in %v", key, l.Status.Usage)
		}
		n = q.Value()
		return nil
	})
	return n
}

// TestCountsOfAnyKindNeverOvershoot floods a tenant whose Tenant allows 5
// Widgets, from two namespaces at once: exactly 5 are admitted, every
// other is refused by the tenant quota rule naming the count; deleting two
// frees exactly two once recounted. A core kind (ConfigMaps) is counted
// the same way. The quota webhook is sent Widgets only while some Tenant
// counts them, and another tenant, which does not, is not limited.
func TestCountsOfAnyKindNeverOvershoot(t *testing.T) {
	ctx := context.Background()
	widgetCRD(t, "cnt-owner", "cnf-owner")
	l := testutil.Quantities
	tn := testutil.Tenant("cnt").Owner("cnt-owner").TenantQuota(l(widgetsCount, "5", "count/configmaps", "3")).Obj()
	owner := env.TenantWithNamespace(t, tn, "cnt-a")
	testenv.OwnerCreatesNamespace(t, owner, "cnt-b")
	deleteLedgerAtEnd(t, "cnt")
	testenv.Eventually(t, "the quota webhook sent Widgets", func() error {
		if got := quotaWebhookResources(t); !slices.Contains(got, "counts.example.com/widgets") || !slices.Contains(got, "/configmaps") {
			return fmt.Errorf("quota webhook resources %v", got)
		}
		return nil
	})
	if n := countOf(t, "cnt", widgetsCount); n != 0 {
		t.Fatalf("a tenant without Widgets counted %d", n)
	}

	flood := func(round string, n int) (admitted []string) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ns := []string{"cnt-a", "cnt-b"}[i%2]
				name := fmt.Sprintf("%s-%d", round, i)
				err := owner.Create(ctx, widget(ns, name))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					admitted = append(admitted, ns+"/"+name)
				case !strings.Contains(err.Error(), "tenant cnt:") || !strings.Contains(err.Error(), "[rule quota.tenant]") ||
					!strings.Contains(err.Error(), widgetsCount+": ") || !strings.Contains(err.Error(), "Widget "+name):
					t.Errorf("widget %s refused for another reason: %v", name, err)
				}
			}()
		}
		wg.Wait()
		return admitted
	}
	admitted := flood("w", 16)
	if len(admitted) != 5 {
		t.Fatalf("a flood of 16 Widgets under count 5 admitted %d: %v", len(admitted), admitted)
	}
	all := &unstructured.UnstructuredList{}
	all.SetGroupVersionKind(widgetGVK.GroupVersion().WithKind("WidgetList"))
	if err := env.Client.List(ctx, all); err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, w := range all.Items {
		if strings.HasPrefix(w.GetNamespace(), "cnt-") {
			held++
		}
	}
	if held != 5 {
		t.Fatalf("the tenant holds %d Widgets, want 5", held)
	}

	// Freed quota returns at the recount after the objects were counted: a
	// reservation for an object deleted before any recount saw it lasts
	// its full time.
	testenv.Eventually(t, "the five Widgets counted", func() error {
		led := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "cnt"}, led); err != nil {
			return err
		}
		if q := led.Status.Usage[widgetsCount]; q.Value() != 5 || len(led.Status.Reservations) != 0 {
			return fmt.Errorf("usage %v with %d reservations", led.Status.Usage, len(led.Status.Reservations))
		}
		return nil
	})
	for _, key := range admitted[:2] {
		ns, name, _ := strings.Cut(key, "/")
		if err := owner.Delete(ctx, widget(ns, name)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, "two Widgets freed", func() error {
		if n := countOf(t, "cnt", widgetsCount); n != 3 {
			return fmt.Errorf("count %d, want 3", n)
		}
		return nil
	})
	if again := flood("again", 6); len(again) != 2 {
		t.Fatalf("after freeing two, a flood of 6 admitted %d: %v", len(again), again)
	}

	// A core kind: whatever ConfigMaps the namespaces already hold count.
	base := countOf(t, "cnt", "count/configmaps")
	made := 0
	for i := range 5 {
		err := owner.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "cnt-b", Name: fmt.Sprintf("cm-%d", i)}})
		if err == nil {
			made++
			continue
		}
		testenv.Rejected(t, err, "cnt", "quota.tenant")
		testenv.ExpectDenied(t, err, "count/configmaps: ")
	}
	if int64(made) != 3-base {
		t.Fatalf("with %d ConfigMaps held, %d more admitted under count/configmaps 3", base, made)
	}

	// Another tenant with a tenant-wide quota, but no count of Widgets.
	free := testutil.Tenant("cnf").Owner("cnf-owner").TenantQuota(l("pods", "5")).Obj()
	other := env.TenantWithNamespace(t, free, "cnf-a")
	deleteLedgerAtEnd(t, "cnf")
	countOf(t, "cnf", "pods")
	for i := range 7 {
		if err := other.Create(ctx, widget("cnf-a", fmt.Sprintf("w-%d", i))); err != nil {
			t.Fatalf("a tenant that does not count Widgets: %v", err)
		}
	}

	// No Tenant counts Widgets any more: the webhook is no longer sent them.
	env.UpdateTenant(t, "cnt", func(t *tenancyv1alpha1.Tenant) { t.Spec.Quota.Tenant.Hard = l("pods", "5") })
	testenv.Eventually(t, "the quota webhook no longer sent Widgets", func() error {
		if got := quotaWebhookResources(t); slices.Contains(got, "counts.example.com/widgets") {
			return fmt.Errorf("quota webhook resources %v", got)
		}
		return nil
	})
}

// TestCountNamesAreValidated: a count that names no resource is refused
// with the field's path.
func TestCountNamesAreValidated(t *testing.T) {
	for _, key := range []string{"count/Widgets.example.com", "count/", "count/widgets..example.com", "widgets.example.com"} {
		tn := testutil.Tenant("cnv").Owner("cnv-owner").TenantQuota(testutil.Quantities(key, "1")).Obj()
		err := env.Client.Create(context.Background(), tn)
		if err == nil {
			_ = env.Client.Delete(context.Background(), tn)
			t.Fatalf("a Tenant counting %q was admitted", key)
		}
		testenv.ExpectDenied(t, err, "spec.quota.tenant.hard", "count/<resource>.<group>")
	}
}

// TestCountedKindsStopBeingWatched counts a kind no other Tenant counts:
// the manager watches its objects' metadata while the limit stands, and
// stops once the limit is gone, instead of holding them until it restarts.
// The API server's own count of open watches is the oracle: nothing else
// in this tier watches PodTemplates.
func TestCountedKindsStopBeingWatched(t *testing.T) {
	ctx := context.Background()
	tn := testutil.Tenant("prn").Owner("prn-owner").TenantQuota(testutil.Quantities("count/podtemplates", "5")).Obj()
	env.TenantWithNamespace(t, tn, "prn-a")
	deleteLedgerAtEnd(t, "prn")
	watches := func() (float64, error) {
		families, err := testenv.ScrapeAPIServer(ctx, env.Config())
		if err != nil {
			return 0, err
		}
		open := 0.0
		for _, m := range families["apiserver_longrunning_requests"].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["resource"] == "podtemplates" && labels["verb"] == "WATCH" {
				open += m.GetGauge().GetValue()
			}
		}
		return open, nil
	}
	reported := func() bool {
		return series(gathered(t)["bulkhead_tenant_quota_watched_kinds"], map[string]string{"resource": "podtemplates"}) != nil
	}
	testenv.Eventually(t, "podtemplates watched while counted", func() error {
		n, err := watches()
		if err != nil {
			return err
		}
		if n < 1 || !reported() {
			return fmt.Errorf("%.0f watches of podtemplates open at the API server, reported %v; want at least 1, reported", n, reported())
		}
		return nil
	})
	if err := env.Client.Patch(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "prn"}},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"quota":{"tenant":{"hard":{"count/podtemplates":null,"pods":"5"}}}}}`))); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "podtemplates no longer watched once no Tenant counts them", func() error {
		n, err := watches()
		if err != nil {
			return err
		}
		if n != 0 || reported() {
			return fmt.Errorf("%.0f watches of podtemplates still open at the API server, reported %v", n, reported())
		}
		return nil
	})
}
