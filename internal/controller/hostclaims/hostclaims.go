// Package hostclaims keeps HostnameClaims bounded by the Ingresses and
// Gateway API objects that exist: the leader sweeps a claim whenever it
// changes and whenever an object serving one of its names comes, changes or
// goes, dropping the
// holds that no longer stand and deleting a claim left with none
// (claims.Hostnames.Sweep says how it stays safe beside the webhook).
package hostclaims

import (
	"context"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/claims"
	"github.com/bulkhead-dev/bulkhead/internal/webhook/ingress"
)

// Reconciler sweeps one HostnameClaim.
type Reconciler struct {
	Claims *claims.Hostnames
	// Live reports whether an Ingress of a tenant serves a name.
	Live claims.LiveFunc
}

// Reconcile sweeps the claim, and comes back when its youngest unserved
// hold stops being fresh.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	recheck, err := r.Claims.Sweep(ctx, req.Name, r.Live)
	if err != nil || recheck == 0 {
		return ctrl.Result{}, err
	}
	// A second past the end of the grace: the hold is then stale.
	return ctrl.Result{RequeueAfter: recheck + time.Second}, nil
}

// ClaimsOf maps an object of src to the claims of its names' groups.
func ClaimsOf(src ingress.Source) handler.MapFunc {
	return func(_ context.Context, obj client.Object) []ctrl.Request {
		groups, _ := claims.Groups(src.Hosts(obj))
		out := make([]ctrl.Request, 0, len(groups))
		for _, g := range groups {
			out = append(out, ctrl.Request{NamespacedName: client.ObjectKey{Name: claims.ClaimName(g)}})
		}
		return out
	}
}

// Setup registers the sweeper (leader only) with mgr, whose cache must have
// ingress.HostIndex for every source.
func Setup(mgr ctrl.Manager, sources []ingress.Source) error {
	r := &Reconciler{
		Claims: &claims.Hostnames{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()},
		Live:   ingress.Serves(mgr.GetClient(), sources),
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("hostnameclaims").
		For(&tenancyv1alpha1.HostnameClaim{})
	for _, src := range sources {
		b = b.Watches(src.New(), handler.EnqueueRequestsFromMapFunc(ClaimsOf(src)))
	}
	return b.Complete(r)
}
