package testenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The helpers below are shared by the integration and end-to-end suites:
// they wait on the state of the world and check why a request was refused.

// Timeout is how long Eventually waits for the world to reach a state.
const Timeout = 60 * time.Second

// Eventually retries check until it returns nil, and fails the test with its
// last error after Timeout.
func Eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	EventuallyWithin(t, what, Timeout, check)
}

// EventuallyWithin is Eventually with its own timeout, for states that
// take longer to reach than Timeout (several rounds of a metrics pipeline).
func EventuallyWithin(t testing.TB, what string, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %v", what, err)
}

// CreateTenant creates tn and deletes it when the test ends.
func (e *Env) CreateTenant(t testing.TB, tn *tenancyv1alpha1.Tenant) {
	t.Helper()
	if err := e.Client.Create(context.Background(), tn); err != nil {
		t.Fatalf("creating tenant %s: %v", tn.Name, err)
	}
	t.Cleanup(func() {
		_ = e.Client.Delete(context.Background(), &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tn.Name}})
	})
}

// WaitReady waits until Tenant name is Ready at its current generation.
func (e *Env) WaitReady(t testing.TB, name string) *tenancyv1alpha1.Tenant {
	t.Helper()
	tn := &tenancyv1alpha1.Tenant{}
	Eventually(t, "tenant "+name+" Ready", func() error {
		if err := e.Client.Get(context.Background(), client.ObjectKey{Name: name}, tn); err != nil {
			return err
		}
		c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != tn.Generation {
			// Every condition, so that a concern that lags names itself.
			var all []string
			for _, c := range tn.Status.Conditions {
				all = append(all, fmt.Sprintf("%s=%s (%s, generation %d): %s", c.Type, c.Status, c.Reason, c.ObservedGeneration, c.Message))
			}
			return fmt.Errorf("generation %d not Ready; conditions:\n  %s", tn.Generation, strings.Join(all, "\n  "))
		}
		return nil
	})
	return tn
}

// UpdateTenant changes Tenant name with edit, retrying on conflicts (every
// controller writes the Tenant's status).
func (e *Env) UpdateTenant(t testing.TB, name string, edit func(*tenancyv1alpha1.Tenant)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		tn := &tenancyv1alpha1.Tenant{}
		if err := e.Client.Get(context.Background(), client.ObjectKey{Name: name}, tn); err != nil {
			return err
		}
		edit(tn)
		return e.Client.Update(context.Background(), tn)
	})
	if err != nil {
		t.Fatalf("updating tenant %s: %v", name, err)
	}
}

// TenantWithNamespace creates tn, lets its first owner create namespace ns,
// and waits until the tenant is Ready and the namespace is protected (its
// TenantPolicy says so) and its owner may create pods there. It returns the
// owner. Where the controller-manager runs it also waits until the
// namespace can take pods (its default ServiceAccount exists) and the
// tenant's members may create them; without it neither ever happens, so
// suites that create pods or act as members belong to the end-to-end tier.
func (e *Env) TenantWithNamespace(t testing.TB, tn *tenancyv1alpha1.Tenant, ns string) client.Client {
	t.Helper()
	e.CreateTenant(t, tn)
	owner := e.As(tn.Spec.Owners[0].Name)
	OwnerCreatesNamespace(t, owner, ns)
	e.WaitReady(t, tn.Name)
	Eventually(t, "namespace "+ns+" ready for pods", func() error {
		tp := &tenancyv1alpha1.TenantPolicy{}
		if err := e.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}, tp); err != nil {
			return err
		}
		if !tp.Spec.Protected {
			return fmt.Errorf("namespace %s is not protected yet", ns)
		}
		if !e.ControllerManager {
			return nil
		}
		return e.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "default"}, &corev1.ServiceAccount{})
	})
	// The authorizer learns of new RoleBindings from a watch: wait for it.
	subjects := tn.Spec.Owners[:1:1]
	if e.ControllerManager {
		subjects = append(subjects, tn.Spec.Members...)
	}
	for _, m := range subjects {
		Eventually(t, m.Name+" may create pods", func() error { return CanI(e.As(m.Name), "create", "pods", ns) })
	}
	return owner
}

