package render

import (
	"fmt"
	"strings"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Pod Security Admission labels (k8s.io/pod-security-admission/api).
const (
	psaPrefix = "pod-security.kubernetes.io/"
)

// NamespaceMetadata is what a tenant namespace must carry: the tenant label,
// the Pod Security labels, and the tenant's locked labels and annotations.
type NamespaceMetadata struct {
	Labels      map[string]string
	Annotations map[string]string
}

// Namespace returns the labels and annotations every namespace of t carries.
// The namespace webhook stamps them at creation (so a namespace is never,
// even briefly, without its Pod Security level) and the namespaces controller
// keeps them.
func Namespace(t *tenancyv1alpha1.Tenant, s Settings) NamespaceMetadata {
	spec := Effective(t, s)
	labels := map[string]string{}
	for k, v := range spec.Namespaces.Labels {
		labels[k] = v
	}
	level := string(spec.Pods.SecurityLevel)
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels[psaPrefix+mode] = level
		labels[psaPrefix+mode+"-version"] = s.PodSecurityVersion
	}
	labels[tenancyv1alpha1.TenantLabel] = t.Name
	if q := spec.Quota.Tenant; q != nil && len(q.Hard) > 0 {
		labels[tenancyv1alpha1.TenantQuotaLabel] = "true"
	}
	annotations := map[string]string{}
	for k, v := range spec.Namespaces.Annotations {
		annotations[k] = v
	}
	return NamespaceMetadata{Labels: labels, Annotations: annotations}
}

// IsPodSecurityLabel reports whether key is a Pod Security Admission label,
// which only cluster admins may change on a tenant namespace.
func IsPodSecurityLabel(key string) bool {
	return strings.HasPrefix(key, psaPrefix)
}

// NamespacePrefix is the prefix tenant namespace names need when
// namespaces.requirePrefix is true.
func NamespacePrefix(tenant string) string {
	return fmt.Sprintf("%s-", tenant)
}

// ReleasePatch is the JSON merge patch that releases a namespace from its
// tenant: it drops the tenant label, the locked annotations, and every other
// label Bulkhead stamped that still has the stamped value (a label the admin
// has since set to another value is theirs and stays).
func ReleasePatch(current map[string]string, stamped NamespaceMetadata) map[string]any {
	labels := map[string]any{tenancyv1alpha1.TenantLabel: nil}
	for k, v := range stamped.Labels {
		if current[k] == v {
			labels[k] = nil
		}
	}
	annotations := map[string]any{}
	for k := range stamped.Annotations {
		annotations[k] = nil
	}
	return map[string]any{"metadata": map[string]any{"labels": labels, "annotations": annotations}}
}
