package claims

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

func TestInUse(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 30, 0, time.UTC)
	ns := func(name, tenant string, created time.Time, deleting bool) corev1.Namespace {
		n := corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{tenancyv1alpha1.TenantLabel: tenant},
			CreationTimestamp: metav1.NewTime(created)}}
		if deleting {
			n.DeletionTimestamp = ptrTime(metav1.NewTime(created))
		}
		return n
	}
	named := func(name string, ago time.Duration) tenancyv1alpha1.NamespaceReservation {
		return tenancyv1alpha1.NamespaceReservation{Name: name, AdmissionTime: metav1.NewTime(now.Add(-ago))}
	}
	gen := func(base string, ago time.Duration) tenancyv1alpha1.NamespaceReservation {
		return tenancyv1alpha1.NamespaceReservation{GenerateName: base, AdmissionTime: metav1.NewTime(now.Add(-ago))}
	}
	old := now.Add(-time.Hour)
	for _, tc := range []struct {
		name   string
		cached []corev1.Namespace
		res    []tenancyv1alpha1.NamespaceReservation
		self   string
		want   int
	}{
		{name: "the cache alone", cached: []corev1.Namespace{ns("acme-a", "acme", old, false), ns("globex-a", "globex", old, false), ns("acme-b", "acme", old, true)}, want: 1},
		{name: "pending names count once", res: []tenancyv1alpha1.NamespaceReservation{named("acme-a", time.Second), named("acme-a", time.Second), named("acme-b", time.Second)}, want: 2},
		{name: "a name the cache shows counts once", cached: []corev1.Namespace{ns("acme-a", "acme", now, false)},
			res: []tenancyv1alpha1.NamespaceReservation{named("acme-a", time.Second)}, want: 1},
		{name: "an expired reservation counts no more", res: []tenancyv1alpha1.NamespaceReservation{named("acme-a", ReservationTTL)}, want: 0},
		{name: "the request's own name is not counted", res: []tenancyv1alpha1.NamespaceReservation{named("acme-a", time.Second)}, self: "acme-a", want: 0},
		{name: "each namespace stands for one generated reservation",
			cached: []corev1.Namespace{ns("acme-ci-bcdfg", "acme", now, false)},
			res:    []tenancyv1alpha1.NamespaceReservation{gen("acme-ci-", 2*time.Second), gen("acme-ci-", time.Second)}, want: 2},
		{name: "an older namespace stands for no generated reservation",
			cached: []corev1.Namespace{ns("acme-ci-bcdfg", "acme", old, false)},
			res:    []tenancyv1alpha1.NamespaceReservation{gen("acme-ci-", time.Second)}, want: 2},
		// A namespace the tenant named, with the generated length, stands
		// for its own reservation and no generated one.
		{name: "a named namespace stands for no generated reservation",
			cached: []corev1.Namespace{ns("acme-ci-aaaaa", "acme", now, false), ns("acme-ci-bbbbb", "acme", now, false)},
			res: []tenancyv1alpha1.NamespaceReservation{named("acme-ci-aaaaa", 2*time.Second), named("acme-ci-bbbbb", 2*time.Second),
				gen("acme-ci-", time.Second), gen("acme-ci-", time.Second)}, want: 4},
		// Nor does one being deleted, which is not counted itself.
		{name: "a namespace being deleted stands for no generated reservation",
			cached: []corev1.Namespace{ns("acme-ci-aaaaa", "acme", now, true)},
			res:    []tenancyv1alpha1.NamespaceReservation{gen("acme-ci-", time.Second)}, want: 1},
		{name: "another base stands for nothing",
			cached: []corev1.Namespace{ns("acme-web-bcdfg", "acme", now, false)},
			res:    []tenancyv1alpha1.NamespaceReservation{gen("acme-ci-", time.Second)}, want: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := InUse("acme", tc.cached, tc.res, tc.self, now); got != tc.want {
				t.Errorf("InUse = %d, want %d", got, tc.want)
			}
		})
	}
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }
