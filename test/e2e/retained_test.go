package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestRetainedNamespaceIsLocked deletes a Hard tenant with deletionPolicy
// Retain after its owner planted a Deployment, a CronJob, a running pod,
// RoleBindings and a NetworkPolicy of their own, and checks that what is left is kept and
// locked: no tenant label, restricted Pod Security, no network, nobody of
// the tenant with access, and no new pod whoever asks, the planted
// workloads' controllers included. Then an admin adopts one namespace into
// another tenant, which brings it under that tenant's rules and lets pods
// run again, and releases the other, which leaves nothing of Bulkhead.
func TestRetainedNamespaceIsLocked(t *testing.T) {
	const (
		tenant = "ret"
		owner  = "ret-owner"
		ns     = "ret-app"
		other  = "ret-old"
		image  = "registry.example.com/app:1"
	)
	former := env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner(owner).Hard().DeletionPolicy(tenancyv1alpha1.DeletionRetain).Obj(), ns)
	testenv.OwnerCreatesNamespace(t, former, other)

	// What the owner leaves behind: a pod, workloads that make pods, and
	// access of their own.
	for _, obj := range []client.Object{
		testutil.Pod(ns, "resident", image),
		testutil.Deployment(ns, "planted", image, 0),
		testutil.CronJob(ns, "planted", image),
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "secret-reader"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}},
		testutil.RoleBinding(ns, "owner-self", "Role:secret-reader", testutil.UserSubject(owner)),
		testutil.RoleBinding(ns, "app-sa", "Role:secret-reader", testutil.ServiceAccountSubject(ns, "default")),
		// NetworkPolicies add up: this one (the widest the tenant's rules
		// let it write) would open a deny-all to the namespace's own pods.
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "open-door"},
			Spec: networkingv1.NetworkPolicySpec{
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			}},
	} {
		if err := former.Create(ctx, obj); err != nil {
			t.Fatalf("owner creating %T %s: %v", obj, obj.GetName(), err)
		}
	}
	// A platform identity an admin let in stays: it is nobody's of the tenant.
	const probe = "system:serviceaccount:default:retained-probe"
	if err := env.Client.Create(ctx, testutil.RoleBinding(ns, "platform-probe", "admin", testutil.ServiceAccountSubject("default", "retained-probe"))); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "owner may read Secrets", func() error { return testenv.CanI(former, "get", "secrets", ns) })

	if err := env.Client.Delete(ctx, &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tenant}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "tenant gone", func() error {
		return testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Name: tenant}, &tenancyv1alpha1.Tenant{}), "tenant")
	})

	t.Run("kept and labelled retained", func(t *testing.T) {
		for _, name := range []string{ns, other} {
			got := &corev1.Namespace{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
				t.Fatalf("retained namespace: %v", err)
			}
			if got.DeletionTimestamp != nil || got.Status.Phase != corev1.NamespaceActive {
				t.Fatalf("retained namespace %s is being deleted (phase %s)", name, got.Status.Phase)
			}
			want := map[string]string{
				tenancyv1alpha1.RetainedLabel:                tenant,
				"pod-security.kubernetes.io/enforce":         "restricted",
				"pod-security.kubernetes.io/enforce-version": env.Settings.PodSecurityVersion,
			}
			for k, v := range want {
				if got.Labels[k] != v {
					t.Errorf("namespace %s label %s = %q, want %q", name, k, got.Labels[k], v)
				}
			}
			if _, ok := got.Labels[tenancyv1alpha1.TenantLabel]; ok {
				t.Errorf("namespace %s still carries the tenant label", name)
			}
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "resident"}, &corev1.Pod{}); err != nil {
			t.Errorf("the pod already running was not kept: %v", err)
		}
	})

	t.Run("cut off the network", func(t *testing.T) {
		np := &networkingv1.NetworkPolicy{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.RetainedPolicy}, np); err != nil {
			t.Fatalf("retained NetworkPolicy: %v", err)
		}
		if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) != 0 || len(np.Spec.Ingress) != 0 ||
			len(np.Spec.Egress) != 0 || len(np.Spec.PolicyTypes) != 2 || len(np.OwnerReferences) != 0 {
			t.Errorf("retained NetworkPolicy does not deny everything, or is owned: %+v", np)
		}
		list := &networkingv1.NetworkPolicyList{}
		if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		for _, other := range list.Items {
			if other.Name != render.RetainedPolicy {
				t.Errorf("NetworkPolicy %s is left beside the deny-all, and adds to it", other.Name)
			}
		}
	})

	t.Run("nobody of the tenant keeps access", func(t *testing.T) {
		testenv.Eventually(t, "former owner lost access to Secrets", func() error {
			allowed, err := testenv.ReviewAccess(former, "get", "secrets", ns)
			if err != nil {
				return err
			}
			if allowed {
				return errors.New("former owner may still read Secrets")
			}
			return nil
		})
		for _, name := range []string{"owner-self", "app-sa"} {
			err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &rbacv1.RoleBinding{})
			if !apierrors.IsNotFound(err) {
				t.Errorf("RoleBinding %s naming a tenant identity survived: %v", name, err)
			}
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "platform-probe"}, &rbacv1.RoleBinding{}); err != nil {
			t.Errorf("the platform's RoleBinding was deleted: %v", err)
		}
		// The former owner is refused by RBAC: it has no access left at all.
		err := former.Create(ctx, testutil.Pod(ns, "after", image))
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot create resource "pods"`) {
			t.Errorf("former owner creating a pod: %v, want RBAC's refusal", err)
		}
	})

	t.Run("no new pods, whoever asks", func(t *testing.T) {
		testenv.Rejected(t, env.Client.Create(ctx, testutil.Pod(ns, "by-admin", image)), tenant, "namespaces.retained")
		// An ephemeral container is a new process in a kept pod.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			p := &corev1.Pod{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "resident"}, p); err != nil {
				return err
			}
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{
				EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: image, ImagePullPolicy: corev1.PullAlways,
					SecurityContext: p.Spec.Containers[0].SecurityContext},
			})
			return env.Client.SubResource("ephemeralcontainers").Update(ctx, p)
		})
		testenv.Rejected(t, err, tenant, "namespaces.retained")

		// The planted Deployment, scaled up: its ReplicaSet is refused.
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			d := &appsv1.Deployment{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "planted"}, d); err != nil {
				return err
			}
			d.Spec.Replicas = ptr.To[int32](2)
			return env.Client.Update(ctx, d)
		})
		if err != nil {
			t.Fatalf("admin scaling the planted Deployment: %v", err)
		}
		env.ReplicaSetRefused(t, ns, "planted", tenant, "namespaces.retained")

		// The planted CronJob, run by hand as the CronJob controller would.
		cj := &batchv1.CronJob{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "planted"}, cj); err != nil {
			t.Fatal(err)
		}
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "planted-now",
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))}},
			Spec: cj.Spec.JobTemplate.Spec}
		if err := env.Client.Create(ctx, job); err != nil {
			t.Fatalf("admin running the planted CronJob: %v", err)
		}
		testenv.Eventually(t, "the Job reports the retained rule", func() error {
			events := &corev1.EventList{}
			if err := env.Client.List(ctx, events, client.InNamespace(ns), client.MatchingFields{"involvedObject.name": job.Name}); err != nil {
				return err
			}
			for _, e := range events.Items {
				if e.Reason == "FailedCreate" && strings.Contains(e.Message, "[rule namespaces.retained]") {
					return nil
				}
			}
			return fmt.Errorf("no FailedCreate event naming the retained rule among %d events", len(events.Items))
		})

		pods := &corev1.PodList{}
		if err := env.Client.List(ctx, pods, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) != 1 || pods.Items[0].Name != "resident" {
			t.Errorf("pods in the retained namespace: %d, want only the resident one", len(pods.Items))
		}
	})

	t.Run("no RBAC or workload changes but by admins", func(t *testing.T) {
		// canI asks about the core group; any of admin's rights shows the binding is in force.
		testenv.Eventually(t, "the platform probe's access", func() error { return testenv.CanI(env.As(probe), "create", "configmaps", ns) })
		p := env.As(probe, "system:serviceaccounts", "system:serviceaccounts:default")
		testenv.Rejected(t, p.Create(ctx, testutil.RoleBinding(ns, "probe-view", "view", testutil.ServiceAccountSubject("default", "retained-probe"))), tenant, "namespaces.retained")
		testenv.Rejected(t, p.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe-role"}}), tenant, "namespaces.retained")
		testenv.Rejected(t, p.Create(ctx, testutil.Deployment(ns, "probe", image, 0)), tenant, "namespaces.retained")
		testenv.Rejected(t, p.Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe-door"},
			Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}}}}), tenant, "namespaces.retained")
	})

	t.Run("adopted into another tenant", func(t *testing.T) {
		const heir, heirOwner = "ret-heir", "ret-heir-owner"
		env.CreateTenant(t, testutil.Tenant(heir).Owner(heirOwner).Hard().Obj())
		env.WaitReady(t, heir)
		adopt := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"`+tenancyv1alpha1.TenantLabel+`":"`+heir+`"}}}`))
		if err := env.Client.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, adopt); err != nil {
			t.Fatalf("admin adopting: %v", err)
		}
		testenv.Eventually(t, "adopted namespace unlocked and under the new tenant", func() error {
			got := &corev1.Namespace{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
				return err
			}
			if got.Labels[tenancyv1alpha1.TenantLabel] != heir || got.Labels[tenancyv1alpha1.RetainedLabel] != "" {
				return fmt.Errorf("labels %v", got.Labels)
			}
			if err := testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.RetainedPolicy}, &networkingv1.NetworkPolicy{}), "retained NetworkPolicy"); err != nil {
				return err
			}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.IngressPolicy}, &networkingv1.NetworkPolicy{}); err != nil {
				return fmt.Errorf("the new tenant's NetworkPolicy: %w", err)
			}
			return env.TenantPolicyOf(ns, heir)
		})
		newOwner := env.As(heirOwner)
		testenv.Eventually(t, "the new owner may create pods", func() error { return testenv.CanI(newOwner, "create", "pods", ns) })
		p := testutil.Pod(ns, "welcome", image)
		if err := newOwner.Create(ctx, p); err != nil {
			t.Fatalf("the new owner's pod: %v", err)
		}
		if ptr.Deref(p.Spec.RuntimeClassName, "") != env.Settings.SandboxRuntimeClass {
			t.Errorf("the new tenant's defaults were not applied: runtimeClassName %v", p.Spec.RuntimeClassName)
		}
		// The planted Deployment runs again, now under the new tenant.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			d := &appsv1.Deployment{}
			if err := newOwner.Get(ctx, client.ObjectKey{Namespace: ns, Name: "planted"}, d); err != nil {
				return err
			}
			d.Spec.Replicas = ptr.To[int32](1)
			return newOwner.Update(ctx, d)
		})
		if err != nil {
			t.Fatalf("the new owner scaling the Deployment: %v", err)
		}
		testenv.Eventually(t, "the Deployment's pod admitted", func() error {
			pods := &corev1.PodList{}
			if err := env.Client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": "planted"}); err != nil {
				return err
			}
			if len(pods.Items) == 0 {
				return fmt.Errorf("no pod yet")
			}
			return nil
		})
		if allowed, err := testenv.ReviewAccess(former, "get", "secrets", ns); err != nil || allowed {
			t.Errorf("the former owner may read Secrets of the adopted namespace (review error %v)", err)
		}
	})

	t.Run("released", func(t *testing.T) {
		release := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"`+tenancyv1alpha1.RetainedLabel+`":null}}}`))
		if err := env.Client.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}}, release); err != nil {
			t.Fatalf("admin releasing: %v", err)
		}
		managed := client.MatchingLabels{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}
		testenv.Eventually(t, "no Bulkhead NetworkPolicy left", func() error {
			list := &networkingv1.NetworkPolicyList{}
			if err := env.Client.List(ctx, list, client.InNamespace(other), managed); err != nil {
				return err
			}
			if len(list.Items) != 0 {
				return fmt.Errorf("%d left", len(list.Items))
			}
			return nil
		})
		for _, list := range []client.ObjectList{&rbacv1.RoleBindingList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{}} {
			if err := env.Client.List(ctx, list, client.InNamespace(other), managed); err != nil {
				t.Fatal(err)
			}
			if n := len(mustItems(t, list)); n != 0 {
				t.Errorf("%T: %d Bulkhead objects left in the released namespace", list, n)
			}
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: other, Name: tenancyv1alpha1.TenantPolicyName}, &tenancyv1alpha1.TenantPolicy{}); !apierrors.IsNotFound(err) {
			t.Errorf("TenantPolicy left in the released namespace: %v", err)
		}
		got := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: other}, got); err != nil {
			t.Fatal(err)
		}
		for k := range got.Labels {
			if strings.HasPrefix(k, "tenancy.bulkhead.dev/") {
				t.Errorf("released namespace keeps label %s", k)
			}
		}
		// The lock is gone: an admin's pod runs.
		testenv.Eventually(t, "an admin's pod admitted", func() error {
			err := env.Client.Create(ctx, testutil.Pod(other, "after-release", image))
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		})
	})
}
