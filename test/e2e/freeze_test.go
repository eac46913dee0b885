package e2e

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestFrozenTenant freezes a tenant that runs a Deployment and checks, as
// its owner would try, that nothing new starts: no pod, workload, Service
// or claim, no scale-up by the object or its scale subresource, no
// replacement for a pod that goes (the Deployment's ReplicaSet reports the
// refusal), no namespace; while what runs keeps running and scale-downs and
// deletes work. The Tenant's Frozen condition names the admin who froze it.
// Unfreezing restores everything. Then, with the manager stopped, an admin
// freezes one namespace by its label, which the API server alone enforces.
func TestFrozenTenant(t *testing.T) {
	const (
		tenant = "frz"
		owner  = "frz-owner"
		ns     = "frz-app"
		admin  = "ops-lead"
		image  = "docker.io/library/nginx:1"
	)
	dev := env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner(owner).Soft().Obj(), ns)
	for _, d := range []*appsv1.Deployment{testutil.Deployment(ns, "running", image, 1), testutil.Deployment(ns, "spare", image, 1)} {
		if err := dev.Create(ctx, d); err != nil {
			t.Fatalf("creating Deployment %s: %v", d.Name, err)
		}
	}
	runningPods := func(app string) ([]corev1.Pod, error) {
		list := &corev1.PodList{}
		if err := env.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{"app": app}); err != nil {
			return nil, err
		}
		var out []corev1.Pod
		for _, p := range list.Items {
			if p.DeletionTimestamp.IsZero() {
				out = append(out, p)
			}
		}
		return out, nil
	}
	onePod := func(app string) func() error {
		return func() error {
			pods, err := runningPods(app)
			if err == nil && len(pods) != 1 {
				err = fmt.Errorf("%d pods of %s, want 1", len(pods), app)
			}
			return err
		}
	}
	testenv.Eventually(t, "a pod of each Deployment", func() error {
		if err := onePod("running")(); err != nil {
			return err
		}
		return onePod("spare")()
	})

	// A cluster admin freezes the tenant.
	setState := func(state tenancyv1alpha1.TenantState) {
		t.Helper()
		if err := env.As(admin, "system:masters").Patch(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenant}},
			client.RawPatch(types.MergePatchType, []byte(`{"spec":{"state":"`+state+`"}}`))); err != nil {
			t.Fatalf("setting state %s: %v", state, err)
		}
	}
	// policyFrozen waits until the namespace is frozen (want) or not as
	// Bulkhead renders it, its TenantPolicy and its state label, which the
	// freeze binding selects, and the API server acts on it.
	policyFrozen := func(want bool) {
		t.Helper()
		testenv.Eventually(t, fmt.Sprintf("namespace %s frozen=%v", ns, want), func() error {
			p := &tenancyv1alpha1.TenantPolicy{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}, p); err != nil {
				return err
			}
			got := &corev1.Namespace{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
				return err
			}
			if labelled := got.Labels[tenancyv1alpha1.StateLabel] == string(tenancyv1alpha1.TenantFrozen); p.Spec.Frozen != want || labelled != want {
				return fmt.Errorf("TenantPolicy frozen %v, state label %v", p.Spec.Frozen, labelled)
			}
			err := dev.Create(ctx, testutil.Pod(ns, "probe", image), client.DryRunAll)
			switch {
			case want && err == nil:
				return fmt.Errorf("a pod is still admitted")
			case want && !strings.Contains(err.Error(), "[rule state]"):
				return err
			case !want && err != nil:
				return err
			}
			return nil
		})
	}
	setState(tenancyv1alpha1.TenantFrozen)
	policyFrozen(true)

	t.Run("the Tenant says who froze it", func(t *testing.T) {
		testenv.Eventually(t, "Frozen condition", func() error {
			tn := &tenancyv1alpha1.Tenant{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: tenant}, tn); err != nil {
				return err
			}
			if got := tn.Annotations[tenancyv1alpha1.FrozenByAnnotation]; got != admin {
				return fmt.Errorf("annotation %s = %q, want %q", tenancyv1alpha1.FrozenByAnnotation, got, admin)
			}
			c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionFrozen)
			if c == nil || c.Status != metav1.ConditionTrue || c.Reason != tenancyv1alpha1.ReasonFrozen || !strings.Contains(c.Message, "by "+admin) {
				return fmt.Errorf("Frozen condition %+v", c)
			}
			return nil
		})
	})

	t.Run("nothing new starts", func(t *testing.T) {
		for _, obj := range []client.Object{
			testutil.Pod(ns, "new", image),
			testutil.Deployment(ns, "new", image, 1),
			testutil.CronJob(ns, "new", image),
			testutil.Service(ns, "new"),
			testutil.PVC(ns, "new", "standard"),
		} {
			testenv.Rejected(t, dev.Create(ctx, obj), tenant, "state")
		}
		err := testenv.CreateNamespaceAs(dev, "frz-more", nil)
		testenv.Rejected(t, err, tenant, "state")
		testenv.ExpectDenied(t, err, "frozen by "+admin)
	})

	t.Run("no scale-up, by the object or its scale subresource", func(t *testing.T) {
		d := &appsv1.Deployment{}
		if err := dev.Get(ctx, client.ObjectKey{Namespace: ns, Name: "running"}, d); err != nil {
			t.Fatal(err)
		}
		d.Spec.Replicas = ptr.To[int32](3)
		testenv.Rejected(t, dev.Update(ctx, d), tenant, "state")
		scale := &autoscalingv1.Scale{}
		if err := dev.SubResource("scale").Get(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "running"}}, scale); err != nil {
			t.Fatal(err)
		}
		scale.Spec.Replicas = 5
		err := dev.SubResource("scale").Update(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "running"}}, client.WithSubResourceBody(scale))
		testenv.Rejected(t, err, tenant, "state")
		testenv.ExpectDenied(t, err, "nothing is scaled up")
	})

	t.Run("running pods are not changed, nor run anything new", func(t *testing.T) {
		pods, err := runningPods("running")
		if err != nil || len(pods) != 1 {
			t.Fatalf("pods of running: %d, %v", len(pods), err)
		}
		p := pods[0].DeepCopy()
		p.Spec.Containers[0].Image = "docker.io/library/nginx:2"
		testenv.Rejected(t, dev.Update(ctx, p), tenant, "state")
		cs, err := kubernetes.NewForConfig(env.Cluster.Impersonate(owner))
		if err != nil {
			t.Fatal(err)
		}
		// The API server judges an exec before it reaches the node.
		err = cs.CoreV1().RESTClient().Post().Namespace(ns).Resource("pods").Name(p.Name).SubResource("exec").
			Param("command", "sh").Param("stdout", "true").Do(ctx).Error()
		testenv.Rejected(t, err, tenant, "state")
		testenv.ExpectDenied(t, err, "nothing new is run in its pods")
	})

	t.Run("what runs keeps running; a pod that goes is not replaced", func(t *testing.T) {
		if err := onePod("running")(); err != nil {
			t.Fatalf("the running pod did not survive the freeze: %v", err)
		}
		pods, err := runningPods("spare")
		if err != nil || len(pods) != 1 {
			t.Fatalf("pods of spare: %d, %v", len(pods), err)
		}
		if err := dev.Delete(ctx, &pods[0]); err != nil {
			t.Fatalf("deleting a pod of a frozen tenant: %v", err)
		}
		env.ReplicaSetRefused(t, ns, "spare", tenant, "state")
	})

	t.Run("scale-downs and deletes work", func(t *testing.T) {
		scale := &autoscalingv1.Scale{}
		target := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spare"}}
		if err := dev.SubResource("scale").Get(ctx, target, scale); err != nil {
			t.Fatal(err)
		}
		scale.Spec.Replicas = 0
		if err := dev.SubResource("scale").Update(ctx, target, client.WithSubResourceBody(scale)); err != nil {
			t.Fatalf("scaling down to zero: %v", err)
		}
		if err := dev.Delete(ctx, target); err != nil {
			t.Fatalf("deleting a Deployment: %v", err)
		}
	})

	t.Run("unfreezing restores everything", func(t *testing.T) {
		setState(tenancyv1alpha1.TenantActive)
		policyFrozen(false)
		if err := dev.Create(ctx, testutil.Pod(ns, "after", image)); err != nil {
			t.Fatalf("a pod after unfreezing: %v", err)
		}
		if err := testenv.CreateNamespaceAs(dev, "frz-more", nil); err != nil {
			t.Fatalf("a namespace after unfreezing: %v", err)
		}
		d := &appsv1.Deployment{}
		if err := dev.Get(ctx, client.ObjectKey{Namespace: ns, Name: "running"}, d); err != nil {
			t.Fatal(err)
		}
		d.Spec.Replicas = ptr.To[int32](2)
		if err := dev.Update(ctx, d); err != nil {
			t.Fatalf("a scale-up after unfreezing: %v", err)
		}
		testenv.Eventually(t, "the Frozen condition cleared", func() error {
			tn := &tenancyv1alpha1.Tenant{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: tenant}, tn); err != nil {
				return err
			}
			if c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionFrozen); c == nil || c.Status != metav1.ConditionFalse || c.Reason != tenancyv1alpha1.ReasonActive {
				return fmt.Errorf("Frozen condition %+v", c)
			}
			return nil
		})
	})

	t.Run("an admin's label freezes a namespace with the manager down", func(t *testing.T) {
		env.StopManager()
		restarted := false
		t.Cleanup(func() {
			if !restarted {
				if err := env.StartManager(); err != nil {
					t.Errorf("restarting the manager: %v", err)
				}
			}
		})
		label := func(value *string) {
			t.Helper()
			patch := labelPatch(tenancyv1alpha1.FrozenLabel, value)
			if err := env.Client.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, client.RawPatch(types.MergePatchType, patch)); err != nil {
				t.Fatalf("labelling %s: %v", ns, err)
			}
		}
		label(ptr.To("ops"))
		// The API server reads the label as the namespace changes: wait
		// for its informer, then check the reason.
		testenv.Eventually(t, "a pod refused by label", func() error {
			err := dev.Create(ctx, testutil.Pod(ns, "labelled", image))
			if err == nil {
				_ = env.Client.Delete(ctx, testutil.Pod(ns, "labelled", image))
				return fmt.Errorf("admitted")
			}
			if !strings.Contains(err.Error(), "[rule state]") {
				return err
			}
			return nil
		})
		err := dev.Create(ctx, testutil.Pod(ns, "labelled", image))
		testenv.Rejected(t, err, tenant, "state")
		testenv.ExpectDenied(t, err, "namespace "+ns+" is frozen (label "+tenancyv1alpha1.FrozenLabel+") by ops")

		// Back up, the manager leaves the admin's label alone.
		if err := env.StartManager(); err != nil {
			t.Fatal(err)
		}
		restarted = true
		env.WaitReady(t, tenant)
		got := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
			t.Fatal(err)
		}
		if got.Labels[tenancyv1alpha1.FrozenLabel] != "ops" {
			t.Fatalf("the manager dropped the admin's freeze label: %v", got.Labels)
		}
		// Nor can the owner step around it with a fresh namespace.
		testenv.Rejected(t, testenv.CreateNamespaceAs(dev, "frz-fresh", nil), tenant, "state")
		// A tenant cannot lift it.
		lift := client.RawPatch(types.MergePatchType, labelPatch(tenancyv1alpha1.FrozenLabel, nil))
		env.GrantNamespacePatch(t, owner)
		testenv.Rejected(t, dev.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, lift), tenant, "namespaces.labels")
		label(nil)
		testenv.Eventually(t, "a pod admitted once the label is gone", func() error {
			return dev.Create(ctx, testutil.Pod(ns, "unlabelled", image))
		})
	})
}

// labelPatch is a merge patch setting label key to *value, or removing it
// when value is nil.
func labelPatch(key string, value *string) []byte {
	v := "null"
	if value != nil {
		v = `"` + *value + `"`
	}
	return []byte(`{"metadata":{"labels":{"` + key + `":` + v + `}}}`)
}
