package concern

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
type PendingError struct{ Message string }

func (e *PendingError) Error() string { return e.Message }
