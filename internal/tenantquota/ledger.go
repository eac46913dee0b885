package tenantquota

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// LedgerConcern is the value of the concern label on ledgers.
const LedgerConcern = "tenant-quota"

// NewLedger is the empty ledger of t: named after it, labelled as
// Bulkhead's (so the managed-objects rule keeps everyone else off it) and
// controlled by t, so that the garbage collector deletes it with the
// Tenant. Its account is written separately, through the status.
func NewLedger(t *tenancyv1alpha1.Tenant) *tenancyv1alpha1.TenantQuotaLedger {
	return &tenancyv1alpha1.TenantQuotaLedger{
		TypeMeta: metav1.TypeMeta{APIVersion: tenancyv1alpha1.GroupVersion.String(), Kind: "TenantQuotaLedger"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            t.Name,
			Labels:          ledgerLabels(t),
			OwnerReferences: []metav1.OwnerReference{render.OwnerRef(t)},
		},
	}
}

func ledgerLabels(t *tenancyv1alpha1.Tenant) map[string]string {
	return map[string]string{
		tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue,
		tenancyv1alpha1.TenantLabel:    t.Name,
		tenancyv1alpha1.ConcernLabel:   LedgerConcern,
	}
}

// Owned reports whether ledger is t's own: controlled by t, and labelled
// as NewLedger labels it. One controlled by an earlier Tenant of the same
// name, that the garbage collector has yet to delete, is not: its account
// would describe objects that may no longer exist. Nor is one without the
// labels, even if t controls it: the managed-objects rule finds ledgers by
// the managed-by label alone, so whoever was given RBAC on ledgers by
// mistake could have created it, unlabelled, before the recount did, and
// could still rewrite its account. The recount takes either over (labels
// it and counts it afresh) before admissions charge it.
func Owned(t *tenancyv1alpha1.Tenant, ledger *tenancyv1alpha1.TenantQuotaLedger) bool {
	ref := metav1.GetControllerOfNoCopy(ledger)
	if ref == nil || ref.Kind != "Tenant" || ref.Name != t.Name || ref.UID != t.UID {
		return false
	}
	for k, v := range ledgerLabels(t) {
		if got, ok := ledger.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
