package namespaces

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/controller/concern"
	"github.com/bulkhead-dev/bulkhead/internal/controller/rbac"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/ssa"
)

// RecheckRetained is how often a retained namespace is checked again with
// no event: RoleBindings made by tenants are not watched (the cache holds
// only Bulkhead's), and one whose creation was already under way when the
// namespace was locked could land after the sweep.
const RecheckRetained = 5 * time.Minute

// RetainedReconciler keeps retained namespaces locked, and unlocks them
// when a cluster admin adopts or releases one. Its requests are namespaces.
//
//	retained label, no tenant label   -> lock (see lock)
//	retained label and tenant label   -> adopted: once the new tenant's
//	                                     NetworkPolicies are in place, delete
//	                                     the deny-all and the retained label
//	no retained label                 -> released (or adopted and done):
//	                                     delete what the lock left there
//
// An adopted namespace is under the new tenant's rules from the moment it
// carries the tenant label (its admission rules are closed until its
// TenantPolicy exists); the lock stays until its network rules exist too.
type RetainedReconciler struct {
	Client   client.Client
	Live     client.Reader
	Settings render.Settings
}

// Reconcile brings one namespace's lock to what its labels say.
func (r *RetainedReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, req.NamespacedName, ns); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ns.DeletionTimestamp.IsZero() || r.Settings.IsSystemNamespace(ns.Name) {
		return ctrl.Result{}, nil
	}
	former, tenant := ns.Labels[tenancyv1alpha1.RetainedLabel], ns.Labels[tenancyv1alpha1.TenantLabel]
	if former == "" {
		return ctrl.Result{}, r.unlock(ctx, ns)
	}
	if tenant != "" {
		t := &tenancyv1alpha1.Tenant{}
		err := r.Client.Get(ctx, client.ObjectKey{Name: tenant}, t)
		switch {
		case err == nil && t.DeletionTimestamp.IsZero():
			return ctrl.Result{}, r.adopt(ctx, ns, t)
		case err != nil && !apierrors.IsNotFound(err):
			return ctrl.Result{}, err
		}
		// The label names no live tenant: nothing takes over, the lock
		// holds. The Tenant's creation brings the namespace back.
	}
	var patch map[string]any
	if want := render.RetainedNamespaceLabels(former, r.Settings); !hasAll(ns.Labels, want) {
		patch = map[string]any{"metadata": map[string]any{"labels": want}}
	}
	if err := lock(ctx, r.Client, r.Live, r.Settings, ns, former, patch); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: RecheckRetained}, nil
}

// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=list;delete

// lock holds namespace ns, retained from tenant, locked. First patch (none
// when nil): in one write, the retained label and restricted Pod Security
// replace the tenant label, which swaps the tenant's admission rules for the
// retained policy, and takes the namespace out of every tenant selector.
// Then the deny-all NetworkPolicy (until then the tenant's own still hold,
// for the network concern removes them only after the namespaces
// controller has finalized), and every other NetworkPolicy goes, since any
// would add to what the deny-all allows. Last, once no one but an admin can
// make a RoleBinding there, every RoleBinding that names anyone but the
// platform is deleted.
//
// The label comes first so that this reconciler, brought back by the
// NetworkPolicy's creation, never mistakes the namespace for a released one
// and removes the policy it has just written.
func lock(ctx context.Context, c client.Client, live client.Reader, s render.Settings, ns *corev1.Namespace, tenant string, patch map[string]any) error {
	if patch != nil {
		body, err := json.Marshal(patch)
		if err != nil {
			return err
		}
		if err := c.Patch(ctx, ns, client.RawPatch(types.MergePatchType, body)); err != nil {
			return fmt.Errorf("labelling retained namespace %s: %w", ns.Name, err)
		}
	}
	if _, _, err := ssa.Apply(ctx, c, render.RetainedNetworkPolicy(ns.Name, tenant)); err != nil {
		return fmt.Errorf("locking namespace %s: %w", ns.Name, err)
	}
	if err := removeOtherNetworkPolicies(ctx, live, c, ns.Name); err != nil {
		return fmt.Errorf("locking namespace %s: %w", ns.Name, err)
	}
	revoked, err := rbac.RevokeForeignBindings(ctx, live, c, ns.Name, render.NoIdentities(), s)
	if err != nil {
		return fmt.Errorf("locking namespace %s: %w", ns.Name, err)
	}
	if len(revoked) > 0 {
		ctrl.LoggerFrom(ctx).Info("Revoked RoleBindings of a retained namespace", "namespace", ns.Name, "tenant", tenant, "roleBindings", len(revoked))
	}
	return revokeTokens(ctx, c, live, ns)
}

