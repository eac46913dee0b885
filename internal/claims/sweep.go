package claims

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=hostnameclaims,verbs=list;watch;delete

// Standing keeps the holds that still stand: those younger than HoldGrace
// and those an Ingress of their tenant serves. changed says a hold was
// dropped. recheck is when the youngest fresh hold that no Ingress serves
// stops being fresh, or 0 when none is: a sweep then finds it gone or
// served.
//
// The webhook drops only holds that conflict with the hostnames it admits,
// so without sweeps a tenant creating and deleting Ingresses for ever new
// names would grow a claim, one hold each, until the API server refused to
// store it, and every tenant with a name in that group could no longer
// take one.
func Standing(ctx context.Context, holds []tenancyv1alpha1.HostnameHold, now time.Time, live LiveFunc) (kept []tenancyv1alpha1.HostnameHold, changed bool, recheck time.Duration, err error) {
	for _, hold := range holds {
		ok, err := live(ctx, hold.Host, hold.Tenant)
		if err != nil {
			return nil, false, 0, err
		}
		age := now.Sub(hold.ClaimTime.Time)
		switch {
		case ok:
		case age < HoldGrace:
			if left := HoldGrace - age; recheck == 0 || left < recheck {
				recheck = left
			}
		default:
			changed = true
			continue
		}
		kept = append(kept, hold)
	}
	return kept, changed, recheck, nil
}

// Sweep drops the claim's holds that no longer stand (Standing), and
// deletes the claim when none is left, so that claims and their holds are
// bounded by the Ingresses that exist. It writes at the resourceVersion it
// read, and deletes with it as a precondition: a webhook that wrote a hold
// in between makes the write fail with a conflict, and the caller sweeps
// again. A webhook whose write meets a claim deleted in between reads
// again and creates it. recheck is as Standing's.
func (c *Hostnames) Sweep(ctx context.Context, name string, live LiveFunc) (recheck time.Duration, err error) {
	claim := &tenancyv1alpha1.HostnameClaim{}
	if err := c.Reader.Get(ctx, client.ObjectKey{Name: name}, claim); err != nil {
		return 0, client.IgnoreNotFound(err)
	}
	kept, changed, recheck, err := Standing(ctx, claim.Spec.Holds, time.Now(), live)
	if err != nil {
		return 0, err
	}
	switch {
	case len(kept) == 0:
		rv := claim.ResourceVersion
		err = c.Client.Delete(ctx, claim, client.Preconditions{ResourceVersion: &rv})
		if apierrors.IsNotFound(err) {
			err = nil
		}
	case changed:
		claim.Spec.Holds = kept
		err = c.Client.Update(ctx, claim)
	}
	if err != nil {
		return 0, fmt.Errorf("sweeping HostnameClaim %s: %w", name, err)
	}
	return recheck, nil
}
