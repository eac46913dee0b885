package proxy

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// ClusterRoleName is the proxy's ClusterRole.
const ClusterRoleName = "bulkhead-proxy"

// ClusterRole is all the proxy may do itself: impersonate the callers it
// authenticated (whose own RBAC then decides), review their tokens, and
// watch Tenants for its membership index. It reads nothing else: every
// namespace, node and object a tenant sees is read as the tenant.
// config/proxy/rbac.yaml holds the same.
func ClusterRole() *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"users", "groups", "serviceaccounts"}, Verbs: []string{"impersonate"}},
			// Every extra (its key is the subresource: RBAC has no
			// "userextras/*") and UIDs; impersonate is the only verb.
			{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"impersonate"}},
			{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
			{APIGroups: []string{tenancyv1alpha1.GroupVersion.Group}, Resources: []string{"tenants"}, Verbs: []string{"get", "list", "watch"}},
			// Discovery, to know which kinds are namespaced.
			{NonResourceURLs: []string{"/api", "/api/*", "/apis", "/apis/*"}, Verbs: []string{"get"}},
		},
	}
}
