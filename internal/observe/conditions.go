package observe

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// ConditionEvents tells every change of a Tenant's conditions as an Event
// on the Tenant: Normal when the condition turns True, Warning otherwise,
// with the reason and message. It runs on the leader only (a manager
// Runnable), so that two replicas do not tell each change twice; it reads
// the changes from the cache's watch, comparing each update's old and new
// conditions.
type ConditionEvents struct {
	Cache    ctrlcache.Cache
	Recorder events.EventRecorder
}

// Start implements manager.Runnable.
func (c *ConditionEvents) Start(ctx context.Context) error {
	informer, err := c.Cache.GetInformer(ctx, &tenancyv1alpha1.Tenant{})
	if err != nil {
		return fmt.Errorf("watching Tenants for their conditions: %w", err)
	}
	reg, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj any) {
			old, ok1 := oldObj.(*tenancyv1alpha1.Tenant)
			t, ok2 := newObj.(*tenancyv1alpha1.Tenant)
			if ok1 && ok2 {
				c.tell(old, t)
			}
		},
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return informer.RemoveEventHandler(reg)
}

// Changes lists the conditions of t that old did not hold with the same
// status and reason.
func Changes(old, t *tenancyv1alpha1.Tenant) []string {
	var out []string
	for _, cond := range t.Status.Conditions {
		was := meta.FindStatusCondition(old.Status.Conditions, cond.Type)
		if was == nil || was.Status != cond.Status || was.Reason != cond.Reason {
			out = append(out, cond.Type)
		}
	}
	return out
}

func (c *ConditionEvents) tell(old, t *tenancyv1alpha1.Tenant) {
	for _, typ := range Changes(old, t) {
		cond := meta.FindStatusCondition(t.Status.Conditions, typ)
		kind := corev1.EventTypeWarning
		if cond.Status == "True" {
			kind = corev1.EventTypeNormal
		}
		msg := cond.Message
		if len(msg) > 600 {
			msg = msg[:600] + "..."
		}
		c.Recorder.Eventf(t, nil, kind, cond.Reason, "Condition", "%s is %s (%s): %s", cond.Type, cond.Status, cond.Reason, msg)
	}
}
