package keeper

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/discovery"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/ssa"
	"github.com/bulkhead-dev/bulkhead/internal/tenantquota"
	"github.com/bulkhead-dev/bulkhead/internal/tenantstatus"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings;mutatingadmissionpolicies;mutatingadmissionpolicybindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=get;list;watch;create;update;patch
// The owner role grants bind on the bindable roles; writing it takes escalate on them.
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind;escalate,resourceNames={"bulkhead:tenant-owner","bulkhead:namespace-creator","edit","view"}
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create
// +kubebuilder:rbac:groups="",resources=secrets,verbs=list;watch;update,resourceNames=bulkhead-webhook-tls
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenants,verbs=get;list;watch
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenants/status,verbs=get;update;patch

// Event reasons on the kept objects.
const (
	// ReasonApplied: an object differed from its rendering (or was missing)
	// and was written back.
	ReasonApplied = "Applied"
	// ReasonApplyFailed: an object could not be written; the note says why.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonPruned: a policy Bulkhead no longer renders was deleted.
	ReasonPruned = "Pruned"
	// ReasonIssued: a new serving certificate was issued.
	ReasonIssued = "CertificateIssued"
)

// fieldManager writes the ClusterObjectsReady condition, and nothing else.
const fieldManager = "bulkhead-keeper"

// clusterRequest is the one key every event maps to: any change to any kept
// object is reason enough to look at the whole set.
var clusterRequest = ctrl.Request{NamespacedName: types.NamespacedName{Name: "cluster"}}

// tenantRequests marks a request for one Tenant's condition (Tenants are
// cluster-scoped: their requests have no namespace of their own).
const tenantRequests = "tenant"

// Keeper reconciles the set of cluster-wide objects. It runs on the leader
// only.
type Keeper struct {
	// Client reads kept objects from the cache (the Secret live) and writes.
	Client client.Client
	// Recorder tells, on each kept object, what was done to it or failed.
	Recorder events.EventRecorder
	Settings render.Settings
	// Endpoint is how the API server reaches the webhook.
	Endpoint bwebhook.Endpoint
	// Secret holds the webhook's serving certificate.
	Secret client.ObjectKey
	// Hosts are the DNS names or IPs the certificate must cover.
	Hosts []string
	// last is the condition the latest round wrote on every Tenant, which
	// a new Tenant gets without a round of its own; nil before the first.
	// Reconciles run one at a time.
	last *metav1.Condition
}

// failure is one object the round could not write.
type failure struct {
	kind, name string
	err        error
}

func (f failure) Error() string { return fmt.Sprintf("%s %s: %v", f.kind, f.name, f.err) }

// Reconcile applies every kept object that differs from its rendering,
// prunes policies no longer rendered, and says how it went. It comes back
// when a kept object changes, and when the certificate is due for renewal.
func (k *Keeper) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.Namespace == tenantRequests {
		return k.reportOnTenant(ctx, req.Name)
	}
	now := time.Now()
	renewAt, failures := k.keep(ctx, now)
	if len(failures) == 0 {
		objectsReady.WithLabelValues().Set(1)
	} else {
		objectsReady.WithLabelValues().Set(0)
	}
	cond := condition(failures)
	k.last = &cond
	if err := k.reportOnTenants(ctx, cond); err != nil {
		failures = append(failures, failure{kind: "Tenant", name: "status", err: err})
	}
	if len(failures) > 0 {
		errs := make([]error, len(failures))
		for i, f := range failures {
			errs[i] = f
		}
		return ctrl.Result{}, errors.Join(errs...)
	}
	// A second past the due time: valid() still accepts the certificate at
	// the very instant.
	return ctrl.Result{RequeueAfter: renewAt.Sub(now) + time.Second}, nil
}

