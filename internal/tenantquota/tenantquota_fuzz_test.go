package tenantquota

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// FuzzChargesNeverOvershoot plays a sequence of admissions, stores,
// deletions, clock steps and recounts, read from the fuzzer's bytes, against
// one tenant's ledger, the way the webhook and the recount controller use
// it. After every step the ledger holds no negative usage, and what the
// tenant really holds (objects stored, plus those admitted and still on
// their way) stays within every limit: neither a charge nor a recount lets
// the tenant pass its quota.
func FuzzChargesNeverOvershoot(f *testing.F) {
	f.Add(int64(1000), int64(2048), int64(3), []byte{0, 4, 1, 4, 0, 10, 2, 5, 0, 0, 200, 3, 0, 1, 0, 4, 0, 0, 3, 3, 100})
	f.Add(int64(0), int64(0), int64(0), []byte{4, 0, 0, 0, 1, 1})
	f.Add(int64(500), int64(-1), int64(10), []byte{4, 0, 0, 0, 255, 128, 5, 1, 1, 1, 0, 0, 3, 255, 255, 4, 0, 0})
	f.Fuzz(func(t *testing.T, cpuMilli, memoryMi, pods int64, ops []byte) {
		hard := Limits{}
		// A negative limit is refused by the CRD; the fuzzer's sign picks
		// which resources are limited at all.
		if cpuMilli >= 0 {
			hard[corev1.ResourceCPU] = *resource.NewMilliQuantity(cpuMilli%100_000, resource.DecimalSI)
		}
		if memoryMi >= 0 {
			hard[corev1.ResourceRequestsMemory] = *resource.NewQuantity((memoryMi%100_000)<<20, resource.BinarySI)
		}
		if pods >= 0 {
			hard[corev1.ResourcePods] = *resource.NewQuantity(pods%1000, resource.DecimalSI)
		}
		tn := testutil.Tenant("acme").UID("uid-acme").TenantQuota(corev1.ResourceList(hard)).Obj()
		ledger := NewLedger(tn)

		type object struct {
			amount   corev1.ResourceList
			admitted time.Time
		}
		stored := map[string]object{}
		pending := map[string]object{}
		now := time.Unix(1_000_000, 0)
		next := 0

		check := func(step string) {
			t.Helper()
			for name, q := range ledger.Status.Usage {
				if q.Sign() < 0 {
					t.Fatalf("after %s: usage of %s is %s, below zero", step, name, q.String())
				}
			}
			held := corev1.ResourceList{}
			for _, o := range stored {
				held = Add(held, o.amount)
			}
			for _, o := range pending {
				held = Add(held, o.amount)
			}
			for name, limit := range hard {
				if q := held[canonical(name)]; q.Cmp(limit) > 0 {
					t.Fatalf("after %s: the tenant holds %s of %s, over its limit %s", step, q.String(), name, limit.String())
				}
			}
		}

		for len(ops) >= 3 {
			op, a, b := ops[0], ops[1], ops[2]
			ops = ops[3:]
			switch op % 6 {
			case 0, 5: // admit a new pod, for real or as a dry run
				name := fmt.Sprintf("p%d", next)
				next++
				amount := corev1.ResourceList{
					corev1.ResourcePods:                   *resource.NewQuantity(1, resource.DecimalSI),
					corev1.ResourceRequestsCPU:            *resource.NewMilliQuantity(int64(int8(a))*50, resource.DecimalSI),
					corev1.ResourceRequestsMemory:         *resource.NewQuantity(int64(b)<<20, resource.BinarySI),
					corev1.ResourceLimitsEphemeralStorage: *resource.NewQuantity(int64(b), resource.DecimalSI),
				}
				dryRun := op%6 == 5
				d := Admit(tn, ledger, Object{Kind: KindPod, Namespace: "acme-a", Name: name, Amount: amount}, dryRun, now)
				if d.Allowed && dryRun && d.Charge != nil {
					t.Fatalf("a dry run charged the ledger: %+v", d.Charge)
				}
				if d.Charge != nil {
					ledger.Status = *d.Charge
				}
				if d.Allowed && !dryRun {
					pending[name] = object{amount: Relevant(hard, amount), admitted: now}
				}
			case 1: // the API server stores an admitted object
				for name, o := range pending {
					if now.Sub(o.admitted) <= ReservationTTL {
						stored[name] = o
					}
					delete(pending, name)
					break
				}
			case 2: // an owner deletes an object
				for name := range stored {
					delete(stored, name)
					break
				}
			case 3: // time passes; an object admitted too long ago is never stored
				now = now.Add(time.Duration(a) * time.Second)
				for name, o := range pending {
					if now.Sub(o.admitted) > ReservationTTL {
						delete(pending, name)
					}
				}
			case 4: // the recount controller counts what the namespaces hold
				counted := corev1.ResourceList{}
				present := map[string]bool{}
				for name, o := range stored {
					counted = Add(counted, o.amount)
					present[ObjectKey(KindPod, "acme-a", name)] = true
				}
				ledger.Status.Usage, ledger.Status.Reservations = Recount(hard, counted, present, ledger.Status.Reservations, now)
				for name, limit := range hard {
					if q := ledger.Status.Usage[canonical(name)]; q.Cmp(limit) > 0 {
						t.Fatalf("recount put usage of %s at %s, over its limit %s", name, q.String(), limit.String())
					}
				}
			}
			check(fmt.Sprintf("op %d", op%6))
		}
	})
}
