package integration

import (
	"fmt"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// The suite's helpers are testenv's, bound to its env so that tests read
// as before; see testenv for what each does.

func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	testenv.Eventually(t, what, check)
}

func createTenant(t *testing.T, tn *tenancyv1alpha1.Tenant) {
	t.Helper()
	env.CreateTenant(t, tn)
}

func waitReady(t *testing.T, name string) *tenancyv1alpha1.Tenant {
	t.Helper()
	return env.WaitReady(t, name)
}

func tenantWithNamespace(t *testing.T, tn *tenancyv1alpha1.Tenant, ns string) client.Client {
	t.Helper()
	return env.TenantWithNamespace(t, tn, ns)
}

func ensure(t *testing.T, obj client.Object) {
	t.Helper()
	env.Ensure(t, obj)
}

func grantNamespacePatch(t *testing.T, user string) {
	t.Helper()
	env.GrantNamespacePatch(t, user)
}

func createNamespaceAs(c client.Client, name string, labels map[string]string) error {
	return testenv.CreateNamespaceAs(c, name, labels)
}

func expectDenied(t *testing.T, err error, want ...string) {
	t.Helper()
	testenv.ExpectDenied(t, err, want...)
}

func rejected(t *testing.T, err error, tenant, rule string) {
	t.Helper()
	testenv.Rejected(t, err, tenant, rule)
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func canI(c client.Client, verb, resource, namespace string) error {
	return testenv.CanI(c, verb, resource, namespace)
}

func ownerCreatesNamespace(t *testing.T, owner client.Client, name string) {
	t.Helper()
	testenv.OwnerCreatesNamespace(t, owner, name)
}
