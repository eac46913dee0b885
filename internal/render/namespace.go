package render

import (
	"fmt"
	"strings"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/reserved"
)

// psaPrefix starts the Pod Security Admission labels (k8s.io/pod-security-admission/api).
const psaPrefix = reserved.PodSecurityPrefix

// NamespaceMetadata is what a tenant namespace must carry: the tenant label,
// the Pod Security labels, and the tenant's locked labels and annotations.
type NamespaceMetadata struct {
	Labels      map[string]string
	Annotations map[string]string
}

// ConditionalNamespaceLabels are the labels Namespace stamps only while the
// Tenant asks for them: the tenant-quota label and the frozen state. When
// the Tenant stops asking, the namespaces controller removes them: a
// server-side apply that leaves a key out removes it, but an apply that
// would change nothing else is never sent.
var ConditionalNamespaceLabels = []string{tenancyv1alpha1.TenantQuotaLabel, tenancyv1alpha1.StateLabel}

// Namespace returns the labels and annotations every namespace of t carries.
// The namespace webhook stamps them at creation (so a namespace is never,
// even briefly, without its Pod Security level) and the namespaces controller
// keeps them.
func Namespace(sc *Scope) NamespaceMetadata {
	t, s, spec := sc.Tenant, sc.Settings, sc.Spec
	// Keys Bulkhead decides are never taken from namespaces.labels or
	// .annotations: the CRD refuses them, and a Tenant stored before it did
	// must not forge the tenant label, the quota label or a Pod Security
	// level either.
	labels := map[string]string{}
	for k, v := range spec.Namespaces.Labels {
		if !reserved.IsSetByBulkhead(k) {
			labels[k] = string(v)
		}
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
	if spec.State == tenancyv1alpha1.TenantFrozen {
		labels[tenancyv1alpha1.StateLabel] = string(tenancyv1alpha1.TenantFrozen)
	}
	annotations := map[string]string{}
	for k, v := range spec.Namespaces.Annotations {
		if !reserved.IsSetByBulkhead(k) {
			annotations[k] = v
		}
	}
	return NamespaceMetadata{Labels: labels, Annotations: annotations}
}

// IsPodSecurityLabel reports whether key is a Pod Security Admission label,
// which only cluster admins may change on a tenant namespace.
func IsPodSecurityLabel(key string) bool {
	return reserved.IsPodSecurityLabel(key)
}

// NamespacePrefix is the prefix tenant namespace names need when
// namespaces.requirePrefix is true.
func NamespacePrefix(tenant string) string {
	return fmt.Sprintf("%s-", tenant)
}

// NamespaceOwner returns the tenant, among tenants, that a namespace name
// belongs to: the one whose "<tenant>-" prefix is the longest that the name
// starts with, whether or not that tenant requires the prefix. "" when none
// matches. So the names "a-b-..." belong to tenant a-b even though they
// also start with "a-", and tenant a cannot take them.
func NamespaceOwner(name string, tenants []string) string {
	owner := ""
	for _, t := range tenants {
		// name starts with NamespacePrefix(t), without building it: this
		// runs for every namespace against every tenant.
		if len(t) > len(owner) && len(name) > len(t) && name[len(t)] == '-' && strings.HasPrefix(name, t) {
			owner = t
		}
	}
	return owner
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
