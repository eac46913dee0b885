// Package usage samples tenants' pods' usage from metrics.k8s.io, keeps
// each Tenant's TenantUsage current (requests, usage and a recommended
// request per workload container), exports the per-tenant figures as
// metrics, and, for tenants whose spec.rightsizing.mode is Resize,
// resizes their running pods in place.
//
// The sampler runs on the leader alone. Its samples live in its memory
// (package internal/usage): a new leader starts again, and since a resize
// needs MinSamples passes of the leader's own, losing them delays a
// resize, never misjudges one. A resize is a patch of the pod's resize
// subresource that names the resourceVersion it was planned on, so a pod
// changed meanwhile is left for the next pass; the namespace's
// ResourceQuota admission and Bulkhead's tenant-wide quota still judge
// any growth.
package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/usage"
)

// +kubebuilder:rbac:groups=metrics.k8s.io,resources=pods,verbs=list
// +kubebuilder:rbac:groups="",resources=pods,verbs=list
// +kubebuilder:rbac:groups="",resources=pods/resize,verbs=patch
// +kubebuilder:rbac:groups="",resources=limitranges;resourcequotas,verbs=list
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantusages,verbs=get;create
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantusages/status,verbs=get;update

// DefaultHeadroomPercent is spec.rightsizing.headroomPercent's default.
const DefaultHeadroomPercent = 20

// maxSeries bounds the workload containers whose samples the leader keeps
// (a few hundred bytes each).
const maxSeries = 100000

// maxRows and maxResizes bound a TenantUsage's lists.
const (
	maxRows    = 256
	maxResizes = 32
)

// Sampler samples usage every Interval.
type Sampler struct {
	// Client reads Tenants and namespaces (the cache).
	Client client.Client
	// Live reads pods, LimitRanges and quotas and writes TenantUsage
	// without starting informers over them.
	Live client.Client
	// Metrics reads metrics.k8s.io.
	Metrics rest.Interface
	// Recorder records a Resized event on each pod resized.
	Recorder events.EventRecorder
	// Interval is how often usage is sampled; Window how far back the
	// figures reach; MinSamples in how many passes a workload container
	// must have been sampled before it gets a recommendation or a resize.
	Interval   time.Duration
	Window     time.Duration
	MinSamples int

	history   usage.History
	lastError string
	// gauged are the tenants whose figures the gauges hold.
	gauged map[string]bool
	// unwritten are resizes made but not yet in their tenant's
	// TenantUsage (its write failed), oldest first.
	unwritten map[string][]tenancyv1alpha1.Resize
}

// Validate says, naming the manager's flags, what is wrong with the pace.
func (s *Sampler) Validate() error {
	switch {
	case s.Interval <= 0 || s.Window <= 0 || s.MinSamples < 1:
		return fmt.Errorf("--usage-sample-interval (%s) and --usage-window (%s) must be positive and --rightsizing-min-samples (%d) at least 1",
			s.Interval, s.Window, s.MinSamples)
	case s.Window/2 < time.Duration(s.MinSamples)*s.Interval:
		// A sample stays in the window for as little as half of it: any
		// less, and a workload's passes would fall below the minimum and
		// its recommendation come and go.
		return fmt.Errorf("--usage-window (%s) must be at least twice --rightsizing-min-samples (%d) times --usage-sample-interval (%s), or recommendations would come and go as samples leave the window",
			s.Window, s.MinSamples, s.Interval)
	}
	return nil
}

