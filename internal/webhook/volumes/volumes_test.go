package volumes

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

func TestDecide(t *testing.T) {
	pv := func(label string, claimNS string) *corev1.PersistentVolume {
		p := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv"}}
		if label != "" {
			p.Labels = map[string]string{tenancyv1alpha1.TenantLabel: label}
		}
		if claimNS != "" {
			p.Spec.ClaimRef = &corev1.ObjectReference{Namespace: claimNS, Name: "data"}
		}
		return p
	}
	for _, tc := range []struct {
		name        string
		pv          *corev1.PersistentVolume
		claimTenant string
		want        string // "" allowed, else a word of the problem
	}{
		{"bound before in the tenant", pv("", "acme-a"), "acme", ""},
		{"labelled for the tenant by an admin", pv("acme", ""), "", ""},
		{"bound before in another tenant", pv("", "globex-a"), "globex", "not provisioned"},
		{"bound before outside any tenant", pv("", "kube-system"), "", "not provisioned"},
		{"labelled for another tenant, though bound here before", pv("globex", "acme-a"), "acme", "another tenant"},
		{"never bound, unlabelled", pv("", ""), "", "not provisioned"},
		{"missing", nil, "", "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide("acme", tc.pv, tc.claimTenant)
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("Decide = %q, want %q", got, tc.want)
			}
		})
	}
}
