// Package tenantquota runs the recount of tenant-wide quota: it keeps one
// TenantQuotaLedger per Tenant with a tenant-wide quota, sets its usage to
// what the tenant's namespaces hold plus the reservations still pending, and
// copies that figure to the Tenant's status.usage when it changes (see
// package internal/tenantquota for the design). It must not write the
// Tenant at every admission: the ledger takes those writes.
package tenantquota

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	tq "github.com/bulkhead-dev/bulkhead/internal/tenantquota"
)

// +kubebuilder:rbac:groups="",resources=pods;persistentvolumeclaims,verbs=list
// Counts of any kind: the metadata of whatever kind a Tenant counts. A
// cluster admin sets the limits, so the manager must be able to list and
// watch whatever kind they name; it never reads their contents.
// +kubebuilder:rbac:groups=*,resources=*,verbs=list;watch
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantquotaledgers,verbs=get;create;update;delete
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=tenantquotaledgers/status,verbs=get;update

// Recounter recounts the usage of Tenants that have a tenant-wide quota.
type Recounter struct {
	Client client.Client
	// APIReader lists pods and claims live (they are not cached: caching
	// every pod of the cluster would cost more than a periodic list) and
	// reads the ledger live, for an up-to-date resourceVersion.
	APIReader client.Reader
	// Metadata lists objects of the counted kinds (count/<resource>.<group>
	// limits) by their metadata alone: a cache whose informers start on the
	// first list of a kind, so that only kinds some Tenant counts are
	// watched, and a custom resource's body is never held.
	Metadata client.Reader
	// Mapper resolves a counted resource to its kind and scope.
	Mapper meta.RESTMapper
	// Interval between recounts of one tenant.
	Interval time.Duration
	Now      func() time.Time

	// watched is the kinds Metadata runs informers for (see Pruner).
	watched watched
}

// Reconcile recounts one Tenant.
func (r *Recounter) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	t := &tenancyv1alpha1.Tenant{}
	if err := r.APIReader.Get(ctx, req.NamespacedName, t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !t.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	var hard tq.Limits
	if t.Spec.Quota.Tenant != nil {
		hard = t.Spec.Quota.Tenant.Hard
	}
	if len(hard) == 0 {
		if err := r.dropLedger(ctx, t); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, r.publish(ctx, t, nil)
	}
	ledger, err := r.ledger(ctx, t)
	if err != nil {
		return ctrl.Result{}, err
	}
	// Terminating namespaces too: pods, claims and counted objects a
	// finalizer keeps there are still the tenant's.
	namespaces, err := concern.AllTenantNamespaces(ctx, r.Client, t.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	counted, present, err := r.count(ctx, namespaces, hard)
	if err != nil {
		return ctrl.Result{}, err
	}
	// A charge landing while counting makes the write conflict. The counts
	// stay valid against the fresher ledger: its newer reservations are for
	// objects the listing did not see, and are kept. So re-read the ledger
	// only, not every namespace, and a busy tenant is still recounted.
	for attempt := 0; ; attempt++ {
		usage, reservations := tq.Recount(hard, counted, present, ledger.Status.Reservations, r.now())
		if equality.Semantic.DeepEqual(usage, ledger.Status.Usage) && len(reservations) == len(ledger.Status.Reservations) {
			break
		}
		ledger.Status.Usage, ledger.Status.Reservations = usage, reservations
		// The compare-and-swap the webhook's charges use too.
		err := r.Client.Status().Update(ctx, ledger)
		if err == nil {
			break
		}
		if !apierrors.IsConflict(err) || attempt == 20 {
			return ctrl.Result{}, fmt.Errorf("writing the quota ledger of tenant %s: %w", t.Name, err)
		}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(ledger), ledger); err != nil {
			return ctrl.Result{}, fmt.Errorf("reading the quota ledger of tenant %s: %w", t.Name, err)
		}
	}
	if err := r.publish(ctx, t, ledger.Status.Usage); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: r.Interval}, nil
}

