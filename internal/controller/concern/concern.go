package concern

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// Concern describes one per-concern controller: what it is called, the
// condition it owns, the kinds it renders, and the few functions that differ
// between concerns. Setup turns a description into a running controller;
// everything else (finalizer, apply, prune, condition, cleanup) is the
// Reconciler's, the same for every concern.
type Concern struct {
	// Name labels the concern's objects and names its controller, its
	// finalizer and the field manager of its condition.
	Name render.Concern
	// Condition is the condition type the concern owns on the Tenant.
	Condition string
	// Kinds are the kinds of object the concern renders: pruned when no
	// longer rendered, removed when the Tenant goes, and watched so that
	// drift brings the Tenant back. Each must be a typed object the
	// manager's scheme knows, so that its list is served from the cache.
	Kinds []client.Object
	// Render returns the desired objects for the scope. It may read other
	// objects (other Tenants, say) through r, and must not write. It returns
	// a *PendingError, with the objects that may be applied already, when
	// others wait for what another concern makes.
	Render func(ctx context.Context, r client.Reader, sc *render.Scope) ([]client.Object, error)
	// Disabled, when set, reports a reason when the Tenant turns the concern
	// off, so that the condition says so; "" when enabled.
	Disabled func(sc *render.Scope) string
	// Sweep, when set, removes objects the concern did not render: objects
	// tenants made themselves that the Tenant no longer allows. It runs on
	// every reconcile, after the rendered objects are applied and pruned.
	Sweep func(ctx context.Context, sc *render.Scope) error
	// Watch, when set, adds the concern's own watches to its controller.
	Watch func(b *builder.Builder) *builder.Builder
}

// PendingError is returned by Render, with the objects that can be applied
// already, when others must wait for something another concern makes. The
// condition then says what is awaited; it is not a failure.
type PendingError struct {
	Message string
	// Reason is the condition's reason; ReasonWaiting when empty.
	Reason string
	// Hold are namespaces whose rendered objects are neither applied nor
	// pruned yet: writing them would only be refused (their TenantPolicy
	// is missing), and the copies they hold must stay.
	Hold []string
}

func (e *PendingError) Error() string { return e.Message }

// HoldUntilPolicies returns objs, with a *PendingError holding the
// namespaces of the scope whose TenantPolicy does not exist yet (read
// through r, the cache). Bulkhead's shared policies refuse every write of
// the kinds they govern in a namespace without one, so applying there
// would only be refused and retried with backoff; the concern's watch on
// TenantPolicies brings the Tenant back when it appears.
func HoldUntilPolicies(ctx context.Context, r client.Reader, sc *render.Scope, objs []client.Object) ([]client.Object, error) {
	var missing []string
	for _, ns := range sc.Namespaces {
		err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenancyv1alpha1.TenantPolicyName}, &tenancyv1alpha1.TenantPolicy{})
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, ns)
		case err != nil:
			return nil, fmt.Errorf("reading the TenantPolicy of %s: %w", ns, err)
		}
	}
	if len(missing) == 0 {
		return objs, nil
	}
	return objs, &PendingError{
		Message: fmt.Sprintf("namespaces %s wait for their TenantPolicy, which Bulkhead's policies need before they admit this concern's objects (see AdmissionReady)", strings.Join(missing, ", ")),
		Hold:    missing,
	}
}

// WatchPolicies brings a Tenant back when a TenantPolicy of its namespaces
// changes: for concerns that HoldUntilPolicies.
func WatchPolicies(b *builder.Builder) *builder.Builder {
	return b.Watches(&tenancyv1alpha1.TenantPolicy{}, handler.EnqueueRequestsFromMapFunc(NamespaceToTenant))
}
