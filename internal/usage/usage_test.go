package usage

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestBucketBoundsCoverTheirValues(t *testing.T) {
	for _, v := range []int64{0, 1, 2, 3, 20, 21, 100, 127, 128, 129, 999, 1000, 1 << 20, 300 << 20, 1 << 40} {
		b := bound(bucket(v))
		if b < v || float64(b) > float64(v)*growth+1 {
			t.Errorf("value %d: bucket bound %d, want within [v, v*%.2f]", v, b, growth)
		}
		if v < exact && b != v {
			t.Errorf("value %d below %d: bucket bound %d, want the value itself", v, exact, b)
		}
	}
}

func TestHistoryPercentileAndPeak(t *testing.T) {
	h := History{Window: time.Hour}
	k := Key{Namespace: "ns", Workload: "Deployment/web", Container: "app"}
	// 100 samples: 1..100 millicores, memory 1..100 MiB.
	for i := int64(1); i <= 100; i++ {
		ts := t0.Add(time.Duration(i) * time.Second)
		if !h.Observe(types.UID("p"), ts, ts, map[Key]Amount{k: {CPUMilli: i * 10, MemoryBytes: i * mib}}) {
			t.Fatalf("sample %d not recorded", i)
		}
	}
	st, ok := h.Stats(k, t0.Add(101*time.Second))
	if !ok || st.Samples != 100 {
		t.Fatalf("stats = %+v, %v; want 100 samples", st, ok)
	}
	if st.Peak.CPUMilli != 1000 || st.Peak.MemoryBytes != 100*mib {
		t.Errorf("peak = %+v, want 1000m and 100Mi", st.Peak)
	}
	// The 95th of 10..1000 is 950, read to within one bucket, rounded up.
	if st.P95.CPUMilli < 950 || st.P95.CPUMilli > 998 {
		t.Errorf("p95 cpu = %dm, want within [950, 998]", st.P95.CPUMilli)
	}
	if !st.Since.Equal(t0.Add(time.Second)) {
		t.Errorf("since = %v, want the first sample's time", st.Since)
	}
}

func TestHistoryCountsAPodsSampleOnce(t *testing.T) {
	h := History{Window: time.Hour}
	k := Key{Namespace: "ns", Workload: "Pod/a", Container: "app"}
	ts := t0
	if !h.Observe("a", ts, ts, map[Key]Amount{k: {CPUMilli: 5}}) {
		t.Fatal("first sample not recorded")
	}
	if h.Observe("a", ts, ts.Add(time.Second), map[Key]Amount{k: {CPUMilli: 5}}) {
		t.Error("the same metrics read again were recorded twice")
	}
	if !h.Observe("b", ts, ts.Add(time.Second), map[Key]Amount{k: {CPUMilli: 5}}) {
		t.Error("another pod's sample at the same time was not recorded")
	}
	if st, _ := h.Stats(k, ts.Add(time.Second)); st.Samples != 2 {
		t.Errorf("samples = %d, want 2", st.Samples)
	}
}

func TestHistoryWindowForgetsOldSamples(t *testing.T) {
	h := History{Window: 10 * time.Minute}
	k := Key{Namespace: "ns", Workload: "Pod/a", Container: "app"}
	h.Observe("a", t0, t0, map[Key]Amount{k: {CPUMilli: 900, MemoryBytes: mib}})
	// Half a window on, a new half begins; the old sample is still in.
	t1 := t0.Add(6 * time.Minute)
	h.Observe("a", t1, t1, map[Key]Amount{k: {CPUMilli: 10, MemoryBytes: mib}})
	if st, _ := h.Stats(k, t1); st.Peak.CPUMilli != 900 || st.Samples != 2 {
		t.Errorf("after half a window: %+v, want the 900m peak and 2 samples", st)
	}
	// Another half on, the first half leaves the window.
	t2 := t1.Add(6 * time.Minute)
	h.Observe("a", t2, t2, map[Key]Amount{k: {CPUMilli: 10, MemoryBytes: mib}})
	st, _ := h.Stats(k, t2)
	if st.Peak.CPUMilli != 10 || st.Samples != 2 || !st.Since.Equal(t1) {
		t.Errorf("after a window: %+v, want peak 10m, 2 samples since %v", st, t1)
	}
	// A window without samples forgets the series.
	h.Forget(t2.Add(10 * time.Minute))
	if h.Len() != 0 {
		t.Errorf("%d series kept after a window without samples", h.Len())
	}
}