// keep runs one round and returns when the certificate is due for renewal
// and what failed.
func (k *Keeper) keep(ctx context.Context, now time.Time) (time.Time, []failure) {
	var failures []failure
	data, err := k.servingCertificate(ctx, now)
	if err != nil && !errors.Is(err, errLostRace) {
		failures = append(failures, k.failed(servingSecret(k.Secret, nil), err))
	}
	// Without a certificate stored (data nil) the webhook configurations
	// cannot carry its CA: they are left as they are, and the rest is kept.
	served, discoveryErr := discovery.MutatingPoliciesServed(k.Client.RESTMapper())
	in := Inputs{Settings: k.Settings, MutatingPoliciesServed: served, MutatingPoliciesUnknown: discoveryErr != nil, Endpoint: k.Endpoint}
	if data != nil {
		in.CABundle = caBundle(data, now)
	}
	counted, err := k.counted(ctx)
	if err != nil {
		// Without the Tenants the quota webhook's rules are unknown: the
		// webhook configurations are left as they are this round.
		failures = append(failures, failure{kind: "Tenant", name: "list", err: err})
		in.CABundle = nil
	}
	in.Counted = counted
	desired := Desired(in)
	applied := true
	for _, obj := range desired {
		if f := k.apply(ctx, obj); f != nil {
			failures = append(failures, *f)
			applied = false
		}
	}
	// Retired policies go only once every rendered one is in place: a
	// policy renamed by an upgrade must not lose its old copy while the
	// new one failed to apply. Unknown, the mutating kinds are not pruned:
	// served=false lists the validating ones only.
	if applied {
		failures = append(failures, k.prune(ctx, desired, served && discoveryErr == nil)...)
	}
	if discoveryErr != nil {
		// Returned, so that the round is retried until discovery answers.
		failures = append(failures, failure{kind: "MutatingAdmissionPolicy", name: "discovery", err: discoveryErr})
	}
	// A certificate not stored, or lost to another writer, is looked at
	// again at once (Reconcile adds a second).
	renewAt := now
	if data != nil {
		renewAt = renewalDue(data, now)
	}
	return renewAt, failures
}

// counted lists the kinds some Tenant counts, from the cache.
func (k *Keeper) counted(ctx context.Context) ([]schema.GroupResource, error) {
	tenants := &tenancyv1alpha1.TenantList{}
	if err := k.Client.List(ctx, tenants); err != nil {
		return nil, err
	}
	hards := make([]tenantquota.Limits, 0, len(tenants.Items))
	for i := range tenants.Items {
		hards = append(hards, tenantquota.TenantLimits(&tenants.Items[i]))
	}
	return tenantquota.CountedResources(hards...), nil
}

// errLostRace: another writer (a leader overlapping this one during a
// lease handover) changed the Secret between the read and the write. Not a
// failure: the next round reads what it stored.
var errLostRace = errors.New("the webhook secret changed while being written")