// revokeTokens deletes, once, every ServiceAccount of a retained namespace.
// Tokens the tenant's people minted for them (TokenRequests, pods' bound
// tokens, token Secrets) name the ServiceAccount's UID and die with it; the
// ServiceAccount controller makes a new "default" with a new UID. Without
// this, a former owner's token would act again the moment an admin adopts
// the namespace into another tenant and grants its ServiceAccounts access.
// An annotation on the namespace records that it is done, so that the new
// "default" is not deleted over and over.
func revokeTokens(ctx context.Context, c client.Client, live client.Reader, ns *corev1.Namespace) error {
	if ns.Annotations[tenancyv1alpha1.TokensRevokedAnnotation] != "" {
		return nil
	}
	n, err := deleteServiceAccounts(ctx, c, live, ns.Name)
	if err != nil {
		return err
	}
	patch := []byte(`{"metadata":{"annotations":{"` + tenancyv1alpha1.TokensRevokedAnnotation + `":"true"}}}`)
	if err := c.Patch(ctx, ns, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("marking the tokens of retained namespace %s revoked: %w", ns.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("Revoked the ServiceAccounts of a retained namespace", "namespace", ns.Name, "serviceAccounts", n)
	return nil
}

// deleteServiceAccounts deletes every ServiceAccount of namespace, read
// live (they are not cached), and says how many there were.
func deleteServiceAccounts(ctx context.Context, c client.Writer, live client.Reader, namespace string) (int, error) {
	list := &corev1.ServiceAccountList{}
	if err := live.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return 0, fmt.Errorf("listing ServiceAccounts of %s: %w", namespace, err)
	}
	for i := range list.Items {
		if err := c.Delete(ctx, &list.Items[i]); client.IgnoreNotFound(err) != nil {
			return 0, fmt.Errorf("deleting ServiceAccount %s/%s: %w", namespace, list.Items[i].Name, err)
		}
	}
	return len(list.Items), nil
}

// removeOtherNetworkPolicies deletes every NetworkPolicy of namespace but
// the lock's, read live (the cache holds only Bulkhead's). NetworkPolicies
// only ever add to what is allowed: one the tenant left behind that allows
// ingress or egress would open the deny-all, whatever it says.
func removeOtherNetworkPolicies(ctx context.Context, live client.Reader, c client.Writer, namespace string) error {
	list := &networkingv1.NetworkPolicyList{}
	if err := live.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return fmt.Errorf("listing NetworkPolicies: %w", err)
	}
	for i := range list.Items {
		np := &list.Items[i]
		if np.Name == render.RetainedPolicy && render.IsRetainedObject(np.Labels) {
			continue
		}
		if err := c.Delete(ctx, np); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting NetworkPolicy %s: %w", np.Name, err)
		}
		ctrl.LoggerFrom(ctx).Info("Deleted NetworkPolicy of a retained namespace", "namespace", namespace, "networkPolicy", np.Name)
	}
	return nil
}

