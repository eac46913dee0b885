package tenantquota

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	tq "github.com/bulkhead-dev/bulkhead/internal/tenantquota"
)

// watchedKinds is the informers the recount's metadata cache runs: one per
// kind a count/ limit made it list.
var watchedKinds = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "bulkhead_tenant_quota_watched_kinds",
	Help: "1 for each kind whose objects' metadata the manager watches because a Tenant's count/<resource>.<group> limit counts it; stopped within four recount intervals of the last such limit going.",
}, []string{"resource"})

func init() { metrics.Registry.MustRegister(watchedKinds) }

// watched is the kinds whose informers the metadata cache runs.
type watched struct {
	mu    sync.Mutex
	kinds map[schema.GroupVersionKind]schema.GroupResource
}

// add notes that k's informer runs (the cache starts it on the first list).
func (w *watched) add(k countedKind) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.kinds == nil {
		w.kinds = map[schema.GroupVersionKind]schema.GroupResource{}
	}
	if _, ok := w.kinds[k.kind]; !ok {
		w.kinds[k.kind] = k.resource
		watchedKinds.WithLabelValues(k.resource.String()).Set(1)
	}
}

// Pruner stops the informers of kinds no Tenant counts any more: a kind
// counted once would otherwise be watched, every object's metadata held,
// until the manager restarts. A recount that lists a kind again starts its
// informer again, so pruning never makes a count wrong, only slower once.
type Pruner struct {
	Recounter *Recounter
	Informers cache.Informers
	Interval  time.Duration
}

// Start implements manager.Runnable; it runs on the leader, where the
// recount runs.
func (p *Pruner) Start(ctx context.Context) error {
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := p.Prune(ctx); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Stopping the informers of kinds no Tenant counts")
		}
	}
}

// Prune stops the informers of the kinds no Tenant's limits count now.
func (p *Pruner) Prune(ctx context.Context) error {
	var tenants tenancyv1alpha1.TenantList
	if err := p.Recounter.Client.List(ctx, &tenants); err != nil {
		return err
	}
	var hards []tq.Limits
	for i := range tenants.Items {
		hards = append(hards, tq.TenantLimits(&tenants.Items[i]))
	}
	kinds, err := p.Recounter.countedKinds(mergeLimits(hards))
	if err != nil {
		return err
	}
	counted := map[schema.GroupVersionKind]bool{}
	for _, k := range kinds {
		counted[k.kind] = true
	}
	w := &p.Recounter.watched
	w.mu.Lock()
	defer w.mu.Unlock()
	for gvk, gr := range w.kinds {
		if counted[gvk] {
			continue
		}
		obj := &metav1.PartialObjectMetadata{}
		obj.SetGroupVersionKind(gvk)
		if err := p.Informers.RemoveInformer(ctx, obj); err != nil {
			return err
		}
		delete(w.kinds, gvk)
		watchedKinds.DeleteLabelValues(gr.String())
	}
	return nil
}

// mergeLimits is one Limits naming every resource of hards, for the kinds
// they count together.
func mergeLimits(hards []tq.Limits) tq.Limits {
	out := tq.Limits{}
	for _, h := range hards {
		for name, q := range h {
			out[name] = q
		}
	}
	return out
}