func TestWorkload(t *testing.T) {
	ctrl := true
	pod := func(kind, name, hash string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{}}}
		if kind != "" {
			p.OwnerReferences = []metav1.OwnerReference{{Kind: kind, Name: name, Controller: &ctrl}}
		}
		if hash != "" {
			p.Labels["pod-template-hash"] = hash
		}
		return p
	}
	for _, c := range []struct {
		pod  *corev1.Pod
		want string
	}{
		{pod("", "", ""), "Pod/p"},
		{pod("ReplicaSet", "web-7d9f8", "7d9f8"), "Deployment/web"},
		{pod("ReplicaSet", "web-7d9f8", "other"), "ReplicaSet/web-7d9f8"},
		{pod("ReplicaSet", "standalone", ""), "ReplicaSet/standalone"},
		{pod("StatefulSet", "db", ""), "StatefulSet/db"},
	} {
		if got := Workload(c.pod); got != c.want {
			t.Errorf("Workload = %q, want %q", got, c.want)
		}
	}
}

func TestRecommend(t *testing.T) {
	st := Stats{Samples: 10, P95: Amount{CPUMilli: 100, MemoryBytes: 100 * mib}, Peak: Amount{CPUMilli: 110, MemoryBytes: 130 * mib}}
	got := Recommend(st, 20)
	// cpu: p95 * 1.2 = 120 > peak 110. memory: p95 * 1.2 = 120Mi < peak 130Mi.
	if got.CPUMilli != 120 || got.MemoryBytes != 130*mib {
		t.Errorf("Recommend = %+v, want 120m and 130Mi", got)
	}
	if f := floor(st, 20); f.CPUMilli != 132 || f.MemoryBytes != 156*mib {
		t.Errorf("floor = %+v, want 132m and 156Mi", f)
	}
}

func container(name, reqCPU, reqMem, limCPU, limMem string) corev1.Container {
	c := corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}}
	set := func(l corev1.ResourceList, r corev1.ResourceName, v string) {
		if v != "" {
			l[r] = resource.MustParse(v)
		}
	}
	set(c.Resources.Requests, corev1.ResourceCPU, reqCPU)
	set(c.Resources.Requests, corev1.ResourceMemory, reqMem)
	set(c.Resources.Limits, corev1.ResourceCPU, limCPU)
	set(c.Resources.Limits, corev1.ResourceMemory, limMem)
	return c
}

func statsOf(cpu, mem int64) func(string) (Stats, bool) {
	return func(string) (Stats, bool) {
		return Stats{Samples: 5, Passes: 5, P95: Amount{CPUMilli: cpu, MemoryBytes: mem}, Peak: Amount{CPUMilli: cpu, MemoryBytes: mem}}, true
	}
}

func change(p PodPlan, r corev1.ResourceName) (Change, bool) {
	for _, ch := range p.Changes {
		if ch.Resource == r {
			return ch, true
		}
	}
	return Change{}, false
}

func TestPlanShrinksAnOverRequestedPod(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "500m", "512Mi", "1", "1Gi")}}}
	p := Plan(pod, statsOf(50, 100*mib), 20, 3, Bounds{})
	cpu, ok := change(p, corev1.ResourceCPU)
	if !ok || cpu.To.MilliValue() != 60 || cpu.From.MilliValue() != 500 {
		t.Fatalf("cpu change = %+v, %v; want 500m -> 60m (peak 50m + 20%%); plan %+v", cpu, ok, p)
	}
	mem, ok := change(p, corev1.ResourceMemory)
	if !ok || mem.To.Value() != 120*mib {
		t.Fatalf("memory change = %+v, %v; want 120Mi", mem, ok)
	}
}

