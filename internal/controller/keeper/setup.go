package keeper

import (
	"context"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/discovery"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/tenantquota"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// Options configure the keeper.
type Options struct {
	Settings render.Settings
	// Endpoint is how the API server reaches the webhook.
	Endpoint bwebhook.Endpoint
	// Hosts are the names the serving certificate covers.
	Hosts []string
}

// SecretKey is where the serving certificate is kept.
func SecretKey(s render.Settings) client.ObjectKey {
	return client.ObjectKey{Namespace: s.ManagerNamespace, Name: SecretName}
}

// CacheByObject narrows the manager's cache to the kept objects: those
// labelled as Bulkhead's, and the one Secret (the manager may list and
// watch no other). The mutating policies are left out: they may not be
// served, and are few.
func CacheByObject(s render.Settings) map[client.Object]cache.ByObject {
	managed := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue})}
	return map[client.Object]cache.ByObject{
		&admissionregistrationv1.ValidatingAdmissionPolicy{}:        managed,
		&admissionregistrationv1.ValidatingAdmissionPolicyBinding{}: managed,
		&admissionregistrationv1.MutatingWebhookConfiguration{}:     managed,
		&admissionregistrationv1.ValidatingWebhookConfiguration{}:   managed,
		&rbacv1.ClusterRole{}:                       managed,
		&flowcontrolv1.FlowSchema{}:                 managed,
		&flowcontrolv1.PriorityLevelConfiguration{}: managed,
		&corev1.Secret{}: {
			Namespaces: map[string]cache.Config{s.ManagerNamespace: {}},
			Field:      fields.OneTermEqualSelector("metadata.name", SecretName),
		},
	}
}

// Setup registers the keeper (leader only) and CertFiles (every replica)
// with mgr. files is the CertFiles that WriteInitialFiles prepared.
func Setup(mgr ctrl.Manager, o Options, files *CertFiles) error {
	served, err := discovery.MutatingPoliciesServed(mgr.GetRESTMapper())
	if err != nil {
		return err
	}
	secret := SecretKey(o.Settings)
	k := &Keeper{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("bulkhead-keeper"),
		Settings: o.Settings,
		Endpoint: o.Endpoint,
		Secret:   secret,
		Hosts:    o.Hosts,
	}
	toCluster := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []ctrl.Request {
		return []ctrl.Request{clusterRequest}
	})
	// A tenant's own objects of these kinds (its FlowSchema, say) are its
	// concern's, not the keeper's: they must not each bring a round.
	managed := builder.WithPredicates(predicate.NewPredicateFuncs(func(obj client.Object) bool {
		return obj.GetLabels()[tenancyv1alpha1.ManagedByLabel] == tenancyv1alpha1.ManagedByValue && obj.GetLabels()[tenancyv1alpha1.TenantLabel] == ""
	}))
	isSecret := builder.WithPredicates(predicate.NewPredicateFuncs(func(obj client.Object) bool {
		return obj.GetNamespace() == secret.Namespace && obj.GetName() == secret.Name
	}))
	kept := []client.Object{
		&admissionregistrationv1.ValidatingAdmissionPolicy{}, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{},
		&admissionregistrationv1.MutatingWebhookConfiguration{}, &admissionregistrationv1.ValidatingWebhookConfiguration{},
		&rbacv1.ClusterRole{}, &flowcontrolv1.PriorityLevelConfiguration{}, &flowcontrolv1.FlowSchema{},
	}
	if served {
		kept = append(kept, &admissionregistrationv1.MutatingAdmissionPolicy{}, &admissionregistrationv1.MutatingAdmissionPolicyBinding{})
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("cluster-objects").
		// One key: no concurrency to configure, and events that arrive
		// together collapse into one round.
		WithOptions(controller.Options{MaxConcurrentReconciles: 1}).
		// The first round runs at start, whatever exists: on a new cluster
		// no kept object is there to send an event.
		WatchesRawSource(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[ctrl.Request]) error {
			q.Add(clusterRequest)
			return nil
		})).
		Watches(&corev1.Secret{}, toCluster, isSecret).
		// A new Tenant needs the condition, and one whose spec changed its
		// observedGeneration: the last round's, not a round of its own.
		Watches(&tenancyv1alpha1.Tenant{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []ctrl.Request {
			return []ctrl.Request{{NamespacedName: types.NamespacedName{Namespace: tenantRequests, Name: obj.GetName()}}}
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A Tenant that starts or stops counting a kind changes the quota
		// webhook's rules: a round of its own.
		Watches(&tenancyv1alpha1.Tenant{}, toCluster, countsChanged)
	for _, obj := range kept {
		b = b.Watches(obj, toCluster, managed)
	}
	if err := b.Complete(k); err != nil {
		return err
	}

	files.Reader = mgr.GetCache()
	return ctrl.NewControllerManagedBy(mgr).
		Named("webhook-certificate-files").
		For(&corev1.Secret{}, isSecret).
		// Every replica serves the webhook, leader or not.
		WithOptions(controller.Options{NeedLeaderElection: ptr.To(false), MaxConcurrentReconciles: 1}).
		Complete(files)
}

// countsChanged passes the Tenants whose count/ limits name kinds their
// previous version did not, or the other way round.
var countsChanged = builder.WithPredicates(predicate.Funcs{
	CreateFunc: func(e event.CreateEvent) bool { return len(countedBy(e.Object)) > 0 },
	DeleteFunc: func(e event.DeleteEvent) bool { return len(countedBy(e.Object)) > 0 },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return !slices.Equal(countedBy(e.ObjectOld), countedBy(e.ObjectNew))
	},
	GenericFunc: func(event.GenericEvent) bool { return false },
})

func countedBy(obj client.Object) []schema.GroupResource {
	t, ok := obj.(*tenancyv1alpha1.Tenant)
	if !ok {
		return nil
	}
	return tenantquota.CountedResources(tenantquota.TenantLimits(t))
}
