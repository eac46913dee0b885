// Package posture keeps the ClusterPosture named cluster current: the
// leader runs the posture checks (package internal/posture) at start and
// then periodically, as the manager itself, and writes their answers and a
// Safe condition to its status. The one check that needs to act as a node
// (NodeRestriction) is left to kubectl bulkhead posture: the manager is
// not given the right to impersonate nodes.
package posture

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/posture"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=clusterpostures,verbs=get;create
// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=clusterpostures/status,verbs=get;update
// +kubebuilder:rbac:urls=/metrics,verbs=get
// +kubebuilder:rbac:groups="",resources=secrets,verbs=create;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=create
// +kubebuilder:rbac:groups="",resources=nodes,verbs=list
// +kubebuilder:rbac:groups=node.k8s.io,resources=runtimeclasses,verbs=get

// ConditionSafe is the ClusterPosture's condition: True when no check
// fails or errs.
const ConditionSafe = "Safe"

// Keeper runs the checks every Interval and writes the answers.
type Keeper struct {
	Config   *rest.Config
	Client   client.Client
	Settings render.Settings
	Interval time.Duration
}

// soon is when checks are run again after an answer that may change
// within moments: an error, or Bulkhead's own webhook configurations not
// written yet (at start, before the serving certificate is issued).
const soon = 20 * time.Second

// Start implements manager.Runnable; it runs on the leader only.
func (k *Keeper) Start(ctx context.Context) error {
	for {
		settled, err := k.Check(ctx)
		if err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Checking the cluster's posture")
		}
		wait := k.Interval
		if !settled || err != nil {
			wait = soon
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Check runs the checks once and writes the ClusterPosture. settled is
// false when an answer may change within moments.
func (k *Keeper) Check(ctx context.Context) (settled bool, err error) {
	p := &posture.Prober{
		Config: k.Config, Client: k.Client, Namespace: k.Settings.ManagerNamespace,
		SandboxRuntimeClass: k.Settings.SandboxRuntimeClass, SystemNamespace: "kube-system", NoImpersonation: true,
	}
	results := p.Run(ctx)
	settled = true
	for _, r := range results {
		if r.Status == posture.Error || (r.ID == "webhooks-spare-system" && r.Status == posture.NA) {
			settled = false
		}
	}
	cp := &tenancyv1alpha1.ClusterPosture{}
	err = k.Client.Get(ctx, client.ObjectKey{Name: tenancyv1alpha1.ClusterPostureName}, cp)
	if apierrors.IsNotFound(err) {
		cp = &tenancyv1alpha1.ClusterPosture{ObjectMeta: metav1.ObjectMeta{
			Name: tenancyv1alpha1.ClusterPostureName, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue},
		}}
		err = k.Client.Create(ctx, cp)
	}
	if err != nil {
		return false, fmt.Errorf("reading the ClusterPosture: %w", err)
	}
	cp.Status = Status(results, cp.Status.Conditions, cp.Generation, metav1.Now())
	if err := k.Client.Status().Update(ctx, cp); err != nil {
		return false, fmt.Errorf("writing the ClusterPosture: %w", err)
	}
	return settled, nil
}

// Status is the ClusterPosture status for results, checked at now.
func Status(results []posture.Result, conds []metav1.Condition, generation int64, now metav1.Time) tenancyv1alpha1.ClusterPostureStatus {
	st := tenancyv1alpha1.ClusterPostureStatus{Conditions: conds, LastCheckTime: now}
	var failing []string
	for _, r := range results {
		st.Checks = append(st.Checks, tenancyv1alpha1.PostureCheck{
			ID: r.ID, Check: r.Check, Status: tenancyv1alpha1.PostureCheckStatus(r.Status),
			Probe: clip(r.Probe, 512), Evidence: clip(r.Evidence, 1024), Fix: clip(r.Fix, 1024),
		})
		if r.Status == posture.Fail || r.Status == posture.Error {
			failing = append(failing, r.ID+" ("+string(r.Status)+")")
		}
	}
	cond := metav1.Condition{Type: ConditionSafe, Status: metav1.ConditionTrue, Reason: "ChecksPass", ObservedGeneration: generation,
		Message: "No posture check fails; kubectl get clusterposture cluster -o yaml lists each, with WARNs to consider"}
	if len(failing) > 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, "ChecksFail"
		cond.Message = "Failing: " + strings.Join(failing, ", ") + ". Each check's fix says what to do (kubectl bulkhead posture)"
	}
	meta.SetStatusCondition(&st.Conditions, cond)
	return st
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}