// servingCertificate returns the data of the Secret once it holds a valid
// certificate for Hosts: the stored one while it is valid, a new one
// otherwise. The Secret is written with compare-and-swap (created if
// absent, updated at the resourceVersion read), never applied: two leaders
// overlapping during a lease handover must not each overwrite the other's
// certificate, or the configurations' CA would flap.
func (k *Keeper) servingCertificate(ctx context.Context, now time.Time) (map[string][]byte, error) {
	current := &corev1.Secret{}
	err := k.Client.Get(ctx, k.Secret, current)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("reading webhook secret %s: %w", k.Secret, err)
	}
	exists := err == nil
	labelled := current.Labels[tenancyv1alpha1.ManagedByLabel] == tenancyv1alpha1.ManagedByValue
	if exists && labelled && valid(current.Data, k.Hosts, now) {
		return current.Data, nil
	}
	data := current.Data
	issued := false
	if !valid(data, k.Hosts, now) {
		if data, err = renew(current.Data, k.Hosts, now); err != nil {
			return nil, fmt.Errorf("issuing webhook serving certificate: %w", err)
		}
		issued = true
	}
	want := servingSecret(k.Secret, data)
	if exists {
		// Other labels and annotations are someone else's, and kept.
		want = current.DeepCopy()
		if want.Labels == nil {
			want.Labels = map[string]string{}
		}
		want.Labels[tenancyv1alpha1.ManagedByLabel] = tenancyv1alpha1.ManagedByValue
		want.Data = data
		err = k.Client.Update(ctx, want)
	} else {
		err = k.Client.Create(ctx, want)
	}
	switch {
	case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) || (exists && apierrors.IsNotFound(err)):
		ctrl.LoggerFrom(ctx).V(1).Info("Webhook secret written by another writer meanwhile; reading it again", "secret", k.Secret.String())
		return nil, errLostRace
	case err != nil:
		return nil, fmt.Errorf("writing webhook secret %s: %w", k.Secret, err)
	}
	writes.WithLabelValues(k.kindOf(want)).Inc()
	if issued {
		k.Recorder.Eventf(want, nil, corev1.EventTypeNormal, ReasonIssued, "Issue",
			"issued the webhook serving certificate for %s, valid until %s", strings.Join(k.Hosts, ", "),
			renewalDue(data, now).Add(renewBefore).UTC().Format(time.RFC3339))
	} else {
		k.Recorder.Eventf(want, nil, corev1.EventTypeNormal, ReasonApplied, "Apply",
			"Secret %s lacked the label %s=%s; labelled it", want.Name, tenancyv1alpha1.ManagedByLabel, tenancyv1alpha1.ManagedByValue)
	}
	return data, nil
}

// apply writes obj if it differs from the cluster's copy, telling on the
// object what it did.
func (k *Keeper) apply(ctx context.Context, obj client.Object) *failure {
	_, changed, err := ssa.Apply(ctx, k.Client, obj)
	kind := k.kindOf(obj)
	if err != nil {
		f := k.failed(obj, err)
		return &f
	}
	if changed {
		writes.WithLabelValues(kind).Inc()
		k.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, ReasonApplied, "Apply",
			"%s %s was missing or differed from what Bulkhead renders; applied it. If this repeats, another writer keeps changing it: its metadata.managedFields names the writer", kind, obj.GetName())
	}
	return nil
}

// failed records that obj could not be written: a metric and a Warning
// Event on it.
func (k *Keeper) failed(obj client.Object, err error) failure {
	kind := k.kindOf(obj)
	applyErrors.WithLabelValues(kind).Inc()
	k.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, ReasonApplyFailed, "Apply",
		"Bulkhead could not keep %s %s: %s", kind, obj.GetName(), tenantstatus.FailureMessage(err))
	return failure{kind: kind, name: obj.GetName(), err: err}
}

func (k *Keeper) kindOf(obj client.Object) string {
	gvk, err := apiutil.GVKForObject(obj, k.Client.Scheme())
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return gvk.Kind
}

// prunable are the kinds of which Bulkhead deletes what it no longer
// renders: a policy or binding left behind by an older version would go on
// judging tenants with nobody keeping it. ClusterRoles and webhook
// configurations are not pruned; their names never change, and people bind
// to ClusterRoles.
func prunable(served bool) []client.ObjectList {
	out := []client.ObjectList{&admissionregistrationv1.ValidatingAdmissionPolicyList{}, &admissionregistrationv1.ValidatingAdmissionPolicyBindingList{}, &flowcontrolv1.FlowSchemaList{}}
	if served {
		out = append(out, &admissionregistrationv1.MutatingAdmissionPolicyList{}, &admissionregistrationv1.MutatingAdmissionPolicyBindingList{})
	}
	return out
}