func TestPlanHoldsAtLimitRangeMin(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "200m", "", "1", "")}}}
	lr := corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "floor"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Min: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")},
	}}}}
	p := Plan(pod, statsOf(10, mib), 20, 3, Bounds{LimitRanges: []corev1.LimitRange{lr}})
	if len(p.Changes) != 0 {
		t.Fatalf("changes = %+v, want none: the LimitRange's min is the request", p.Changes)
	}
	if why := p.Held["app"]; !strings.Contains(why, "held at 200m by LimitRange floor min") {
		t.Errorf("held because %q, want the LimitRange min named", why)
	}
}

func TestPlanHonoursMaxLimitRequestRatio(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "800m", "", "2", "")}}}
	lr := corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "ratio"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")},
	}}}}
	p := Plan(pod, statsOf(10, mib), 20, 3, Bounds{LimitRanges: []corev1.LimitRange{lr}})
	cpu, ok := change(p, corev1.ResourceCPU)
	if !ok || cpu.To.MilliValue() != 500 {
		t.Fatalf("cpu change = %+v, %v; want 800m -> 500m (limit 2 / ratio 4)", cpu, ok)
	}
}

func TestPlanLeavesSmallChangesAndThinData(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "100m", "", "", "")}}}
	if p := Plan(pod, statsOf(80, mib), 20, 3, Bounds{}); len(p.Changes) != 0 || !strings.Contains(p.Held["app"], "within a tenth") {
		t.Errorf("plan = %+v; want no change: 96m is within a tenth of 100m", p)
	}
	// Thirty pods sampled once are thirty samples of one moment: not enough.
	thin := func(string) (Stats, bool) { return Stats{Samples: 30, Passes: 2, Peak: Amount{CPUMilli: 1}}, true }
	if p := Plan(pod, thin, 20, 3, Bounds{}); len(p.Changes) != 0 || !strings.Contains(p.Held["app"], "not yet sampled the 3 times") {
		t.Errorf("plan = %+v; want no change on 2 passes", p)
	}
}

func TestPlanNeverChangesQoS(t *testing.T) {
	guaranteed := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "1", "1Gi", "1", "1Gi")}}}
	if p := Plan(guaranteed, statsOf(10, mib), 20, 3, Bounds{}); len(p.Changes) != 0 || !strings.Contains(p.Held["app"], "Guaranteed") {
		t.Errorf("Guaranteed pod: plan %+v, want it left alone", p)
	}
	bestEffort := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "", "", "", "")}}}
	if p := Plan(bestEffort, statsOf(10, mib), 20, 3, Bounds{}); len(p.Changes) != 0 || !strings.Contains(p.Held["app"], "BestEffort") {
		t.Errorf("BestEffort pod: plan %+v, want it left alone", p)
	}
	// Burstable only because cpu request 100m < limit 200m: growing the
	// request to the limit would make it Guaranteed.
	edge := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "100m", "1Gi", "200m", "1Gi")}}}
	if p := Plan(edge, statsOf(300, 1<<30), 0, 3, Bounds{}); len(p.Changes) != 0 || !strings.Contains(p.Held["app"], "make the pod Guaranteed") {
		t.Errorf("edge pod: plan %+v, want no change that makes it Guaranteed", p)
	}
}

func TestPlanGrowsOnlyWithinQuota(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "100m", "", "", "")}}}
	room := map[corev1.ResourceName]resource.Quantity{corev1.ResourceCPU: resource.MustParse("50m")}
	p := Plan(pod, statsOf(400, mib), 0, 3, Bounds{QuotaRoom: room})
	if len(p.Changes) != 0 || !strings.Contains(p.Held["app"], "exceeds the 50m the namespace's quota leaves") {
		t.Errorf("plan = %+v; want the growth refused for quota", p)
	}
	room[corev1.ResourceCPU] = resource.MustParse("500m")
	b := Bounds{QuotaRoom: room}
	p = Plan(pod, statsOf(400, mib), 0, 3, b)
	if len(p.Changes) != 1 || p.Changes[0].To.MilliValue() != 400 {
		t.Fatalf("plan = %+v; want 100m -> 400m within the quota", p)
	}
	// What the first pod's growth takes, the next pod cannot have.
	b.Take(p.Changes)
	if q := b.QuotaRoom[corev1.ResourceCPU]; q.MilliValue() != 200 {
		t.Errorf("room after the first resize %v, want 200m", q.String())
	}
	if p := Plan(pod, statsOf(400, mib), 0, 3, b); len(p.Changes) != 0 {
		t.Errorf("second pod's plan %+v; want its growth refused: 300m more than the 200m left", p)
	}
}

