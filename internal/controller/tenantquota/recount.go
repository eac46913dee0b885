// Package tenantquota runs the recount of tenant-wide quota: it sets each
// Tenant's status.usage to what its namespaces hold plus the reservations
// still pending (see package internal/tenantquota for the design).
package tenantquota

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	ctrl "sigs.k8s.io/controller-runtime"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	tq "github.com/bulkhead-dev/bulkhead/internal/tenantquota"
)

// +kubebuilder:rbac:groups="",resources=pods;persistentvolumeclaims,verbs=list

// Recounter recounts the usage of Tenants that have a tenant-wide quota.
type Recounter struct {
	Client client.Client
	// APIReader lists pods and claims live (they are not cached: caching
	// every pod of the cluster would cost more than a periodic list) and
	// reads the Tenant live, for an up-to-date resourceVersion.
	APIReader client.Reader
	// Interval between recounts of one tenant.
	Interval time.Duration
	Now      func() time.Time
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
		if len(t.Status.Usage) == 0 && len(t.Status.Reservations) == 0 {
			return ctrl.Result{}, nil
		}
		t.Status.Usage, t.Status.Reservations = nil, nil
		return ctrl.Result{}, r.write(ctx, t)
	}
	namespaces, err := concern.TenantNamespaces(ctx, r.Client, t.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	counted, present, err := r.count(ctx, namespaces, hard)
	if err != nil {
		return ctrl.Result{}, err
	}
	// A charge landing while counting makes the write conflict. The counts
	// stay valid against the fresher Tenant: its newer reservations are for
	// objects the listing did not see, and are kept. So re-read the Tenant
	// only, not every namespace, and a busy tenant is still recounted.
	for attempt := 0; ; attempt++ {
		usage, reservations := tq.Recount(hard, counted, present, t.Status.Reservations, r.now())
		if equality.Semantic.DeepEqual(usage, t.Status.Usage) && len(reservations) == len(t.Status.Reservations) {
			break
		}
		t.Status.Usage, t.Status.Reservations = usage, reservations
		err := r.write(ctx, t)
		if err == nil {
			break
		}
		if !apierrors.IsConflict(err) || attempt == 20 {
			return ctrl.Result{}, err
		}
		if err := r.APIReader.Get(ctx, req.NamespacedName, t); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	return ctrl.Result{RequeueAfter: r.Interval}, nil
}

// count sums what the namespaces hold of the limited resources, and notes
// every object it saw.
func (r *Recounter) count(ctx context.Context, namespaces []string, hard tq.Limits) (corev1.ResourceList, map[string]bool, error) {
	counted, present := corev1.ResourceList{}, map[string]bool{}
	claims := false
	for name := range hard {
		if name == corev1.ResourcePersistentVolumeClaims || name == corev1.ResourceRequestsStorage {
			claims = true
		}
	}
	for _, ns := range namespaces {
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

// write replaces the Tenant's status with t's, failing on any concurrent
// change: the webhook's charges use the same compare-and-swap.
func (r *Recounter) write(ctx context.Context, t *tenancyv1alpha1.Tenant) error {
	return r.Client.Status().Update(ctx, t)
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
	r := &Recounter{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Interval: interval}
	return ctrl.NewControllerManagedBy(mgr).
		Named("tenant-quota-recount").
		For(&tenancyv1alpha1.Tenant{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}
