package observe

import (
	"context"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

var (
	decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bulkhead_webhook_decisions_total",
		Help: "Admission requests the webhooks answered, by webhook, decision (allowed, denied or error) and, for denials, the rule that denied.",
	}, []string{"webhook", "decision", "rule"})
	chargeConflicts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "bulkhead_tenant_quota_charge_conflicts_total",
		Help: "Charges to a TenantQuotaLedger that lost the compare-and-swap to another charge or the recount, and were decided again.",
	})
	deniedEvents = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "bulkhead_denial_events_dropped_total",
		Help: "Denials not told as an Event on their Tenant because one for the same tenant and rule was told within the last minute.",
	})
)

func init() {
	metrics.Registry.MustRegister(decisions, chargeConflicts, deniedEvents)
}

// ChargeConflict counts a ledger charge that lost its compare-and-swap.
func ChargeConflict() { chargeConflicts.Inc() }

var (
	ruleRE   = regexp.MustCompile(`\[rule ([A-Za-z0-9.\-]+)\]`)
	tenantRE = regexp.MustCompile(`^tenant ([a-z0-9]([-a-z0-9]*[a-z0-9])?):`)
)

// Decisions wraps a webhook's handler: it counts each answer by decision
// and rule, and tells each denial of a tenant's request as a Warning Event
// on the Tenant, at most once a minute per tenant and rule.
type Decisions struct {
	Webhook string
	Handler admission.Handler
	// Reader finds the Tenant a denial names (the cache).
	Reader   client.Reader
	Recorder events.EventRecorder

	mu   sync.Mutex
	told map[string]time.Time
	now  func() time.Time
}

// eventEvery is how often one tenant hears of denials by one rule.
const eventEvery = time.Minute

// Handle implements admission.Handler.
func (d *Decisions) Handle(ctx context.Context, req admission.Request) admission.Response {
	resp := d.Handler.Handle(ctx, req)
	switch {
	case resp.Allowed:
		decisions.WithLabelValues(d.Webhook, "allowed", "").Inc()
	case resp.Result != nil && resp.Result.Code >= 500, resp.Result != nil && resp.Result.Code == 400:
		decisions.WithLabelValues(d.Webhook, "error", "").Inc()
	default:
		msg := ""
		if resp.Result != nil {
			msg = resp.Result.Message
		}
		rule := "unknown"
		if m := ruleRE.FindStringSubmatch(msg); m != nil {
			rule = m[1]
		}
		decisions.WithLabelValues(d.Webhook, "denied", rule).Inc()
		d.tell(ctx, req, msg, rule)
	}
	return resp
}

// tell records a denial on the Tenant its message names, unless one for
// that tenant and rule was told within eventEvery, and never for dry runs.
func (d *Decisions) tell(ctx context.Context, req admission.Request, msg, rule string) {
	if d.Recorder == nil || (req.DryRun != nil && *req.DryRun) {
		return
	}
	m := tenantRE.FindStringSubmatch(msg)
	if m == nil {
		return
	}
	key, now := m[1]+"/"+rule, d.clock()
	d.mu.Lock()
	if d.told == nil {
		d.told = map[string]time.Time{}
	}
	if last, ok := d.told[key]; ok && now.Sub(last) < eventEvery {
		d.mu.Unlock()
		deniedEvents.Inc()
		return
	}
	d.told[key] = now
	d.mu.Unlock()
	t := &tenancyv1alpha1.Tenant{}
	if err := d.Reader.Get(ctx, client.ObjectKey{Name: m[1]}, t); err != nil {
		return
	}
	who := req.UserInfo.Username
	if len(msg) > 600 {
		msg = msg[:600] + "..."
	}
	d.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "Denied", string(req.Operation),
		"%s refused %s %s %s/%s of %s: %s", d.Webhook, req.Operation, req.Kind.Kind, req.Namespace, req.Name, who, msg)
}

func (d *Decisions) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}