func TestQoS(t *testing.T) {
	for _, c := range []struct {
		c    corev1.Container
		want corev1.PodQOSClass
	}{
		{container("a", "", "", "", ""), corev1.PodQOSBestEffort},
		{container("a", "1", "1Gi", "1", "1Gi"), corev1.PodQOSGuaranteed},
		{container("a", "", "", "1", "1Gi"), corev1.PodQOSGuaranteed}, // requests default to limits
		{container("a", "500m", "1Gi", "1", "1Gi"), corev1.PodQOSBurstable},
		{container("a", "500m", "", "", ""), corev1.PodQOSBurstable},
	} {
		if got := QoS(&corev1.PodSpec{Containers: []corev1.Container{c.c}}); got != c.want {
			t.Errorf("QoS(%v) = %s, want %s", c.c.Resources, got, c.want)
		}
	}
}

func TestHistoryBoundsItsSeries(t *testing.T) {
	h := History{Window: time.Hour, MaxSeries: 2}
	for i, pod := range []types.UID{"a", "b", "c"} {
		ts := t0.Add(time.Duration(i) * time.Second)
		h.Observe(pod, ts, ts, map[Key]Amount{{Namespace: "ns", Workload: "Pod/" + string(pod), Container: "app"}: {CPUMilli: 1}})
	}
	if h.Len() != 2 {
		t.Fatalf("%d series kept, want 2", h.Len())
	}
	if _, ok := h.Stats(Key{Namespace: "ns", Workload: "Pod/a", Container: "app"}, t0); ok {
		t.Error("the least recently sampled series was kept")
	}
	h.ForgetIf(func(k Key) bool { return k.Workload == "Pod/b" })
	if h.Len() != 1 {
		t.Errorf("%d series after ForgetIf, want 1", h.Len())
	}
}

func TestHistoryCountsPasses(t *testing.T) {
	h := History{Window: time.Hour}
	k := Key{Namespace: "ns", Workload: "Deployment/web", Container: "app"}
	// Three pods in one pass, then one in the next.
	for _, pod := range []types.UID{"a", "b", "c"} {
		h.Observe(pod, t0, t0, map[Key]Amount{k: {CPUMilli: 5}})
	}
	t1 := t0.Add(time.Minute)
	h.Observe("a", t1, t1, map[Key]Amount{k: {CPUMilli: 5}})
	if st, _ := h.Stats(k, t1); st.Samples != 4 || st.Passes != 2 {
		t.Errorf("samples %d, passes %d; want 4 and 2", st.Samples, st.Passes)
	}
}

func TestPlanLeavesPodsItMustNotTouch(t *testing.T) {
	base := func() *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "500m", "512Mi", "1", "1Gi")}}}
	}
	podLevel := base()
	podLevel.Spec.Resources = &corev1.ResourceRequirements{Limits: testutil.Quantities("cpu", "1", "memory", "1Gi")}
	windows := base()
	windows.Spec.OS = &corev1.PodOS{Name: corev1.Windows}
	pending := base()
	pending.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodResizePending, Status: corev1.ConditionTrue}}
	restarting := base()
	restarting.Spec.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceMemory, RestartPolicy: corev1.RestartContainer}}
	mismatched := base()
	mismatched.Status.QOSClass = corev1.PodQOSGuaranteed
	for name, c := range map[string]struct {
		pod  *corev1.Pod
		want string
	}{
		"pod-level resources": {podLevel, "pod-level resources"},
		"Windows":             {windows, "Windows"},
		"resize pending":      {pending, "already Pending"},
		"restart on resize":   {restarting, "restarts it"},
		"QoS class differs":   {mismatched, "its QoS class is Guaranteed"},
	} {
		p := Plan(c.pod, statsOf(50, 100*mib), 20, 3, Bounds{})
		if len(p.Changes) != 0 || !strings.Contains(p.Held["app"], c.want) {
			t.Errorf("%s: plan %+v, want the pod left alone because %q", name, p, c.want)
		}
	}
}

