package claims

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=namespaceledgers,verbs=get;list;watch;create;update

// ReservationTTL is how long an admitted namespace is counted through its
// reservation: longer than the cache takes to show it, by far.
const ReservationTTL = 30 * time.Second

// GeneratedSuffixLength is how many characters the API server appends to
// a generateName.
const GeneratedSuffixLength = 5

// InUse counts tenant's namespaces against namespaces.max: the ones in
// cached (any tenant's; those being deleted do not count) plus the
// reservations younger than ReservationTTL that none of them stands for.
// Reservations of the name self are left out: they are the namespace being
// decided, admitted before by another call for the same request.
func InUse(tenant string, cached []corev1.Namespace, reservations []tenancyv1alpha1.NamespaceReservation, self string, now time.Time) int {
	count := 0
	byName := map[string]*corev1.Namespace{}
	for i := range cached {
		ns := &cached[i]
		if ns.Labels[tenancyv1alpha1.TenantLabel] != tenant {
			continue
		}
		byName[ns.Name] = ns
		if ns.DeletionTimestamp.IsZero() {
			count++
		}
	}
	live := Live(reservations, now)
	pendingNames := map[string]bool{}
	// A namespace stands for one reservation at most: one reserved by its
	// name stands for that, and for no generated one. Nor does one being
	// deleted, which is not counted. Else a tenant could let namespaces it
	// named, or deletes, absorb the reservations of generated ones still
	// on their way, each passing the count.
	used := map[string]bool{}
	for name, ns := range byName {
		if !ns.DeletionTimestamp.IsZero() {
			used[name] = true
		}
	}
	var generated []tenancyv1alpha1.NamespaceReservation
	for _, r := range live {
		switch {
		case r.Name == "":
			generated = append(generated, r)
		case r.Name == self:
		case byName[r.Name] != nil:
			used[r.Name] = true
		default:
			pendingNames[r.Name] = true
		}
	}
	count += len(pendingNames)
	// Oldest first, so that each namespace stands for the reservation most
	// likely its own; any choice among equals gives the same count.
	sort.SliceStable(generated, func(i, j int) bool { return generated[i].AdmissionTime.Before(&generated[j].AdmissionTime) })
	for _, r := range generated {
		if name := standsFor(r, byName, used); name != "" {
			used[name] = true
			continue
		}
		count++
	}
	return count
}

// standsFor returns the first namespace not yet used that can be the one
// generated for r, or "".
func standsFor(r tenancyv1alpha1.NamespaceReservation, byName map[string]*corev1.Namespace, used map[string]bool) string {
	// Creation timestamps have whole seconds.
	since := r.AdmissionTime.Truncate(time.Second)
	var names []string
	for name, ns := range byName {
		if len(name) == len(r.GenerateName)+GeneratedSuffixLength && strings.HasPrefix(name, r.GenerateName) &&
			!ns.CreationTimestamp.Time.Before(since) && !used[name] {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return names[0]
}

// Live are the reservations younger than ReservationTTL.
func Live(reservations []tenancyv1alpha1.NamespaceReservation, now time.Time) []tenancyv1alpha1.NamespaceReservation {
	var out []tenancyv1alpha1.NamespaceReservation
	for _, r := range reservations {
		if now.Sub(r.AdmissionTime.Time) < ReservationTTL {
			out = append(out, r)
		}
	}
	return out
}

// NamespaceLedgers reads and writes tenants' NamespaceLedgers.
type NamespaceLedgers struct {
	// Client writes ledgers, and reads them from its cache when asked for
	// a cached read.
	Client client.Client
	// Reader reads ledgers from the API server.
	Reader client.Reader
}

// Get returns tenant's ledger, or an empty one not yet created. A cached
// read spares a request to the API server, and is what the ledger's last
// write left unless another write came a moment ago: a write at a stale
// read's resourceVersion then fails as a lost race, and the caller reads
// again, from the API server. So a cached read may cost a retry, never a
// wrong count.
func (l *NamespaceLedgers) Get(ctx context.Context, tenant string, cached bool) (*tenancyv1alpha1.NamespaceLedger, error) {
	ledger := &tenancyv1alpha1.NamespaceLedger{}
	r := l.Reader
	if cached {
		r = l.Client
	}
	err := r.Get(ctx, client.ObjectKey{Name: tenant}, ledger)
	switch {
	case apierrors.IsNotFound(err):
		return &tenancyv1alpha1.NamespaceLedger{ObjectMeta: metav1.ObjectMeta{Name: tenant}}, nil
	case err != nil:
		return nil, fmt.Errorf("reading NamespaceLedger %s: %w", tenant, err)
	}
	return ledger, nil
}

// Reserve adds rs to ledger, as read by Get, dropping expired
// reservations, and writes it with the resourceVersion it was read at (or
// creates it), returning the ledger as written. The ledger is made the
// Tenant's and labelled as Bulkhead's. A conflict or AlreadyExists error
// (IsLostRace) means another admission wrote first: read again and decide
// again.
func (l *NamespaceLedgers) Reserve(ctx context.Context, ledger *tenancyv1alpha1.NamespaceLedger, t *tenancyv1alpha1.Tenant, now time.Time, rs ...tenancyv1alpha1.NamespaceReservation) (*tenancyv1alpha1.NamespaceLedger, error) {
	ledger = ledger.DeepCopy()
	ledger.Spec.Reservations = append(Live(ledger.Spec.Reservations, now), rs...)
	if ledger.Labels == nil {
		ledger.Labels = map[string]string{}
	}
	ledger.Labels[tenancyv1alpha1.ManagedByLabel] = tenancyv1alpha1.ManagedByValue
	// Owned by the Tenant, so that it goes with it. One left by an earlier
	// Tenant of the same name holds only reservations about to expire.
	ledger.OwnerReferences = []metav1.OwnerReference{render.OwnerRef(t)}
	var err error
	if ledger.ResourceVersion == "" {
		err = l.Client.Create(ctx, ledger)
	} else {
		err = l.Client.Update(ctx, ledger)
	}
	if err != nil {
		return nil, fmt.Errorf("writing NamespaceLedger %s: %w", ledger.Name, err)
	}
	return ledger, nil
}

// IsLostRace reports whether err means the ledger changed since it was
// read: another admission wrote first, or it was deleted with its Tenant.
func IsLostRace(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err)
}
