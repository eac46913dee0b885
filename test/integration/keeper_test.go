package integration

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/keeper"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// restoreWithin is how soon drift must be reverted: well under the minute
// the timed loops this keeper replaced took.
const restoreWithin = 10 * time.Second

// within is eventually with a tighter deadline.
func within(t *testing.T, d time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not within %v: %v", what, d, err)
}

// TestKeeperRestoresClusterObjects edits and deletes the cluster-wide
// objects Bulkhead keeps, as an admin would by mistake, and sees each one
// back as rendered within seconds: the keeper is driven by watches, not by a
// timed round.
func TestKeeperRestoresClusterObjects(t *testing.T) {
	ctx := context.Background()
	s := env.Settings

	t.Run("ValidatingAdmissionPolicy", func(t *testing.T) {
		var want *admissionregistrationv1.ValidatingAdmissionPolicy
		for _, obj := range render.ValidatingPolicies(s) {
			if p, ok := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy); ok && p.Name == render.PodsPolicy {
				want = p
			}
		}
		restored := func() error {
			got := &admissionregistrationv1.ValidatingAdmissionPolicy{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: want.Name}, got); err != nil {
				return err
			}
			if diff := cmp.Diff(want.Spec.Validations, got.Spec.Validations); diff != "" {
				return fmt.Errorf("validations differ (-want +got):\n%s", diff)
			}
			if *got.Spec.FailurePolicy != *want.Spec.FailurePolicy {
				return fmt.Errorf("failurePolicy %s, want %s", *got.Spec.FailurePolicy, *want.Spec.FailurePolicy)
			}
			return nil
		}
		within(t, restoreWithin, "the pods policy in place", restored)

		p := &admissionregistrationv1.ValidatingAdmissionPolicy{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: want.Name}, p); err != nil {
			t.Fatal(err)
		}
		p.Spec.FailurePolicy = ptr.To(admissionregistrationv1.Ignore)
		p.Spec.Validations = p.Spec.Validations[:1]
		if err := env.Client.Update(ctx, p); err != nil {
			t.Fatal(err)
		}
		within(t, restoreWithin, "the edited pods policy restored", restored)

		if err := env.Client.Delete(ctx, p); err != nil {
			t.Fatal(err)
		}
		within(t, restoreWithin, "the deleted pods policy restored", restored)

		b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: want.Name}, b); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Delete(ctx, b); err != nil {
			t.Fatal(err)
		}
		within(t, restoreWithin, "the deleted pods binding restored", func() error {
			got := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: want.Name}, got); err != nil {
				return err
			}
			if got.Spec.PolicyName != want.Name || got.Spec.ParamRef == nil || got.Spec.ParamRef.Name != tenancyv1alpha1.TenantPolicyName {
				return fmt.Errorf("binding %+v", got.Spec)
			}
			return nil
		})
	})

	t.Run("ClusterRole", func(t *testing.T) {
		var want *rbacv1.ClusterRole
		for _, r := range render.ClusterRoles(s) {
			if r.Name == render.OwnerClusterRole {
				want = r
			}
		}
		restored := func() error {
			got := &rbacv1.ClusterRole{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: want.Name}, got); err != nil {
				return err
			}
			if diff := cmp.Diff(want.Rules, got.Rules); diff != "" {
				return fmt.Errorf("rules differ (-want +got):\n%s", diff)
			}
			return nil
		}
		within(t, restoreWithin, "the owner ClusterRole in place", restored)

		role := &rbacv1.ClusterRole{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: want.Name}, role); err != nil {
			t.Fatal(err)
		}
		role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"delete"}})
		if err := env.Client.Update(ctx, role); err != nil {
			t.Fatal(err)
		}
		within(t, restoreWithin, "the widened owner ClusterRole restored", restored)

		if err := env.Client.Delete(ctx, role); err != nil {
			t.Fatal(err)
		}
		within(t, restoreWithin, "the deleted owner ClusterRole restored", restored)
	})

	t.Run("WebhookConfiguration", func(t *testing.T) {
		secret := &corev1.Secret{}
		if err := env.Client.Get(ctx, keeper.SecretKey(s), secret); err != nil {
			t.Fatalf("the serving certificate's Secret: %v", err)
		}
		if secret.Labels[tenancyv1alpha1.ManagedByLabel] != tenancyv1alpha1.ManagedByValue {
			t.Errorf("the serving certificate's Secret is not labelled as Bulkhead's: %v", secret.Labels)
		}
		wantNames := []string{"namespaces.tenancy.bulkhead.dev", "quota.tenancy.bulkhead.dev", "ingresses.tenancy.bulkhead.dev",
			"referencegrants.tenancy.bulkhead.dev", "volumes.tenancy.bulkhead.dev", "tenants.tenancy.bulkhead.dev"}
		restored := func() error {
			got := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: bwebhook.ConfigurationName}, got); err != nil {
				return err
			}
			var names []string
			for _, w := range got.Webhooks {
				names = append(names, w.Name)
				if !bytes.Equal(w.ClientConfig.CABundle, secret.Data["ca.crt"]) {
					return fmt.Errorf("webhook %s does not carry the serving certificate's CA", w.Name)
				}
				if w.FailurePolicy == nil || *w.FailurePolicy != admissionregistrationv1.Fail {
					return fmt.Errorf("webhook %s failurePolicy %v, want Fail", w.Name, w.FailurePolicy)
				}
			}
			if !slices.Equal(names, wantNames) {
				return fmt.Errorf("webhooks %v, want %v", names, wantNames)
			}
			return nil
		}
		within(t, restoreWithin, "the validating webhook configuration in place", restored)

		cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: bwebhook.ConfigurationName}, cfg); err != nil {
			t.Fatal(err)
		}
		// Someone drops the quota webhook and opens the namespace one.
		cfg.Webhooks = slices.DeleteFunc(cfg.Webhooks, func(w admissionregistrationv1.ValidatingWebhook) bool {
			return w.Name == "quota.tenancy.bulkhead.dev"
		})
		cfg.Webhooks[0].FailurePolicy = ptr.To(admissionregistrationv1.Ignore)
		if err := env.Client.Update(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		within(t, restoreWithin, "the edited validating webhook configuration restored", restored)

		if err := env.Client.Delete(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		within(t, restoreWithin, "the deleted validating webhook configuration restored", restored)

		mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: bwebhook.ConfigurationName}, mutating); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Delete(ctx, mutating); err != nil {
			t.Fatal(err)
		}
		within(t, restoreWithin, "the deleted mutating webhook configuration restored", func() error {
			got := &admissionregistrationv1.MutatingWebhookConfiguration{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: bwebhook.ConfigurationName}, got); err != nil {
				return err
			}
			if len(got.Webhooks) == 0 || got.Webhooks[0].Name != "namespaces.tenancy.bulkhead.dev" {
				return fmt.Errorf("webhooks %v", got.Webhooks)
			}
			return nil
		})
	})

	t.Run("a policy Bulkhead no longer renders is pruned", func(t *testing.T) {
		stale := &admissionregistrationv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "bulkhead-retired-rule", Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				FailurePolicy: ptr.To(admissionregistrationv1.Fail),
				MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
						Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
					},
				}}},
				Validations: []admissionregistrationv1.Validation{{Expression: "true"}},
			},
		}
		if err := env.Client.Create(ctx, stale); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), stale) })
		within(t, restoreWithin, "the retired policy deleted", func() error {
			return testenv.Gone(env.Client.Get(ctx, client.ObjectKeyFromObject(stale), &admissionregistrationv1.ValidatingAdmissionPolicy{}), "the retired policy")
		})
	})

	t.Run("every Tenant says the cluster-wide objects are in place", func(t *testing.T) {
		env.CreateTenant(t, testutil.Tenant("keeper").Owner("keeper-owner").Obj())
		testenv.Eventually(t, "ClusterObjectsReady on tenant keeper", func() error {
			tn := &tenancyv1alpha1.Tenant{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: "keeper"}, tn); err != nil {
				return err
			}
			c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionClusterObjectsReady)
			if c == nil || c.Status != metav1.ConditionTrue || c.Reason != tenancyv1alpha1.ReasonApplied || c.ObservedGeneration != tn.Generation {
				return fmt.Errorf("ClusterObjectsReady is %+v", c)
			}
			return nil
		})
	})
}