func TestWorkloadNamesOddOwnersByUID(t *testing.T) {
	ctrl := true
	long := strings.Repeat("x", 300)
	for _, ref := range []metav1.OwnerReference{
		{Kind: "Deployment", Name: long, UID: "1234-abcd", Controller: &ctrl},
		{Kind: "Weird Kind\x1b[31m", Name: "ok", UID: "1234-abcd", Controller: &ctrl},
		{Kind: strings.Repeat("K", 64), Name: "ok", UID: "1234-abcd", Controller: &ctrl},
	} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", OwnerReferences: []metav1.OwnerReference{ref}}}
		if got := Workload(p); got != "Owner/1234-abcd" {
			t.Errorf("owner %.40q: Workload = %.60q, want Owner/1234-abcd", ref.Kind+"/"+ref.Name, got)
		}
	}
}

func TestSummarizePoolsADeploymentsPodsAndOrdersByWaste(t *testing.T) {
	ctrl := true
	pod := func(name, owner, hash, cpu, mem string) Sampled {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{}}}
		if owner != "" {
			p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: owner, Controller: &ctrl}}
			p.Labels["pod-template-hash"] = hash
		}
		p.Spec.Containers = []corev1.Container{container("app", cpu, mem, "", "")}
		return Sampled{Pod: p, Latest: map[string]Amount{"app": {CPUMilli: 10, MemoryBytes: 10 * mib}}}
	}
	pods := []Sampled{
		pod("web-abc-1", "web-abc", "abc", "500m", "512Mi"),
		pod("web-abc-2", "web-abc", "abc", "500m", "512Mi"),
		pod("small", "", "", "20m", "16Mi"),
		pod("fresh", "", "", "300m", "64Mi"),
	}
	stats := func(k Key) (Stats, bool) {
		passes := 5
		if k.Workload == "Pod/fresh" {
			passes = 1 // too few for a recommendation
		}
		return Stats{Samples: passes, Passes: passes, Since: t0, P95: Amount{CPUMilli: 10, MemoryBytes: 10 * mib}, Peak: Amount{CPUMilli: 10, MemoryBytes: 10 * mib}}, true
	}
	s := Summarize(pods, stats, 20, 3)
	if len(s.Rows) != 3 {
		t.Fatalf("%d rows, want 3 (the Deployment's two pods in one)", len(s.Rows))
	}
	if r := s.Rows[0]; r.Workload != "Deployment/web" || r.Pods != 2 {
		t.Errorf("first row %s with %d pods, want Deployment/web with 2: the most over-requested first", r.Workload, r.Pods)
	}
	if r := s.Row(Key{Namespace: "ns", Workload: "Pod/fresh", Container: "app"}); r == nil || r.Recommendation != nil {
		t.Errorf("Pod/fresh row %+v, want one without a recommendation after 1 pass", r)
	}
	// Requests summed over the four pods; the recommendation (12m each)
	// where there is one, the request where not (fresh's 300m).
	if s.Requests.CPUMilli != 1320 || s.Used.CPUMilli != 40 || s.Recommended.CPUMilli != 3*12+300 {
		t.Errorf("requests %dm, used %dm, recommended %dm; want 1320m, 40m, 336m", s.Requests.CPUMilli, s.Used.CPUMilli, s.Recommended.CPUMilli)
	}
	if !s.Since.Equal(t0) {
		t.Errorf("since %v, want %v", s.Since, t0)
	}
}

func TestDescribeChange(t *testing.T) {
	got := DescribeChange(testutil.Quantities("cpu", "500m", "memory", "512Mi"), testutil.Quantities("cpu", "60m"))
	if got != "cpu 500m -> 60m" {
		t.Errorf("DescribeChange = %q", got)
	}
}
