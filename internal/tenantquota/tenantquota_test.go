package tenantquota

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

var q = resource.MustParse

func TestPodUsage(t *testing.T) {
	l := testutil.Quantities
	pod := func(edits ...func(*corev1.Pod)) *corev1.Pod {
		return testutil.Pod("a", "p", "registry.example.com/app:1", edits...)
	}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want corev1.ResourceList
	}{
		{"no resources: one pod", pod(), l("pods", "1")},
		{"sidecars run beside the app: they add up",
			pod(testutil.Resources(l("cpu", "100m", "memory", "64Mi"), l("cpu", "200m", "memory", "128Mi")),
				testutil.Sidecar("proxy", l("cpu", "50m", "memory", "32Mi", "ephemeral-storage", "1Gi"), l("cpu", "100m", "memory", "64Mi"))),
			l("pods", "1", "requests.cpu", "150m", "requests.memory", "96Mi", "requests.ephemeral-storage", "1Gi", "limits.cpu", "300m", "limits.memory", "192Mi")},
		{"a regular init container larger than the app wins",
			pod(testutil.Resources(l("cpu", "100m"), l("memory", "1Gi")), testutil.InitContainer("setup", l("cpu", "1"), l("memory", "2Gi"))),
			l("pods", "1", "requests.cpu", "1", "limits.memory", "2Gi")},
		{"a regular init container after a sidecar runs beside it",
			pod(testutil.Resources(l("cpu", "100m"), nil), testutil.Sidecar("proxy", l("cpu", "200m"), nil), testutil.InitContainer("setup", l("cpu", "1"), nil)),
			l("pods", "1", "requests.cpu", "1200m")},
		{"a regular init container before a sidecar runs alone",
			pod(testutil.Resources(l("cpu", "100m"), nil), testutil.InitContainer("setup", l("cpu", "1"), nil), testutil.Sidecar("proxy", l("cpu", "200m"), nil)),
			l("pods", "1", "requests.cpu", "1")},
		{"pod-level resources replace the containers' sum for cpu and memory, not ephemeral storage",
			pod(testutil.PodResources(l("cpu", "2", "memory", "1Gi"), l("cpu", "4", "memory", "2Gi")),
				testutil.Resources(l("cpu", "100m", "ephemeral-storage", "1Gi"), l("ephemeral-storage", "2Gi")),
				testutil.Sidecar("proxy", l("cpu", "500m", "memory", "64Mi"), nil)),
			l("pods", "1", "requests.cpu", "2", "requests.memory", "1Gi", "requests.ephemeral-storage", "1Gi",
				"limits.cpu", "4", "limits.memory", "2Gi", "limits.ephemeral-storage", "2Gi")},
		{"overhead is added to requests, and to the limits that are set",
			pod(testutil.Resources(l("cpu", "100m"), l("memory", "1Gi")), testutil.Overhead(l("cpu", "50m", "memory", "10Mi"))),
			l("pods", "1", "requests.cpu", "150m", "requests.memory", "10Mi", "limits.memory", "1034Mi")},
		{"overhead is added to pod-level resources too",
			pod(testutil.PodResources(l("cpu", "1"), l("cpu", "2")), testutil.Overhead(l("cpu", "250m"))),
			l("pods", "1", "requests.cpu", "1250m", "limits.cpu", "2250m")},
		{"a pod being resized is charged the larger of its spec and its allocation",
			pod(testutil.Resources(l("cpu", "100m"), nil), func(p *corev1.Pod) {
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{
					Name: "app", AllocatedResources: l("cpu", "500m"),
					Resources: &corev1.ResourceRequirements{Requests: l("cpu", "300m")},
				}}
			}),
			l("pods", "1", "requests.cpu", "500m")},
		{"a finished pod uses nothing",
			pod(testutil.Resources(l("cpu", "1"), nil), func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }), corev1.ResourceList{}},
		{"a failed pod uses nothing",
			pod(testutil.Resources(l("cpu", "1"), nil), func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), corev1.ResourceList{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PodUsage(tc.pod); !equality.Semantic.DeepEqual(got, tc.want) {
				t.Fatalf("PodUsage = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExceeds(t *testing.T) {
	hard := Limits{"pods": q("20"), "cpu": q("2")}
	for _, tc := range []struct {
		name      string
		used, add corev1.ResourceList
		want      []string
	}{
		{"under", corev1.ResourceList{"pods": q("19")}, corev1.ResourceList{"pods": q("1")}, nil},
		{"exactly at the limit is allowed", corev1.ResourceList{"pods": q("19"), "requests.cpu": q("1")}, corev1.ResourceList{"pods": q("1"), "requests.cpu": q("1")}, nil},
		{"one over", corev1.ResourceList{"pods": q("20")}, corev1.ResourceList{"pods": q("1")}, []string{"pods: 20 used + 1 requested > 20"}},
		{"cpu is requests.cpu", corev1.ResourceList{"requests.cpu": q("1500m")}, corev1.ResourceList{"pods": q("1"), "requests.cpu": q("600m")},
			[]string{"cpu: 1500m used + 600m requested > 2"}},
		{"what the object does not use is not checked", corev1.ResourceList{"pods": q("25")}, corev1.ResourceList{"requests.cpu": q("1")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Exceeds(hard, tc.used, tc.add)
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Fatalf("Exceeds = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestChargeThenRecount(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	hard := Limits{"pods": q("10")}
	one := corev1.ResourceList{"pods": q("1")}
	status := tenancyv1alpha1.TenantQuotaLedgerStatus{Usage: corev1.ResourceList{"pods": q("3")}}
	status.Usage, status.Reservations = Charge(status, KindPod, "a", "new", one, now)
	if got := status.Usage["pods"]; got.Value() != 4 || len(status.Reservations) != 1 {
		t.Fatalf("after a charge: usage %v, %d reservations", status.Usage, len(status.Reservations))
	}
	stale := tenancyv1alpha1.QuotaReservation{Kind: KindPod, Namespace: "a", Name: "refused-later", AdmissionTime: metav1.NewTime(now.Add(-ReservationTTL - time.Second)), Amount: one}
	reservations := append(status.Reservations, stale)

	for _, tc := range []struct {
		name     string
		present  map[string]bool
		counted  string
		wantPods int64
		wantKeep int
	}{
		{"the new pod not yet stored stays reserved", map[string]bool{}, "3", 4, 1},
		{"the new pod stored is counted, not reserved twice", map[string]bool{ObjectKey(KindPod, "a", "new"): true}, "4", 4, 0},
		{"pods deleted free their quota", map[string]bool{ObjectKey(KindPod, "a", "new"): true}, "1", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			usage, keep := Recount(hard, corev1.ResourceList{"pods": q(tc.counted)}, tc.present, reservations, now)
			if got := usage["pods"]; got.Value() != tc.wantPods || len(keep) != tc.wantKeep {
				t.Fatalf("Recount: usage %v with %d reservations kept, want %d pods and %d", usage, len(keep), tc.wantPods, tc.wantKeep)
			}
		})
	}
	usage, _ := Recount(Limits{"pods": q("10"), "memory": q("1Gi")}, corev1.ResourceList{}, nil, nil, now)
	if _, ok := usage["requests.memory"]; !ok {
		t.Errorf("Recount leaves limited resources out of the usage when unused: %v", usage)
	}
}

func TestAdmit(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	type account struct {
		tenant *tenancyv1alpha1.Tenant
		ledger *tenancyv1alpha1.TenantQuotaLedger
	}
	// tenant is a Tenant with hard limits and its ledger holding usage (a
	// ledger not yet counted when usage is nil).
	tenant := func(hard Limits, usage corev1.ResourceList) account {
		tn := testutil.Tenant("acme").UID("uid-2").Obj()
		if hard != nil {
			tn.Spec.Quota.Tenant = &tenancyv1alpha1.TenantLimits{Hard: hard}
		}
		ledger := NewLedger(tn)
		ledger.Status.Usage = usage
		return account{tn, ledger}
	}
	noLedger := tenant(Limits{"pods": q("20")}, nil)
	noLedger.ledger = nil
	// A ledger the garbage collector has not yet deleted, of an earlier
	// Tenant named acme: its account is not this tenant's.
	earlier := tenant(Limits{"pods": q("20")}, corev1.ResourceList{"pods": q("0")})
	earlier.ledger.OwnerReferences[0].UID = "uid-1"
	// A ledger the Tenant controls but without Bulkhead's labels: created
	// by someone given RBAC on ledgers by mistake, and open to that
	// person's edits, the managed-objects rule finding ledgers by label.
	unlabelled := tenant(Limits{"pods": q("20")}, corev1.ResourceList{"pods": q("0")})
	delete(unlabelled.ledger.Labels, tenancyv1alpha1.ManagedByLabel)
	pod := Object{Kind: KindPod, Namespace: "acme-a", Name: "web", Amount: corev1.ResourceList{"pods": q("1"), "requests.cpu": q("1")}}
	pods20 := Limits{"pods": q("20")}
	for _, tc := range []struct {
		name    string
		tenant  account
		obj     Object
		dryRun  bool
		allowed bool
		message string // a part of the denial
		charged int64  // pods in the charged usage; 0 for no charge
	}{
		{"no tenant quota: allowed, nothing written", tenant(nil, nil), pod, false, true, "", 0},
		{"nothing the quota limits: allowed, nothing written", tenant(Limits{"persistentvolumeclaims": q("1")}, corev1.ResourceList{"persistentvolumeclaims": q("1")}), pod, false, true, "", 0},
		{"not counted yet: refused until the recount", tenant(pods20, nil), pod, false, false, "not been counted yet [rule quota.tenant]", 0},
		{"no ledger yet: refused until the recount", noLedger, pod, false, false, "not been counted yet [rule quota.tenant]", 0},
		{"an earlier Tenant's ledger: refused until the recount takes it over", earlier, pod, false, false, "not been counted yet [rule quota.tenant]", 0},
		{"an unlabelled ledger: refused until the recount takes it over", unlabelled, pod, false, false, "not been counted yet [rule quota.tenant]", 0},
		{"over the limit: refused, naming the object and the limit", tenant(pods20, corev1.ResourceList{"pods": q("20")}), pod, false, false,
			"tenant acme: Pod web would exceed the tenant-wide quota (pods: 20 used + 1 requested > 20) [rule quota.tenant]", 0},
		{"an expansion is named after its claim", tenant(Limits{"requests.storage": q("10Gi")}, corev1.ResourceList{"requests.storage": q("10Gi")}),
			Object{Kind: KindClaim, Namespace: "acme-a", Name: Resized("data"), Amount: corev1.ResourceList{"requests.storage": q("1Gi")}}, false, false,
			"PersistentVolumeClaim data would exceed", 0},
		{"fits: charged", tenant(pods20, corev1.ResourceList{"pods": q("19")}), pod, false, true, "", 20},
		{"fits, dry run: allowed, nothing written", tenant(pods20, corev1.ResourceList{"pods": q("19")}), pod, true, true, "", 0},
		{"a negative quantity in the object: refused, naming it, even where nothing is limited",
			tenant(nil, nil), Object{Kind: KindPod, Namespace: "acme-a", Name: "web", Amount: pod.Amount, Negative: []string{"spec.overhead[cpu]"}}, false, false,
			"tenant acme: Pod web has quantities below zero (spec.overhead[cpu]) [rule quota.tenant]. ", 0},
		{"a negative amount: refused",
			tenant(pods20, corev1.ResourceList{"pods": q("5")}), Object{Kind: KindPod, Namespace: "acme-a", Name: "web", Amount: corev1.ResourceList{"pods": q("-10")}}, false, false,
			"tenant acme: Pod web has quantities below zero (amount[pods]) [rule quota.tenant]", 0},
		{"a negative amount on a dry run: refused too",
			tenant(pods20, corev1.ResourceList{"pods": q("5")}), Object{Kind: KindPod, Namespace: "acme-a", Name: "web", Amount: corev1.ResourceList{"pods": q("-10")}}, true, false,
			"below zero", 0},
		{"usage on record below zero: refused until the recount",
			tenant(pods20, corev1.ResourceList{"pods": q("-30")}), pod, false, false,
			"tenant acme: the tenant-wide usage on record is below zero (pods) and is being recounted [rule quota.tenant]", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Admit(tc.tenant.tenant, tc.tenant.ledger, tc.obj, tc.dryRun, now)
			if d.Allowed != tc.allowed || !strings.Contains(d.Message, tc.message) {
				t.Fatalf("Admit = %+v, want allowed %v with %q", d, tc.allowed, tc.message)
			}
			if tc.charged == 0 {
				if d.Charge != nil {
					t.Fatalf("Admit charged %v, want no write", d.Charge.Usage)
				}
				return
			}
			if d.Charge == nil {
				t.Fatal("Admit wrote no charge")
			}
			if got := d.Charge.Usage["pods"]; got.Value() != tc.charged || len(d.Charge.Reservations) != 1 || d.Charge.Reservations[0].Name != "web" {
				t.Fatalf("charge: usage %v, reservations %+v", d.Charge.Usage, d.Charge.Reservations)
			}
			if _, ok := d.Charge.Usage["requests.cpu"]; ok {
				t.Errorf("charged requests.cpu, which the quota does not limit")
			}
		})
	}
}

func TestNoArithmeticGoesBelowZero(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	hard := Limits{"pods": q("10"), "cpu": q("4")}
	if got := Add(corev1.ResourceList{"pods": q("3"), "requests.cpu": q("-2")}, corev1.ResourceList{"pods": q("-5"), "requests.cpu": q("1")}); !equality.Semantic.DeepEqual(got,
		corev1.ResourceList{"pods": q("3"), "requests.cpu": q("1")}) {
		t.Errorf("Add = %v: a negative on either side must count as zero", got)
	}
	status := tenancyv1alpha1.TenantQuotaLedgerStatus{Usage: corev1.ResourceList{"pods": q("2"), "requests.cpu": q("1")}}
	usage, _ := Charge(status, KindPod, "a", "forged", corev1.ResourceList{"pods": q("-7"), "requests.cpu": q("-3")}, now)
	if !equality.Semantic.DeepEqual(usage, status.Usage) {
		t.Errorf("Charge of a negative amount moved the usage from %v to %v", status.Usage, usage)
	}
	forged := tenancyv1alpha1.QuotaReservation{Kind: KindPod, Namespace: "a", Name: "forged", AdmissionTime: metav1.NewTime(now),
		Amount: corev1.ResourceList{"pods": q("-7"), "requests.cpu": q("-3")}}
	usage, keep := Recount(hard, corev1.ResourceList{"pods": q("2"), "requests.cpu": q("-1")}, nil, []tenancyv1alpha1.QuotaReservation{forged}, now)
	for name, got := range usage {
		if got.Sign() < 0 {
			t.Errorf("Recount left %s at %s", name, got.String())
		}
	}
	if got := usage["pods"]; got.Value() != 2 || len(keep) != 1 {
		t.Errorf("Recount = %v with %d reservations, want 2 pods and the reservation kept until its TTL", usage, len(keep))
	}
	usage, _ = Recount(hard, corev1.ResourceList{"requests.cpu": q("-1")}, nil, nil, now)
	if got := usage["requests.cpu"]; got.Sign() != 0 {
		t.Errorf("Recount of a negative count with no reservations = %v, want 0", usage)
	}
}

func TestNegativeQuantities(t *testing.T) {
	l := testutil.Quantities
	p := testutil.Pod("a", "p", "registry.example.com/app:1",
		testutil.Resources(l("cpu", "1", "memory", "-1Gi"), nil),
		testutil.Sidecar("proxy", nil, l("cpu", "-1m")),
		testutil.Overhead(l("memory", "-1")),
		testutil.PodResources(l("cpu", "2"), l("memory", "-2Gi")),
		func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", AllocatedResources: l("cpu", "-1")}}
		})
	want := []string{
		"spec.containers[0].resources.requests[memory]",
		"spec.initContainers[0].resources.limits[cpu]",
		"spec.overhead[memory]",
		"spec.resources.limits[memory]",
		"status.containerStatuses[0].allocatedResources[cpu]",
	}
	if got := NegativeQuantities(p); !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("NegativeQuantities = %q, want %q", got, want)
	}
	if got := NegativeQuantities(testutil.Pod("a", "p", "registry.example.com/app:1", testutil.Resources(l("cpu", "0"), l("cpu", "1")))); len(got) != 0 {
		t.Errorf("NegativeQuantities of a valid pod = %q", got)
	}
}

func TestNewLedgerIsOwnedByItsTenant(t *testing.T) {
	tn := testutil.Tenant("acme").UID("uid-1").Obj()
	l := NewLedger(tn)
	if l.Name != "acme" || !Owned(tn, l) {
		t.Fatalf("NewLedger = %s owned by %+v, want acme owned by the Tenant", l.Name, l.OwnerReferences)
	}
	ref := l.OwnerReferences[0]
	if ref.Controller == nil || !*ref.Controller || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Errorf("owner reference %+v: want controller, so the garbage collector deletes the ledger with the Tenant", ref)
	}
	if l.Labels[tenancyv1alpha1.ManagedByLabel] != tenancyv1alpha1.ManagedByValue || l.Labels[tenancyv1alpha1.TenantLabel] != "acme" {
		t.Errorf("labels %v: want Bulkhead's managed labels, so the managed-objects rule covers the ledger", l.Labels)
	}
	if again := testutil.Tenant("acme").UID("uid-2").Obj(); Owned(again, l) {
		t.Errorf("a ledger of an earlier Tenant of the same name counts as the new Tenant's")
	}
	for label := range l.Labels {
		missing := l.DeepCopy()
		delete(missing.Labels, label)
		if Owned(tn, missing) {
			t.Errorf("a ledger without the label %s counts as the Tenant's, out of the managed-objects rule's sight", label)
		}
		other := l.DeepCopy()
		other.Labels[label] = "other"
		if Owned(tn, other) {
			t.Errorf("a ledger whose label %s is %q counts as the Tenant's", label, "other")
		}
	}
}