// prune deletes the policies and bindings labelled as Bulkhead's that it
// no longer renders. Objects carrying a tenant label are a tenant's, never
// pruned here.
func (k *Keeper) prune(ctx context.Context, desired []client.Object, served bool) []failure {
	keep := map[string]bool{}
	for _, obj := range desired {
		keep[k.kindOf(obj)+"/"+obj.GetName()] = true
	}
	var failures []failure
	for _, list := range prunable(served) {
		if err := k.Client.List(ctx, list, client.MatchingLabels{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}); err != nil {
			failures = append(failures, failure{kind: fmt.Sprintf("%T", list), name: "list", err: err})
			continue
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			failures = append(failures, failure{kind: fmt.Sprintf("%T", list), name: "list", err: err})
			continue
		}
		for _, item := range items {
			obj := item.(client.Object)
			if keep[k.kindOf(obj)+"/"+obj.GetName()] || obj.GetLabels()[tenancyv1alpha1.TenantLabel] != "" {
				continue
			}
			uid := obj.GetUID()
			if err := k.Client.Delete(ctx, obj, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
				failures = append(failures, k.failed(obj, fmt.Errorf("deleting: %w", err)))
				continue
			}
			writes.WithLabelValues(k.kindOf(obj)).Inc()
			k.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, ReasonPruned, "Delete",
				"%s %s is labelled as Bulkhead's but Bulkhead no longer renders it; deleted it", k.kindOf(obj), obj.GetName())
		}
	}
	return failures
}

// condition summarises a round for the Tenants: True when every kept
// object is in place, False naming what is not and where to look.
func condition(failures []failure) metav1.Condition {
	if len(failures) == 0 {
		return metav1.Condition{Type: tenancyv1alpha1.ConditionClusterObjectsReady, Status: metav1.ConditionTrue,
			Reason: tenancyv1alpha1.ReasonApplied, Message: "the shared admission policies, tenant ClusterRoles and webhook configurations are in place"}
	}
	const shown = 3
	names := make([]string, 0, shown)
	for _, f := range failures[:min(shown, len(failures))] {
		names = append(names, f.Error())
	}
	msg := fmt.Sprintf("Bulkhead could not keep %d cluster-wide object(s) that this tenant's isolation rests on: %s", len(failures), strings.Join(names, "; "))
	if len(failures) > shown {
		msg += fmt.Sprintf("; and %d more", len(failures)-shown)
	}
	errs := make([]error, 0, len(failures))
	for _, f := range failures {
		errs = append(errs, f.err)
	}
	msg += ". " + tenantstatus.NextStep(errors.Join(errs...)) + ". The Warning Events on those objects say more"
	return metav1.Condition{Type: tenancyv1alpha1.ConditionClusterObjectsReady, Status: metav1.ConditionFalse,
		Reason: tenancyv1alpha1.ReasonApplyFailed, Message: msg}
}

// reportOnTenants writes cond on every Tenant where it differs. The list
// is the cache's own objects, read only: a copy of every Tenant per round
// made the manager's CPU grow with the square of the Tenants as they were
// created.
func (k *Keeper) reportOnTenants(ctx context.Context, cond metav1.Condition) error {
	list := &tenancyv1alpha1.TenantList{}
	if err := k.Client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing tenants: %w", err)
	}
	var errs []error
	for i := range list.Items {
		if err := k.report(ctx, &list.Items[i], cond); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reportOnTenant writes the latest round's condition on the Tenant name, new
// or changed: a round of its own would apply every kept object again for
// nothing.
func (k *Keeper) reportOnTenant(ctx context.Context, name string) (ctrl.Result, error) {
	if k.last == nil {
		// The first round runs at start and reports on every Tenant.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	t := &tenancyv1alpha1.Tenant{}
	if err := k.Client.Get(ctx, client.ObjectKey{Name: name}, t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, k.report(ctx, t, *k.last)
}

// report writes cond, at t's generation, on t where it differs.
func (k *Keeper) report(ctx context.Context, t *tenancyv1alpha1.Tenant, cond metav1.Condition) error {
	if !t.DeletionTimestamp.IsZero() {
		// Going away: a write would only race the finalizers' removal.
		return nil
	}
	cond.ObservedGeneration = t.Generation
	// A Tenant deleted since it was read needs no condition.
	return client.IgnoreNotFound(tenantstatus.ApplyCondition(ctx, k.Client, t, fieldManager, cond))
}
