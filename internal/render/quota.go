package render

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// QuotaName is the name of the ResourceQuota and the LimitRange in each tenant namespace.
const QuotaName = "bulkhead"

// Quota renders, per namespace, a ResourceQuota from quota.namespace.hard and
// a LimitRange from limits (both after profile defaults).
func Quota(sc *Scope) []client.Object {
	t, namespaces, spec := sc.Tenant, sc.Namespaces, sc.Spec
	var out []client.Object
	for _, ns := range sortedCopy(namespaces) {
		if q := spec.Quota.Namespace; q != nil && len(q.Hard) > 0 {
			out = append(out, &corev1.ResourceQuota{
				ObjectMeta: objectMeta(t, ConcernQuota, ns, QuotaName),
				Spec:       corev1.ResourceQuotaSpec{Hard: q.Hard.DeepCopy()},
			})
		}
		if l := spec.Limits; l != nil && !limitsEmpty(l) {
			out = append(out, &corev1.LimitRange{
				ObjectMeta: objectMeta(t, ConcernQuota, ns, QuotaName),
				Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
					Type:           corev1.LimitTypeContainer,
					Default:        l.Default.DeepCopy(),
					DefaultRequest: l.DefaultRequest.DeepCopy(),
					Max:            l.Max.DeepCopy(),
					Min:            l.Min.DeepCopy(),
				}}},
			})
		}
	}
	return out
}

func limitsEmpty(l *tenancyv1alpha1.LimitsSpec) bool {
	return len(l.Default) == 0 && len(l.DefaultRequest) == 0 && len(l.Max) == 0 && len(l.Min) == 0
}
