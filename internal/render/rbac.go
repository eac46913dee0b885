package render

import (
	"fmt"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The ClusterRoles tenant identities are bound to.
const (
	// OwnerClusterRole is admin-like inside a tenant namespace, without quota or
	// limit-range edits, plus get and delete of that namespace itself: RBAC
	// checks a namespace's own verbs in the namespace of the same name, so a
	// RoleBinding there lets an owner delete their namespace and no other.
	OwnerClusterRole = "bulkhead:tenant-owner"
	// NamespaceCreatorClusterRole lets a tenant's owners create namespaces; the
	// namespace webhook then decides which tenant gets them and how many.
	NamespaceCreatorClusterRole = "bulkhead:namespace-creator"
	// MemberClusterRole is Kubernetes' own edit role.
	MemberClusterRole = "edit"
	// ViewerClusterRole is Kubernetes' own view role.
	ViewerClusterRole = "view"
)

// RoleBinding names in each tenant namespace.
const (
	OwnersBinding  = "bulkhead-owners"
	MembersBinding = "bulkhead-members"
	ViewersBinding = "bulkhead-viewers"
)

var allVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
var readVerbs = []string{"get", "list", "watch"}

// ClusterRoles are the tenant-independent roles Bulkhead keeps in the cluster.
func ClusterRoles(s Settings) []*rbacv1.ClusterRole {
	owner := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: OwnerClusterRole, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{
				"pods", "pods/log", "pods/exec", "pods/attach", "pods/portforward", "pods/ephemeralcontainers", "pods/eviction",
				"services", "services/proxy", "configmaps", "secrets", "persistentvolumeclaims",
				"serviceaccounts", "serviceaccounts/token", "replicationcontrollers", "replicationcontrollers/scale", "events",
			}, Verbs: allVerbs},
			// Endpoints are read-only, as in Kubernetes' own edit role since
			// CVE-2021-25740: written by hand they point a Service at any
			// address, another tenant's pods included.
			{APIGroups: []string{""}, Resources: []string{"endpoints", "resourcequotas", "resourcequotas/status", "limitranges", "namespaces/status"}, Verbs: readVerbs},
			{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "delete"}},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale", "daemonsets", "controllerrevisions"}, Verbs: allVerbs},
			{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: allVerbs},
			{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: allVerbs},
			{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: allVerbs},
			{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies", "ingresses"}, Verbs: allVerbs},
			// Devices (DRA), as the built-in edit role grants them; the
			// devices policy decides which classes.
			{APIGroups: []string{"resource.k8s.io"}, Resources: []string{"resourceclaims", "resourceclaimtemplates"}, Verbs: allVerbs},
			{APIGroups: []string{"resource.k8s.io"}, Resources: []string{"resourceclaims/status"}, Verbs: readVerbs},
			// Gateway API; the gateway policy decides what may attach where.
			{APIGroups: []string{GatewayGroup}, Resources: []string{"gateways", "listenersets", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "referencegrants"}, Verbs: allVerbs},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: readVerbs},
			{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: readVerbs},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: allVerbs},
			{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, Verbs: allVerbs},
			{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"localsubjectaccessreviews"}, Verbs: []string{"create"}},
			// Owners may read the rules their namespace is held to.
			{APIGroups: []string{tenancyv1alpha1.GroupVersion.Group}, Resources: []string{"tenantpolicies"}, Verbs: readVerbs},
		},
	}
	if len(s.TenantClusterRoles) > 0 {
		// RBAC lets a user bind a role only if they hold every permission
		// in it, or the bind verb on it. Owners lack some of admin's, edit's
		// and view's (quota edits, say), so without this they could not
		// bind them even to the tenant's own service accounts. bind is
		// granted on exactly the settings' roles: without resourceNames
		// the rule would cover every ClusterRole, cluster-admin included.
		owner.Rules = append(owner.Rules, rbacv1.PolicyRule{
			APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"},
			ResourceNames: sortedCopy(s.TenantClusterRoles),
		})
	}
	creator := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: NamespaceCreatorClusterRole, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"create"}},
		},
	}
	return []*rbacv1.ClusterRole{owner, creator}
}

// NamespaceCreatorBindingName is the ClusterRoleBinding that lets t's owners create namespaces.
func NamespaceCreatorBindingName(tenant string) string {
	return fmt.Sprintf("bulkhead:%s:namespace-creators", tenant)
}

// RBAC renders the bindings of t: in every namespace, owners to the owner
// role, members to edit, viewers to view; and one cluster-wide binding that
// lets owners create namespaces.
func RBAC(t *tenancyv1alpha1.Tenant, namespaces []string) []client.Object {
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: objectMeta(t, ConcernRBAC, "", NamespaceCreatorBindingName(t.Name)),
		RoleRef:    clusterRoleRef(NamespaceCreatorClusterRole),
		Subjects:   Subjects(t.Spec.Owners),
	}
	out := []client.Object{crb}
	for _, ns := range sortedCopy(namespaces) {
		for _, b := range []struct {
			name     string
			role     string
			subjects []tenancyv1alpha1.Subject
		}{
			{OwnersBinding, OwnerClusterRole, t.Spec.Owners},
			{MembersBinding, MemberClusterRole, t.Spec.Members},
			{ViewersBinding, ViewerClusterRole, t.Spec.Viewers},
		} {
			if len(b.subjects) == 0 {
				continue
			}
			out = append(out, &rbacv1.RoleBinding{
				ObjectMeta: objectMeta(t, ConcernRBAC, ns, b.name),
				RoleRef:    clusterRoleRef(b.role),
				Subjects:   Subjects(b.subjects),
			})
		}
	}
	return out
}

// Subjects converts tenant subjects to RBAC subjects.
func Subjects(in []tenancyv1alpha1.Subject) []rbacv1.Subject {
	out := make([]rbacv1.Subject, 0, len(in))
	for _, s := range in {
		switch s.Kind {
		case tenancyv1alpha1.SubjectServiceAccount:
			out = append(out, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: s.Name, Namespace: s.Namespace})
		case tenancyv1alpha1.SubjectGroup:
			out = append(out, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: s.Name})
		default:
			out = append(out, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: s.Name})
		}
	}
	return out
}

func clusterRoleRef(name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
