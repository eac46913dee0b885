package e2e

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/rbac"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestOwnersComeAndGo: an owner removed from the Tenant loses, within one
// reconcile, everything they could do in its namespaces, through a
// RoleBinding they made for themselves too, which is deleted with an Event
// on the Tenant saying why; a binding for a person still in the tenant
// stays; an owner added gains access. Soft, because the rule that refuses
// such bindings used to hold only in Hard: the revocation holds in both.
func TestOwnersComeAndGo(t *testing.T) {
	const tenant, ns, leaver, stayer, dev, newcomer = "rev", "rev-app", "rev-leaver", "rev-stayer", "rev-dev", "rev-newcomer"
	leaving := env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner(leaver).Owner(stayer).Member(dev).Soft().Obj(), ns)
	for _, obj := range []client.Object{
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "secret-reader"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}},
		testutil.RoleBinding(ns, "leaver-self", "Role:secret-reader", testutil.UserSubject(leaver)),
		testutil.RoleBinding(ns, "dev-reads", "Role:secret-reader", testutil.UserSubject(dev)),
	} {
		if err := leaving.Create(ctx, obj); err != nil {
			t.Fatalf("owner creating %T %s: %v", obj, obj.GetName(), err)
		}
	}
	testenv.Eventually(t, "the leaving owner may read Secrets", func() error { return testenv.CanI(leaving, "get", "secrets", ns) })
	if allowed, err := testenv.ReviewAccess(env.As(newcomer), "create", "pods", ns); err != nil || allowed {
		t.Fatalf("the newcomer has access before being added (review error %v)", err)
	}

	env.UpdateTenant(t, tenant, func(tn *tenancyv1alpha1.Tenant) {
		tn.Spec.Owners = []tenancyv1alpha1.Subject{testutil.User(stayer), testutil.User(newcomer)}
	})

	testenv.Eventually(t, "the removed owner lost access", func() error {
		for _, verb := range []string{"get", "list"} {
			allowed, err := testenv.ReviewAccess(leaving, verb, "secrets", ns)
			if err != nil {
				return err
			}
			if allowed {
				return fmt.Errorf("the removed owner may still %s Secrets", verb)
			}
		}
		return nil
	})
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "leaver-self"}, &rbacv1.RoleBinding{}); !apierrors.IsNotFound(err) {
		t.Errorf("the removed owner's own binding survived: %v", err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "dev-reads"}, &rbacv1.RoleBinding{}); err != nil {
		t.Errorf("the member's binding was deleted: %v", err)
	}
	if err := testenv.CanI(env.As(dev), "get", "secrets", ns); err != nil {
		t.Errorf("the member lost the access the owner gave them: %v", err)
	}
	testenv.Eventually(t, "the added owner has access", func() error { return testenv.CanI(env.As(newcomer), "create", "pods", ns) })

	testenv.Eventually(t, "an Event on the Tenant says which binding and why", func() error {
		list := &eventsv1.EventList{}
		if err := env.Client.List(ctx, list, client.MatchingFields{"regarding.name": tenant}); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == rbac.ReasonBindingRevoked && strings.Contains(e.Note, ns+"/leaver-self") && strings.Contains(e.Note, "User "+leaver) {
				return nil
			}
		}
		return fmt.Errorf("no %s event among %d", rbac.ReasonBindingRevoked, len(list.Items))
	})

	// What is deleted cannot be made again: the rule agrees with the sweep.
	testenv.Rejected(t, env.As(stayer).Create(ctx, testutil.RoleBinding(ns, "leaver-back", "Role:secret-reader", testutil.UserSubject(leaver))), tenant, "rbac.subjects")
}

// TestProfileChangeSoftToHard: a Soft tenant switched to Hard takes its
// namespaces with it: their Pod Security labels and TenantPolicy follow, and
// a pod Soft admitted (baseline allows running as root with every default
// capability) is now refused by Pod Security, while a compliant pod still
// runs with Hard's defaults. ServiceAccounts made under Soft keep their
// token mount: pods must decline it themselves.
func TestProfileChangeSoftToHard(t *testing.T) {
	const tenant, ns, image = "flip", "flip-app", "registry.example.com/app:1"
	owner := env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner("flip-owner").Soft().Obj(), ns)
	loose := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}
	}
	if err := owner.Create(ctx, loose("loose-soft")); err != nil {
		t.Fatalf("a baseline pod in the Soft tenant: %v", err)
	}

	env.UpdateTenant(t, tenant, func(tn *tenancyv1alpha1.Tenant) { tn.Spec.Isolation = tenancyv1alpha1.IsolationHard })
	testenv.Eventually(t, "Pod Security and TenantPolicy follow the profile", func() error {
		got := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
			return err
		}
		for _, mode := range []string{"enforce", "audit", "warn"} {
			if v := got.Labels["pod-security.kubernetes.io/"+mode]; v != "restricted" {
				return fmt.Errorf("%s is %q", mode, v)
			}
		}
		policy := &tenancyv1alpha1.TenantPolicy{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}, policy); err != nil {
			return err
		}
		if policy.Spec.Isolation != tenancyv1alpha1.IsolationHard || !policy.Spec.RBAC.Restricted || policy.Spec.Pods.RuntimeClassDefault != env.Settings.SandboxRuntimeClass {
			return fmt.Errorf("TenantPolicy still Soft: %+v", policy.Spec)
		}
		return nil
	})
	env.WaitReady(t, tenant)

	testenv.ExpectDenied(t, owner.Create(ctx, loose("loose-hard")), `violates PodSecurity "restricted:`)
	// The namespace's ServiceAccounts were made under Soft, which mounts
	// the token: a pod that does not decline it would carry a credential
	// Hard's pods get only when they ask.
	testenv.Rejected(t, owner.Create(ctx, testutil.Pod(ns, "token", image)), tenant, "pods.automountServiceAccountToken")
	ok := testutil.Pod(ns, "compliant", image, func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptr.To(false) })
	if err := owner.Create(ctx, ok); err != nil {
		t.Fatalf("a compliant pod after the switch: %v", err)
	}
	if ptr.Deref(ok.Spec.RuntimeClassName, "") != env.Settings.SandboxRuntimeClass || ok.Spec.HostUsers == nil || *ok.Spec.HostUsers ||
		ok.Spec.Containers[0].ImagePullPolicy != corev1.PullAlways {
		t.Errorf("Hard's defaults not applied after the switch: runtimeClassName %v, hostUsers %v, imagePullPolicy %s",
			ok.Spec.RuntimeClassName, ok.Spec.HostUsers, ok.Spec.Containers[0].ImagePullPolicy)
	}
}