// ledger reads t's ledger live, creating it when missing. One that is not
// t's own (tq.Owned) is taken over with an empty account: a ledger left by
// an earlier Tenant of the same name (the garbage collector has not yet
// deleted it) holds reservations for objects that belonged to the old
// Tenant, and one created without Bulkhead's labels was open to edits the
// managed-objects rule would have refused.
func (r *Recounter) ledger(ctx context.Context, t *tenancyv1alpha1.Tenant) (*tenancyv1alpha1.TenantQuotaLedger, error) {
	l := &tenancyv1alpha1.TenantQuotaLedger{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Name: t.Name}, l)
	switch {
	case apierrors.IsNotFound(err):
		l = tq.NewLedger(t)
		if err := r.Client.Create(ctx, l); err != nil {
			return nil, fmt.Errorf("creating the quota ledger of tenant %s: %w", t.Name, err)
		}
		return l, nil
	case err != nil:
		return nil, fmt.Errorf("reading the quota ledger of tenant %s: %w", t.Name, err)
	case tq.Owned(t, l):
		return l, nil
	}
	// Two writes, the account first. While the ledger is not yet t's own,
	// admissions refuse to charge it; once emptied it is not counted, and
	// they keep refusing until the recount has written t's usage. Setting
	// t's owner and labels first would leave, between the two writes, a
	// ledger that is t's own and counted but holds someone else's account,
	// and admissions would charge against it. The second write carries the
	// resourceVersion the first returned, so a write by anyone in between
	// (a rewritten account included) makes it conflict, and the take-over
	// starts again at the next reconcile.
	l.Status = tenancyv1alpha1.TenantQuotaLedgerStatus{}
	if err := r.Client.Status().Update(ctx, l); err != nil {
		return nil, fmt.Errorf("emptying the quota ledger of tenant %s: %w", t.Name, err)
	}
	fresh := tq.NewLedger(t)
	l.OwnerReferences, l.Labels = fresh.OwnerReferences, fresh.Labels
	if err := r.Client.Update(ctx, l); err != nil {
		return nil, fmt.Errorf("taking over the quota ledger of tenant %s: %w", t.Name, err)
	}
	return l, nil
}

// dropLedger deletes t's ledger once t has no tenant-wide quota: nothing
// charges it any more.
func (r *Recounter) dropLedger(ctx context.Context, t *tenancyv1alpha1.Tenant) error {
	l := &tenancyv1alpha1.TenantQuotaLedger{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: t.Name}, l); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !tq.Owned(t, l) {
		return nil // not t's own: the garbage collector's to delete, with its owner
	}
	if err := r.Client.Delete(ctx, l, client.Preconditions{UID: &l.UID}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting the quota ledger of tenant %s: %w", t.Name, err)
	}
	return nil
}

// publish copies usage to the Tenant's status.usage, for people reading the
// Tenant, when it differs: at most once a recount, never once per admission.
func (r *Recounter) publish(ctx context.Context, t *tenancyv1alpha1.Tenant, usage corev1.ResourceList) error {
	if equality.Semantic.DeepEqual(t.Status.Usage, usage) || (len(t.Status.Usage) == 0 && len(usage) == 0) {
		return nil
	}
	before := t.DeepCopy()
	t.Status.Usage = usage
	if err := r.Client.Status().Patch(ctx, t, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("writing the usage of tenant %s: %w", t.Name, err)
	}
	return nil
}

