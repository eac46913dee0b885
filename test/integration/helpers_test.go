package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

const timeout = 60 * time.Second

func eventually(t *testing.T, what string, check func() error) {
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

func createTenant(t *testing.T, tn *tenancyv1alpha1.Tenant) {
	t.Helper()
	if err := env.Client.Create(context.Background(), tn); err != nil {
		t.Fatalf("creating tenant %s: %v", tn.Name, err)
	}
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), &tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tn.Name}})
	})
}

func waitReady(t *testing.T, name string) *tenancyv1alpha1.Tenant {
	t.Helper()
	tn := &tenancyv1alpha1.Tenant{}
	eventually(t, "tenant "+name+" Ready", func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, tn); err != nil {
			return err
		}
		c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != tn.Generation {
			return errorf("Ready is %+v", c)
		}
		return nil
	})
	return tn
}

func createNamespaceAs(c client.Client, name string, labels map[string]string) error {
	return c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})
}

// expectDenied fails unless err is a refusal whose message contains every want.
func expectDenied(t *testing.T, err error, want ...string) {
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

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// canI asks the API server's authorizer, as c's identity, whether it may do
// verb on resource in namespace; nil when allowed.
func canI(c client.Client, verb, resource, namespace string) error {
	allowed, err := reviewAccess(c, verb, resource, namespace)
	if err != nil {
		return err
	}
	if !allowed {
		return errorf("%s %s in %s not allowed yet", verb, resource, namespace)
	}
	return nil
}

// reviewAccess asks the authorizer, as c's identity, whether it may do verb
// on resource in namespace; an error means the question went unanswered.
func reviewAccess(c client.Client, verb, resource, namespace string) (bool, error) {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: resource, Namespace: namespace},
	}}
	if err := c.Create(context.Background(), review); err != nil {
		return false, err
	}
	return review.Status.Allowed, nil
}

// ownerCreatesNamespace creates a namespace as an owner, once the API
// server's authorizer has caught up with the owner's namespace-creator
// binding, and fails the test if it is refused.
func ownerCreatesNamespace(t *testing.T, owner client.Client, name string) {
	t.Helper()
	eventually(t, "owner may create namespaces", func() error { return canI(owner, "create", "namespaces", "") })
	if err := createNamespaceAs(owner, name, nil); err != nil {
		t.Fatalf("owner creating namespace %s: %v", name, err)
	}
}

// tenantPolicyOf fails unless namespace ns holds a TenantPolicy of tenant.
func tenantPolicyOf(ns, tenant string) error {
	policy := &tenancyv1alpha1.TenantPolicy{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}, policy); err != nil {
		return err
	}
	if policy.Spec.Tenant != tenant {
		return errorf("TenantPolicy of %s is tenant %q's, want %q's", ns, policy.Spec.Tenant, tenant)
	}
	return nil
}

// replicaSetRefused waits until a ReplicaSet of the Deployment whose pods
// carry app=<app> in ns reports that tenant's rule refused its pods: proof
// that the controller tried, not merely that no pod appeared yet.
func replicaSetRefused(t *testing.T, ns, app, tenant, rule string) {
	t.Helper()
	eventually(t, "a ReplicaSet of "+app+" refused by "+rule, func() error {
		list := &appsv1.ReplicaSetList{}
		if err := env.Client.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{"app": app}); err != nil {
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
		return errorf("no ReplicaSet failing for rule %s in %d", rule, len(list.Items))
	})
}