// TestKeeperPrunesOnlyWhatItRetired: an object labelled as Bulkhead's is
// not pruned for that alone. A policy binding carrying a tenant label is a
// tenant's, and a ClusterRole is never pruned (people bind to ClusterRoles),
// even one Bulkhead does not render; a retired shared binding is.
func TestKeeperPrunesOnlyWhatItRetired(t *testing.T) {
	ctx := context.Background()
	managed := map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}
	binding := func(name string, labels map[string]string) *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
		return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			// A policy that does not exist: the binding enforces nothing.
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        "bulkhead-keeper-test-absent",
				ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			},
		}
	}
	tenants := binding("keeper-prune-tenant", render.ManagedLabels("keeper-prune", render.ConcernAdmission))
	foreignRole := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "keeper-prune-foreign", Labels: managed}}
	retired := binding("bulkhead-retired-binding", managed)
	// Created in this order: the retired binding shares an informer with the
	// tenant's, so the round that prunes it has seen the tenant's too.
	for _, obj := range []client.Object{tenants, foreignRole, retired} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
	}
	within(t, restoreWithin, "the retired binding pruned", func() error {
		return testenv.Gone(env.Client.Get(ctx, client.ObjectKeyFromObject(retired), &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}), "the retired binding")
	})

	// The same for ClusterRoles: a round that restores a widened owner role
	// has seen the foreign one, created earlier.
	owner := &rbacv1.ClusterRole{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: render.OwnerClusterRole}, owner); err != nil {
		t.Fatal(err)
	}
	wantRules := owner.Rules
	owner.Rules = append(owner.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}})
	if err := env.Client.Update(ctx, owner); err != nil {
		t.Fatal(err)
	}
	within(t, restoreWithin, "the widened owner ClusterRole restored", func() error {
		got := &rbacv1.ClusterRole{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: render.OwnerClusterRole}, got); err != nil {
			return err
		}
		if diff := cmp.Diff(wantRules, got.Rules); diff != "" {
			return fmt.Errorf("rules differ (-want +got):\n%s", diff)
		}
		return nil
	})

	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(tenants), &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}); err != nil {
		t.Errorf("the tenant-labelled binding was pruned: %v", err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(foreignRole), &rbacv1.ClusterRole{}); err != nil {
		t.Errorf("a ClusterRole labelled as Bulkhead's that it does not render was deleted: %v", err)
	}
}