// Ensure creates a cluster-scoped fixture unless it exists.
func (e *Env) Ensure(t testing.TB, obj client.Object) {
	t.Helper()
	if err := e.Client.Create(context.Background(), obj); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// GrantNamespacePatch lets user get, patch and update every namespace, as
// a cluster admin might grant a namespace labeller.
func (e *Env) GrantNamespacePatch(t testing.TB, user string) {
	t.Helper()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "test-namespace-patcher"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "patch", "update"}}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "test-namespace-patcher-" + user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := e.Client.Create(context.Background(), o); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	Eventually(t, user+" may patch namespaces", func() error {
		return e.As(user).Get(context.Background(), client.ObjectKey{Name: "default"}, &corev1.Namespace{})
	})
}

// CreateNamespaceAs creates namespace name with labels through c.
func CreateNamespaceAs(c client.Client, name string, labels map[string]string) error {
	return c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})
}

// ExpectDenied fails unless err is a refusal whose message contains every want.
func ExpectDenied(t testing.TB, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected a denial containing %q, got success", want)
	}
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
		t.Fatalf("expected Forbidden or Invalid, got %v", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("denial %q does not contain %q", err.Error(), w)
		}
	}
}

// Rejected fails unless err is a denial by the named Bulkhead rule of tenant.
func Rejected(t testing.TB, err error, tenant, rule string) {
	t.Helper()
	ExpectDenied(t, err, "tenant "+tenant+":", "[rule "+rule+"]")
}

// CanI asks the API server's authorizer, as c's identity, whether it may do
// verb on resource in namespace; nil when allowed.
func CanI(c client.Client, verb, resource, namespace string) error {
	allowed, err := ReviewAccess(c, verb, resource, namespace)
	if err != nil {
		return err
	}
	if !allowed {
		return fmt.Errorf("%s %s in %s not allowed yet", verb, resource, namespace)
	}
	return nil
}

// ReviewAccess asks the authorizer, as c's identity, whether it may do verb
// on resource in namespace; an error means the question went unanswered.
func ReviewAccess(c client.Client, verb, resource, namespace string) (bool, error) {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: resource, Namespace: namespace},
	}}
	if err := c.Create(context.Background(), review); err != nil {
		return false, err
	}
	return review.Status.Allowed, nil
}

// OwnerCreatesNamespace creates a namespace as an owner, once the API
// server's authorizer has caught up with the owner's namespace-creator
// binding, and fails the test if it is refused.
func OwnerCreatesNamespace(t testing.TB, owner client.Client, name string) {
	t.Helper()
	Eventually(t, "owner may create namespaces", func() error { return CanI(owner, "create", "namespaces", "") })
	if err := CreateNamespaceAs(owner, name, nil); err != nil {
		t.Fatalf("owner creating namespace %s: %v", name, err)
	}
}

// TenantPolicyOf fails unless namespace ns holds a TenantPolicy of tenant.
func (e *Env) TenantPolicyOf(ns, tenant string) error {
	policy := &tenancyv1alpha1.TenantPolicy{}
	if err := e.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}, policy); err != nil {
		return err
	}
	if policy.Spec.Tenant != tenant {
		return fmt.Errorf("TenantPolicy of %s is tenant %q's, want %q's", ns, policy.Spec.Tenant, tenant)
	}
	return nil
}

// ReplicaSetRefused waits until a ReplicaSet of the Deployment whose pods
// carry app=<app> in ns reports that tenant's rule refused its pods: proof
// that the controller tried, not merely that no pod appeared yet. It needs
// the controller-manager.
func (e *Env) ReplicaSetRefused(t testing.TB, ns, app, tenant, rule string) {
	t.Helper()
	Eventually(t, "a ReplicaSet of "+app+" refused by "+rule, func() error {
		list := &appsv1.ReplicaSetList{}
		if err := e.Client.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{"app": app}); err != nil {
			return err
		}
		for _, rs := range list.Items {
			for _, c := range rs.Status.Conditions {
				if c.Type == appsv1.ReplicaSetReplicaFailure && strings.Contains(c.Message, "[rule "+rule+"]") &&
					strings.Contains(c.Message, "tenant "+tenant+":") {
					return nil
				}
			}
		}
		return fmt.Errorf("no ReplicaSet failing for rule %s in %d", rule, len(list.Items))
	})
}

// Gone reads the error of a Get of what for a wait on its deletion: nil
// once it is not found, an error saying it is still there, or the Get's
// own error.
func Gone(err error, what string) error {
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err == nil:
		return fmt.Errorf("%s still there", what)
	default:
		return err
	}
}
