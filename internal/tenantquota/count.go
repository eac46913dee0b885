package tenantquota

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Counts of objects of any kind: a limit named count/<resource>.<group>
// (count/<resource> for the core group), as ResourceQuota names them, caps
// how many objects of that kind the tenant's namespaces hold together.
// Each one admitted is charged 1 to the ledger like a pod, under a
// reservation whose kind is the limit's name, and the recount counts the
// objects by their metadata alone.

// CountPrefix starts the name of a limit on the number of objects of a kind.
const CountPrefix = "count/"

// CountName is the limit that counts objects of gr.
func CountName(gr schema.GroupResource) corev1.ResourceName {
	if gr.Group == "" {
		return corev1.ResourceName(CountPrefix + gr.Resource)
	}
	return corev1.ResourceName(CountPrefix + gr.Resource + "." + gr.Group)
}

// countAliases are the counts that name a resource tenant quota already
// limits by another name: a pod or a claim is charged by its own webhook
// rule, as pods or persistentvolumeclaims.
var countAliases = map[corev1.ResourceName]corev1.ResourceName{
	CountName(schema.GroupResource{Resource: "pods"}):                   corev1.ResourcePods,
	CountName(schema.GroupResource{Resource: "persistentvolumeclaims"}): corev1.ResourcePersistentVolumeClaims,
}

// CountedResource is the kind a count/<resource>.<group> limit counts; ok
// is false for any other limit, and for count/pods and
// count/persistentvolumeclaims, which are pods and persistentvolumeclaims.
// The resource is the first dot-separated part, the group the rest, as
// ResourceQuota reads them.
func CountedResource(name corev1.ResourceName) (gr schema.GroupResource, ok bool) {
	rest, found := strings.CutPrefix(string(name), CountPrefix)
	if !found || rest == "" {
		return schema.GroupResource{}, false
	}
	if _, alias := countAliases[name]; alias {
		return schema.GroupResource{}, false
	}
	resource, group, _ := strings.Cut(rest, ".")
	if resource == "" {
		return schema.GroupResource{}, false
	}
	return schema.GroupResource{Group: group, Resource: resource}, true
}

// CountedResources lists, sorted and without repeats, the kinds the
// count/ limits of every hard in hards count: what the quota webhook must
// be sent, beyond pods and claims.
func CountedResources(hards ...Limits) []schema.GroupResource {
	seen := map[schema.GroupResource]bool{}
	var out []schema.GroupResource
	for _, hard := range hards {
		for name := range hard {
			if gr, ok := CountedResource(name); ok && !seen[gr] {
				seen[gr] = true
				out = append(out, gr)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].Resource < out[j].Resource
	})
	return out
}

// TenantLimits is t's spec.quota.tenant.hard, nil when it has none.
func TenantLimits(t *tenancyv1alpha1.Tenant) Limits {
	if t.Spec.Quota.Tenant == nil {
		return nil
	}
	return t.Spec.Quota.Tenant.Hard
}

// ObjectUsage is what one new object of gr uses: one of its count.
func ObjectUsage(gr schema.GroupResource) corev1.ResourceList {
	return corev1.ResourceList{CountName(gr): resource.MustParse("1")}
}

// CountKind is the kind reservations for objects of gr are recorded under.
func CountKind(gr schema.GroupResource) tenancyv1alpha1.QuotaObjectKind {
	return tenancyv1alpha1.QuotaObjectKind(CountName(gr))
}