// TestKeeperNoOpRoundWritesNothing: a round over an unchanged set writes
// nothing, on a real API server whose defaults and managed fields surround
// every object. An annotation another manager adds to a kept policy brings a
// round, and is not drift; a policy deleted after it (same informer, so the
// round that restores it has seen the annotation) costs exactly one write.
func TestKeeperNoOpRoundWritesNothing(t *testing.T) {
	ctx := context.Background()
	restored := func(name string) func() error {
		return func() error {
			return env.Client.Get(ctx, client.ObjectKey{Name: name}, &admissionregistrationv1.ValidatingAdmissionPolicy{})
		}
	}
	within(t, restoreWithin, "the services policy in place", restored(render.ServicesPolicy))
	before := writesTotal(t)

	pods := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: render.PodsPolicy}, pods); err != nil {
		t.Fatal(err)
	}
	if pods.Annotations == nil {
		pods.Annotations = map[string]string{}
	}
	pods.Annotations["example.com/reviewed-by"] = "platform-team"
	if err := env.Client.Update(ctx, pods); err != nil {
		t.Fatal(err)
	}
	services := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: render.ServicesPolicy}}
	if err := env.Client.Delete(ctx, services); err != nil {
		t.Fatal(err)
	}
	within(t, restoreWithin, "the deleted services policy restored", restored(render.ServicesPolicy))

	// Consistently: a write the annotation caused could land just after
	// the restore, in the same round or the next.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got := writesTotal(t) - before; got != 1 {
			t.Fatalf("bulkhead_cluster_object_writes_total rose by %v, want 1 (the restored policy): an unchanged object was written", got)
		}
	}
	got := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: render.PodsPolicy}, got); err != nil {
		t.Fatal(err)
	}
	if got.Annotations["example.com/reviewed-by"] != "platform-team" {
		t.Errorf("another manager's annotation was removed: %v", got.Annotations)
	}
}

// writesTotal is bulkhead_cluster_object_writes_total over every kind, as
// the in-process manager counts it.
func writesTotal(t *testing.T) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() == "bulkhead_cluster_object_writes_total" {
			for _, m := range f.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}