// Start implements manager.Runnable; it runs on the leader only.
func (s *Sampler) Start(ctx context.Context) error {
	s.history = usage.History{Window: s.Window, MaxSeries: maxSeries}
	tick := time.NewTicker(s.Interval)
	defer tick.Stop()
	for {
		if err := s.Sample(ctx, time.Now()); err != nil {
			// Logged when it changes: a cluster without metrics.k8s.io
			// would otherwise log it at every pass.
			if msg := err.Error(); msg != s.lastError {
				ctrl.LoggerFrom(ctx).Error(err, "Sampling tenants' usage; recommendations and resizes wait for it")
				s.lastError = msg
			}
		} else {
			s.lastError = ""
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// podMetrics is the part of metrics.k8s.io/v1beta1 PodMetrics read here.
type podMetrics struct {
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Timestamp  metav1.Time       `json:"timestamp"`
	Containers []struct {
		Name  string              `json:"name"`
		Usage corev1.ResourceList `json:"usage"`
	} `json:"containers"`
}

func (s *Sampler) readMetrics(ctx context.Context) ([]podMetrics, error) {
	body, err := s.Metrics.Get().AbsPath("/apis/metrics.k8s.io/v1beta1/pods").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading metrics.k8s.io (is metrics-server installed?): %w", err)
	}
	var list struct {
		Items []podMetrics `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decoding metrics.k8s.io pods: %w", err)
	}
	return list.Items, nil
}

// tenantPods are one tenant's running pods and their latest usage.
type tenantPods struct {
	tenant *tenancyv1alpha1.Tenant
	pods   []*corev1.Pod
	latest map[types.NamespacedName]map[string]usage.Amount
}

// Sample takes one sample and acts on it.
func (s *Sampler) Sample(ctx context.Context, now time.Time) error {
	if s.history.Window == 0 {
		s.history = usage.History{Window: s.Window, MaxSeries: maxSeries}
	}
	// Metrics first: without metrics.k8s.io, nothing else is read.
	items, err := s.readMetrics(ctx)
	if err != nil {
		scrapes.WithLabelValues("error").Inc()
		// Usage not measured is not shown as if it were.
		s.ungauge(nil)
		return err
	}
	scrapes.WithLabelValues("ok").Inc()
	tenants, err := s.tenantPods(ctx)
	if err != nil {
		return err
	}
	byPod := map[types.NamespacedName]*corev1.Pod{}
	owner := map[types.NamespacedName]*tenantPods{}
	for _, tp := range tenants {
		for _, p := range tp.pods {
			key := client.ObjectKeyFromObject(p)
			byPod[key], owner[key] = p, tp
		}
	}
	for _, m := range items {
		key := types.NamespacedName{Namespace: m.Metadata.Namespace, Name: m.Metadata.Name}
		pod := byPod[key]
		// A pod recreated under the same name may still be served the
		// old one's last figures: they predate it.
		if pod == nil || (pod.Status.StartTime != nil && m.Timestamp.Time.Before(pod.Status.StartTime.Time)) {
			continue
		}
		workload := usage.Workload(pod)
		amounts := map[usage.Key]usage.Amount{}
		latest := map[string]usage.Amount{}
		for _, c := range m.Containers {
			a := usage.Amount{CPUMilli: c.Usage.Cpu().MilliValue(), MemoryBytes: c.Usage.Memory().Value()}
			amounts[usage.Key{Namespace: pod.Namespace, Workload: workload, Container: c.Name}] = a
			latest[c.Name] = a
		}
		owner[key].latest[key] = latest
		// The pod's UID with the sample's time: a pod recreated under the
		// same name is another series of samples.
		s.history.Observe(pod.UID, m.Timestamp.Time, now, amounts)
	}
	s.history.Forget(now)
	running := map[types.UID]bool{}
	for _, p := range byPod {
		running[p.UID] = true
	}
	s.history.ForgetPods(func(uid types.UID) bool { return !running[uid] })
	// A pod of its own has no history beyond itself: once gone, its
	// series go too.
	s.history.ForgetIf(func(k usage.Key) bool {
		name, ok := strings.CutPrefix(k.Workload, "Pod/")
		return ok && byPod[types.NamespacedName{Namespace: k.Namespace, Name: name}] == nil
	})
	var errs []error
	seen := map[string]bool{}
	for _, tp := range tenants {
		seen[tp.tenant.Name] = true
		if err := s.keep(ctx, tp, now); err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tp.tenant.Name, err))
		}
	}
	s.ungauge(seen)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return nil
}

// tenantPods lists every tenant's running pods.
func (s *Sampler) tenantPods(ctx context.Context) ([]*tenantPods, error) {
	var tenants tenancyv1alpha1.TenantList
	if err := s.Client.List(ctx, &tenants); err != nil {
		return nil, err
	}
	byName := map[string]*tenantPods{}
	out := make([]*tenantPods, 0, len(tenants.Items))
	for i := range tenants.Items {
		tp := &tenantPods{tenant: &tenants.Items[i], latest: map[types.NamespacedName]map[string]usage.Amount{}}
		byName[tp.tenant.Name] = tp
		out = append(out, tp)
	}
	var nss corev1.NamespaceList
	if err := s.Client.List(ctx, &nss, client.HasLabels{tenancyv1alpha1.TenantLabel}); err != nil {
		return nil, err
	}
	nsTenant := map[string]*tenantPods{}
	for _, ns := range nss.Items {
		if tp := byName[ns.Labels[tenancyv1alpha1.TenantLabel]]; tp != nil {
			nsTenant[ns.Name] = tp
		}
	}
	opts := []client.ListOption{client.Limit(500)}
	for {
		var pods corev1.PodList
		if err := s.Live.List(ctx, &pods, opts...); err != nil {
			return nil, err
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if tp := nsTenant[p.Namespace]; tp != nil && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				tp.pods = append(tp.pods, p)
			}
		}
		if pods.Continue == "" {
			return out, nil
		}
		opts = []client.ListOption{client.Limit(500), client.Continue(pods.Continue)}
	}
}

// row is a workload container's figures, with what rightsizing did.
type row struct {
	*usage.Row
	note    string
	resized []string
}

// keep writes one tenant's TenantUsage and metrics and, in Resize mode,
// resizes its pods.
func (s *Sampler) keep(ctx context.Context, tp *tenantPods, now time.Time) error {
	t := tp.tenant
	headroom := int32(DefaultHeadroomPercent)
	if h := t.Spec.Rightsizing.HeadroomPercent; h != nil {
		headroom = *h
	}
	var sampled []usage.Sampled
	for _, p := range tp.pods {
		if latest, ok := tp.latest[client.ObjectKeyFromObject(p)]; ok {
			sampled = append(sampled, usage.Sampled{Pod: p, Latest: latest})
		}
	}
	sum := usage.Summarize(sampled, func(k usage.Key) (usage.Stats, bool) { return s.history.Stats(k, now) }, headroom, s.MinSamples)
	if len(sum.Rows) == 0 && len(tp.pods) > 0 {
		// Pods but no metrics for them yet: nothing to say.
		s.unsetGauges(t.Name)
		return nil
	}
	rows := make(map[usage.Key]*row, len(sum.Rows))
	for _, r := range sum.Rows {
		rows[r.Key] = &row{Row: r}
	}
	var resizes []tenancyv1alpha1.Resize
	if t.Spec.Rightsizing.Mode == tenancyv1alpha1.RightsizingResize {
		resizes = s.resize(ctx, tp, rows, headroom, now)
	}
	s.setGauges(t.Name, sum.Requests, sum.Used, sum.Recommended)

	st := tenancyv1alpha1.TenantUsageStatus{
		ObservedSince: metav1.NewTime(sum.Since), LastSampleTime: metav1.NewTime(now),
		Requests: sum.Requests.List(), Usage: sum.Used.List(), Recommended: sum.Recommended.List(),
	}
	for i, r := range sum.Rows {
		if i == maxRows {
			st.Truncated = int32(len(sum.Rows) - maxRows)
			break
		}
		st.Containers = append(st.Containers, rows[r.Key].status())
	}
	// Resizes made are recorded even when a write fails: they wait for
	// the next one.
	resizes = append(s.unwritten[t.Name], resizes...)
	if err := s.write(ctx, t, st, slices.Clone(resizes)); err != nil {
		if s.unwritten == nil {
			s.unwritten = map[string][]tenancyv1alpha1.Resize{}
		}
		s.unwritten[t.Name] = resizes[max(0, len(resizes)-maxResizes):]
		return err
	}
	delete(s.unwritten, t.Name)
	return nil
}

func (r *row) status() tenancyv1alpha1.ContainerUsage {
	cu := tenancyv1alpha1.ContainerUsage{
		Namespace: r.Namespace, Workload: r.Workload, Container: r.Container,
		Pods: int32(r.Pods), Samples: int32(r.Stats.Samples),
		Request: r.Request,
		P95:     r.Stats.P95.List(),
		Peak:    r.Stats.Peak.List(),
	}
	if r.Recommendation != nil {
		cu.Recommendation = r.Recommendation.List()
	}
	note := r.note
	if len(r.resized) > 0 {
		note = "resized " + strings.Join(r.resized, ", ")
	}
	if utf8.RuneCountInString(note) > 512 {
		note = string([]rune(note)[:509]) + "..."
	}
	cu.Rightsizing = note
	return cu
}

// resize plans and applies the in-place resizes of a tenant in Resize mode.
// A namespace whose bounds cannot be read is left alone this pass, the
// reason in its rows.
func (s *Sampler) resize(ctx context.Context, tp *tenantPods, rows map[usage.Key]*row, headroom int32, now time.Time) []tenancyv1alpha1.Resize {
	if tp.tenant.Spec.State == tenancyv1alpha1.TenantFrozen {
		for _, r := range rows {
			r.note = "the tenant is frozen: nothing is resized"
		}
		return nil
	}
	unreadable := map[string]error{}
	bounds := map[string]*usage.Bounds{}
	var done []tenancyv1alpha1.Resize
	for _, p := range tp.pods {
		if _, sampled := tp.latest[client.ObjectKeyFromObject(p)]; !sampled {
			continue
		}
		workload := usage.Workload(p)
		keyOf := func(c string) usage.Key { return usage.Key{Namespace: p.Namespace, Workload: workload, Container: c} }
		b := bounds[p.Namespace]
		if b == nil && unreadable[p.Namespace] == nil {
			var err error
			if b, err = s.bounds(ctx, p.Namespace); err != nil {
				unreadable[p.Namespace] = err
			} else {
				bounds[p.Namespace] = b
			}
		}
		if err := unreadable[p.Namespace]; err != nil {
			for _, c := range p.Spec.Containers {
				if r := rows[keyOf(c.Name)]; r != nil {
					r.note = "the namespace's LimitRanges and quotas could not be read: " + err.Error()
				}
			}
			continue
		}
		plan := usage.Plan(p, func(c string) (usage.Stats, bool) {
			if r := rows[keyOf(c)]; r != nil {
				return r.Stats, true
			}
			return usage.Stats{}, false
		}, headroom, s.MinSamples, *b)
		for c, why := range plan.Held {
			if r := rows[keyOf(c)]; r != nil {
				r.note = "left " + p.Name + " alone: " + why
			}
		}
		if len(plan.Changes) == 0 {
			continue
		}
		if err := s.apply(ctx, p, plan.Changes); err != nil {
			for _, ch := range plan.Changes {
				if r := rows[keyOf(ch.Container)]; r != nil {
					r.note = "the API server refused resizing " + p.Name + ": " + err.Error()
				}
			}
			continue
		}
		b.Take(plan.Changes)
		done = append(done, s.record(tp.tenant.Name, p, plan.Changes, rows, keyOf, now)...)
	}
	return done
}

// record notes the resizes of one pod: an Event on it, the rows, the metric.
func (s *Sampler) record(tenant string, p *corev1.Pod, changes []usage.Change, rows map[usage.Key]*row, keyOf func(string) usage.Key, now time.Time) []tenancyv1alpha1.Resize {
	byContainer := map[string]*tenancyv1alpha1.Resize{}
	var names []string
	for _, ch := range changes {
		rz := byContainer[ch.Container]
		if rz == nil {
			rz = &tenancyv1alpha1.Resize{
				Time: metav1.NewTime(now), Namespace: p.Namespace, Pod: p.Name, Container: ch.Container,
				From: corev1.ResourceList{}, To: corev1.ResourceList{},
			}
			byContainer[ch.Container] = rz
			names = append(names, ch.Container)
		}
		rz.From[ch.Resource], rz.To[ch.Resource] = ch.From, ch.To
	}
	slices.Sort(names)
	var out []tenancyv1alpha1.Resize
	var what []string
	for _, c := range names {
		rz := byContainer[c]
		desc := c + " " + usage.DescribeChange(rz.From, rz.To)
		what = append(what, desc)
		if r := rows[keyOf(c)]; r != nil {
			r.resized = append(r.resized, p.Name+" ("+usage.DescribeChange(rz.From, rz.To)+")")
		}
		out = append(out, *rz)
	}
	resizesTotal.WithLabelValues(tenant).Add(float64(len(out)))
	if s.Recorder != nil {
		s.Recorder.Eventf(p, nil, corev1.EventTypeNormal, "Resized", "Rightsizing",
			"Bulkhead resized requests in place from measured usage: %s. The workload's next rollout restores its template's requests.", strings.Join(what, "; "))
	}
	return out
}

// apply patches the pod's resize subresource, on the resourceVersion the
// plan was made on.
func (s *Sampler) apply(ctx context.Context, p *corev1.Pod, changes []usage.Change) error {
	type res struct {
		Requests corev1.ResourceList `json:"requests"`
	}
	type ctr struct {
		Name      string `json:"name"`
		Resources res    `json:"resources"`
	}
	byName := map[string]*ctr{}
	var containers []*ctr
	for _, ch := range changes {
		c := byName[ch.Container]
		if c == nil {
			c = &ctr{Name: ch.Container, Resources: res{Requests: corev1.ResourceList{}}}
			byName[ch.Container] = c
			containers = append(containers, c)
		}
		c.Resources.Requests[ch.Resource] = ch.To
	}
	patch := map[string]any{
		"metadata": map[string]any{"resourceVersion": p.ResourceVersion},
		"spec":     map[string]any{"containers": containers},
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	return s.Live.SubResource("resize").Patch(ctx, p, client.RawPatch(types.StrategicMergePatchType, data))
}

// bounds reads a namespace's LimitRanges and the CPU and memory its
// quotas leave.
func (s *Sampler) bounds(ctx context.Context, namespace string) (*usage.Bounds, error) {
	var lrs corev1.LimitRangeList
	if err := s.Live.List(ctx, &lrs, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	var quotas corev1.ResourceQuotaList
	if err := s.Live.List(ctx, &quotas, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	b := &usage.Bounds{LimitRanges: lrs.Items, QuotaRoom: map[corev1.ResourceName]resource.Quantity{}}
	for _, q := range quotas.Items {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			for _, name := range []corev1.ResourceName{r, corev1.ResourceName("requests." + string(r))} {
				hard, ok := q.Status.Hard[name]
				if !ok {
					continue
				}
				room := hard.DeepCopy()
				room.Sub(q.Status.Used[name])
				if cur, limited := b.QuotaRoom[r]; !limited || room.Cmp(cur) < 0 {
					b.QuotaRoom[r] = room
				}
			}
		}
	}
	return b, nil
}

// write creates the tenant's TenantUsage if missing and updates its status
// when the figures changed.
func (s *Sampler) write(ctx context.Context, t *tenancyv1alpha1.Tenant, st tenancyv1alpha1.TenantUsageStatus, resizes []tenancyv1alpha1.Resize) error {
	tu := &tenancyv1alpha1.TenantUsage{ObjectMeta: metav1.ObjectMeta{Name: t.Name}}
	if err := s.Live.Get(ctx, client.ObjectKeyFromObject(tu), tu); apierrors.IsNotFound(err) {
		// Created once there is something to say, and never for a Tenant
		// on its way out (the garbage collector deletes it after the Tenant).
		if len(st.Containers) == 0 || t.DeletionTimestamp != nil {
			return nil
		}
		if err := controllerutil.SetControllerReference(t, tu, s.Live.Scheme()); err != nil {
			return err
		}
		if err := s.Live.Create(ctx, tu); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	// Resizes carry over, newest first.
	slices.Reverse(resizes)
	st.Resizes = append(resizes, tu.Status.Resizes...)
	if len(st.Resizes) > maxResizes {
		st.Resizes = st.Resizes[:maxResizes]
	}
	if len(st.Resizes) == 0 {
		st.Resizes = nil
	}
	// Usage moves at every sample; what a reader acts on (requests,
	// recommendations, what rightsizing did) does not. The status is
	// written when that changes, and otherwise every five minutes, so that
	// lastSampleTime says the sampler is alive.
	if equality.Semantic.DeepEqual(significant(tu.Status), significant(st)) && time.Since(tu.Status.LastSampleTime.Time) < 5*time.Minute {
		return nil
	}
	tu.Status = st
	return s.Live.Status().Update(ctx, tu)
}

// significant is a status without the figures that move at every sample.
func significant(st tenancyv1alpha1.TenantUsageStatus) tenancyv1alpha1.TenantUsageStatus {
	out := *st.DeepCopy()
	out.LastSampleTime, out.ObservedSince, out.Usage = metav1.Time{}, metav1.Time{}, nil
	for i := range out.Containers {
		out.Containers[i].Samples, out.Containers[i].P95, out.Containers[i].Peak = 0, nil, nil
	}
	return out
}

var (
	tenantResource = []string{"tenant", "resource"}
	requestsGauge  = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bulkhead_tenant_resource_requests",
		Help: "What a tenant's running pods request, as of the last usage sample: cores for resource=cpu, bytes for resource=memory.",
	}, tenantResource)
	usageGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bulkhead_tenant_resource_usage",
		Help: "What a tenant's running pods use, from metrics.k8s.io at the last sample: cores for resource=cpu, bytes for resource=memory. quantile_over_time gives its percentiles over any window.",
	}, tenantResource)
	recommendationGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bulkhead_tenant_resource_recommendation",
		Help: "What a tenant's running pods would request at Bulkhead's recommendations (their current request where a container has too few samples yet): cores for resource=cpu, bytes for resource=memory.",
	}, tenantResource)
	resizesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bulkhead_rightsizing_resizes_total",
		Help: "Containers Bulkhead resized in place, by tenant (spec.rightsizing.mode Resize).",
	}, []string{"tenant"})
	scrapes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bulkhead_usage_samples_total",
		Help: "Reads of metrics.k8s.io by the usage sampler, by result (ok or error: metrics-server missing or failing).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(requestsGauge, usageGauge, recommendationGauge, resizesTotal, scrapes)
	// Both results exist from the start, so that a rate of errors is
	// defined before the first one.
	scrapes.WithLabelValues("ok")
	scrapes.WithLabelValues("error")
}

// setGauges sets one tenant's figures.
func (s *Sampler) setGauges(tenant string, requests, used, recommended usage.Amount) {
	for g, a := range map[*prometheus.GaugeVec]usage.Amount{requestsGauge: requests, usageGauge: used, recommendationGauge: recommended} {
		g.WithLabelValues(tenant, "cpu").Set(float64(a.CPUMilli) / 1000)
		g.WithLabelValues(tenant, "memory").Set(float64(a.MemoryBytes))
	}
	if s.gauged == nil {
		s.gauged = map[string]bool{}
	}
	s.gauged[tenant] = true
}

// unsetGauges removes one tenant's figures.
func (s *Sampler) unsetGauges(tenant string) {
	for _, g := range []*prometheus.GaugeVec{requestsGauge, usageGauge, recommendationGauge} {
		g.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
	}
	delete(s.gauged, tenant)
}

// ungauge removes the figures of every tenant not in keep. Each tenant's
// are replaced in place, never reset all at once, so that a scrape during
// a pass sees every tenant.
func (s *Sampler) ungauge(keep map[string]bool) {
	for tenant := range s.gauged {
		if !keep[tenant] {
			s.unsetGauges(tenant)
		}
	}
}