// count sums what the namespaces hold of the limited resources, and notes
// every object it saw.
func (r *Recounter) count(ctx context.Context, namespaces []string, hard tq.Limits) (corev1.ResourceList, map[string]bool, error) {
	counted, present := corev1.ResourceList{}, map[string]bool{}
	claims := false
	for name := range hard {
		if name == corev1.ResourcePersistentVolumeClaims || name == corev1.ResourceRequestsStorage || name == "count/persistentvolumeclaims" {
			claims = true
		}
	}
	kinds, err := r.countedKinds(hard)
	if err != nil {
		return nil, nil, err
	}
	for _, ns := range namespaces {
		if err := r.countObjects(ctx, ns, kinds, counted, present); err != nil {
			return nil, nil, err
		}
		pods := &corev1.PodList{}
		if err := r.APIReader.List(ctx, pods, client.InNamespace(ns)); err != nil {
			return nil, nil, fmt.Errorf("listing pods of %s: %w", ns, err)
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			present[tq.ObjectKey(tq.KindPod, p.Namespace, p.Name)] = true
			counted = tq.Add(counted, tq.Relevant(hard, tq.PodUsage(p)))
		}
		if !claims {
			continue
		}
		pvcs := &corev1.PersistentVolumeClaimList{}
		if err := r.APIReader.List(ctx, pvcs, client.InNamespace(ns)); err != nil {
			return nil, nil, fmt.Errorf("listing claims of %s: %w", ns, err)
		}
		for i := range pvcs.Items {
			c := &pvcs.Items[i]
			present[tq.ObjectKey(tq.KindClaim, c.Namespace, c.Name)] = true
			counted = tq.Add(counted, tq.Relevant(hard, tq.ClaimUsage(c)))
		}
	}
	return counted, present, nil
}

// countedKind is a kind a count/ limit counts, as the API server serves it.
type countedKind struct {
	resource schema.GroupResource
	kind     schema.GroupVersionKind
}

// countedKinds resolves the kinds hard's count/ limits count. One the API
// server does not serve (a custom resource not installed yet), or serves
// outside namespaces, has nothing in the tenant's namespaces to count: its
// count is zero, and the webhook charges its objects from the moment they
// can exist.
func (r *Recounter) countedKinds(hard tq.Limits) ([]countedKind, error) {
	var out []countedKind
	for _, gr := range tq.CountedResources(hard) {
		gvk, err := r.Mapper.KindFor(gr.WithVersion(""))
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", tq.CountName(gr), err)
		}
		mapping, err := r.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", tq.CountName(gr), err)
		}
		if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
			continue
		}
		out = append(out, countedKind{resource: gr, kind: gvk})
	}
	return out, nil
}

// countObjects adds to counted the objects of kinds in namespace ns, one
// each, by their metadata, and notes each in present.
func (r *Recounter) countObjects(ctx context.Context, ns string, kinds []countedKind, counted corev1.ResourceList, present map[string]bool) error {
	for _, k := range kinds {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(k.kind.GroupVersion().WithKind(k.kind.Kind + "List"))
		if err := r.Metadata.List(ctx, list, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("listing %s of %s: %w", k.resource, ns, err)
		}
		r.watched.add(k)
		name := tq.CountName(k.resource)
		n := counted[name]
		n.Add(*resource.NewQuantity(int64(len(list.Items)), resource.DecimalSI))
		counted[name] = n
		for i := range list.Items {
			present[tq.ObjectKey(tq.CountKind(k.resource), ns, list.Items[i].Name)] = true
		}
	}
	return nil
}

func (r *Recounter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Setup registers the recount with mgr; interval 0 means 15 seconds.
func Setup(mgr ctrl.Manager, interval time.Duration) error {
	if interval <= 0 {
		interval = 15 * time.Second
	}
	// A cache of its own: the manager's limits Secrets to the webhook's,
	// and would hold every counted kind's objects whole.
	metadata, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		DefaultTransform: cache.TransformStripManagedFields(),
	})
	if err != nil {
		return fmt.Errorf("creating the cache of counted kinds: %w", err)
	}
	if err := mgr.Add(metadata); err != nil {
		return err
	}
	r := &Recounter{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Metadata: metadata, Mapper: mgr.GetRESTMapper(), Interval: interval}
	if err := mgr.Add(&Pruner{Recounter: r, Informers: metadata, Interval: 4 * interval}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("tenant-quota-recount").
		For(&tenancyv1alpha1.Tenant{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}