// adopt unlocks a retained namespace that an admin gave to tenant t, once
// t's NetworkPolicies are in the namespace (the network concern renders them
// as soon as the namespace carries the tenant label; their creation brings
// this reconciler back).
func (r *RetainedReconciler) adopt(ctx context.Context, ns *corev1.Namespace, t *tenancyv1alpha1.Tenant) error {
	for _, obj := range render.Network(render.NewScope(t, []string{ns.Name}, r.Settings), nil) {
		err := r.Client.Get(ctx, client.ObjectKeyFromObject(obj), &networkingv1.NetworkPolicy{})
		if apierrors.IsNotFound(err) {
			ctrl.LoggerFrom(ctx).V(1).Info("Adopted namespace waits for the tenant's NetworkPolicies", "namespace", ns.Name, "tenant", t.Name, "missing", obj.GetName())
			return nil
		}
		if err != nil {
			return err
		}
	}
	// The ServiceAccounts made while the namespace was retained (the
	// controller's new "default") carry no tenant's defaults: the adopting
	// tenant starts from fresh ones, made under its own rules.
	if _, err := deleteServiceAccounts(ctx, r.Client, r.Live, ns.Name); err != nil {
		return err
	}
	if err := r.unlock(ctx, ns); err != nil {
		return err
	}
	patch := []byte(`{"metadata":{"labels":{"` + tenancyv1alpha1.RetainedLabel + `":null},"annotations":{"` + tenancyv1alpha1.TokensRevokedAnnotation + `":null}}}`)
	if err := r.Client.Patch(ctx, ns, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("unlocking adopted namespace %s: %w", ns.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("Retained namespace adopted", "namespace", ns.Name, "tenant", t.Name)
	return nil
}

// unlock deletes what the lock put in ns.
func (r *RetainedReconciler) unlock(ctx context.Context, ns *corev1.Namespace) error {
	list := &networkingv1.NetworkPolicyList{}
	if err := r.Client.List(ctx, list, client.InNamespace(ns.Name), client.HasLabels{tenancyv1alpha1.RetainedLabel}); err != nil {
		return fmt.Errorf("listing NetworkPolicies of %s: %w", ns.Name, err)
	}
	for i := range list.Items {
		np := &list.Items[i]
		if !render.IsRetainedObject(np.Labels) {
			continue
		}
		if err := r.Client.Delete(ctx, np); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting NetworkPolicy %s/%s: %w", ns.Name, np.Name, err)
		}
		ctrl.LoggerFrom(ctx).Info("Unlocked namespace", "namespace", ns.Name, "networkPolicy", np.Name)
	}
	// Should the namespace be retained again one day, its tokens are
	// revoked again.
	if ns.Annotations[tenancyv1alpha1.TokensRevokedAnnotation] != "" {
		patch := []byte(`{"metadata":{"annotations":{"` + tenancyv1alpha1.TokensRevokedAnnotation + `":null}}}`)
		if err := r.Client.Patch(ctx, ns, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("unlocking namespace %s: %w", ns.Name, err)
		}
	}
	return nil
}

// retainedOrWas passes namespaces that carry the retained label, or carried
// it before this update (a release, or the end of an adoption).
func retainedOrWas() predicate.Predicate {
	has := func(o client.Object) bool { return o.GetLabels()[tenancyv1alpha1.RetainedLabel] != "" }
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return has(e.Object) },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(e event.GenericEvent) bool { return has(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return has(e.ObjectNew) || has(e.ObjectOld) },
	}
}

// created passes creations only.
func created() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
	}
}

// SetupRetained registers the retained-namespaces controller with mgr.
func SetupRetained(mgr ctrl.Manager, s render.Settings) error {
	r := &RetainedReconciler{Client: mgr.GetClient(), Live: mgr.GetAPIReader(), Settings: s}
	c := mgr.GetClient()
	// The lock's NetworkPolicy, and an adopting tenant's, bring their
	// namespace back; other NetworkPolicies concern only namespaces that
	// are retained.
	policyToNamespace := func(ctx context.Context, obj client.Object) []ctrl.Request {
		req := ctrl.Request{NamespacedName: types.NamespacedName{Name: obj.GetNamespace()}}
		if render.IsRetainedObject(obj.GetLabels()) {
			return []ctrl.Request{req}
		}
		ns := &corev1.Namespace{}
		if err := c.Get(ctx, req.NamespacedName, ns); err != nil || ns.Labels[tenancyv1alpha1.RetainedLabel] == "" {
			return nil
		}
		return []ctrl.Request{req}
	}
	// A Tenant created after an admin labelled a retained namespace for it.
	tenantToNamespaces := func(ctx context.Context, obj client.Object) []ctrl.Request {
		list := &corev1.NamespaceList{}
		if err := c.List(ctx, list, client.MatchingFields{concern.NamespaceTenantIndex: obj.GetName()}); err != nil {
			return nil
		}
		var out []ctrl.Request
		for _, ns := range list.Items {
			if ns.Labels[tenancyv1alpha1.RetainedLabel] != "" {
				out = append(out, ctrl.Request{NamespacedName: types.NamespacedName{Name: ns.Name}})
			}
		}
		return out
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("retained-namespaces").
		For(&corev1.Namespace{}, builder.WithPredicates(retainedOrWas())).
		Watches(&networkingv1.NetworkPolicy{}, handler.EnqueueRequestsFromMapFunc(policyToNamespace)).
		Watches(&tenancyv1alpha1.Tenant{}, handler.EnqueueRequestsFromMapFunc(tenantToNamespaces), builder.WithPredicates(created())).
		Complete(r)
}
