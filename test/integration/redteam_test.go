package integration

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/namespace"
)

// TestRedteamKubeNamespaceWithoutPrefix: the Tenants webhook keeps a
// Tenant's prefix out of "kube-", but the namespace webhook lets an owner
// whose Tenant has requirePrefix false name a namespace "kube-anything".
//
// Impact: a tenant namespace that reads as Kubernetes' own. Policy engines,
// monitoring and admission webhooks commonly skip "kube-*" namespaces, and
// people trust them; the tenant hides its workloads among the platform's.
func TestRedteamKubeNamespaceWithoutPrefix(t *testing.T) {
	const tenant, owner = "rtf", "rtf-owner"
	createTenant(t, testutil.Tenant(tenant).Owner(owner).RequirePrefix(false).Obj())
	waitReady(t, tenant)
	c := env.As(owner)
	eventually(t, "owner may create namespaces", func() error { return canI(c, "create", "namespaces", "") })
	err := createNamespaceAs(c, "kube-rtf-metrics", nil)
	if err == nil {
		t.Cleanup(func() {
			_ = env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-rtf-metrics"}})
		})
	}
	rejected(t, err, tenant, namespace.RuleNames)
	expectDenied(t, err, "kube- space")
	// What must stay allowed: any other name.
	ownerCreatesNamespace(t, c, "rtf-metrics")
}

// TestRedteamGeneratedNameWithAForgedNameLabel: for a Namespace, a webhook's
// namespaceSelector is matched against the request's own labels, and on a
// create with generateName the API server writes kubernetes.io/metadata.name
// only after the mutating webhooks ran.
//
// Attack: generateName plus kubernetes.io/metadata.name=default (a system
// namespace the webhook skipped by that label), with another tenant's label
// and reserved labels of the owner's choosing.
//
// Impact: no namespace webhook ran, so prefix ownership, namespaces.max and
// reserved labels did not hold (a namespace could be filed under another
// tenant, or carry a Bulkhead marker such as tokens-revoked).
func TestRedteamGeneratedNameWithAForgedNameLabel(t *testing.T) {
	const tenant, owner = "rtg", "rtg-owner"
	createTenant(t, testutil.Tenant(tenant).Owner(owner).Obj())
	createTenant(t, testutil.Tenant("rtg-victim").Owner("rtg-victim-owner").Obj())
	c := env.As(owner)
	eventually(t, "owner may create namespaces", func() error { return canI(c, "create", "namespaces", "") })
	forged := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rtg-victim-", Labels: map[string]string{
		corev1.LabelMetadataName:                "default",
		tenancyv1alpha1.TokensRevokedAnnotation: "true",
	}}}
	err := c.Create(ctx, forged)
	if err == nil {
		t.Cleanup(func() { _ = env.Client.Delete(ctx, forged) })
		t.Fatalf("namespace %s created past the namespace webhook, labels %v", forged.Name, forged.Labels)
	}
	rejected(t, err, tenant, namespace.RuleNames)
}
