package admission

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/ssa"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings;mutatingadmissionpolicies;mutatingadmissionpolicybindings,verbs=get;list;watch;create;update;patch

// Installer keeps the shared admission policies and their bindings as
// render.Policies compiles them: at start, then every Interval, so that a
// deleted or edited policy comes back. It skips the mutating policies when
// the API server does not serve them.
type Installer struct {
	Client   client.Client
	Settings render.Settings
	// Interval between repairs; a minute when zero.
	Interval time.Duration
}

// Start implements manager.Runnable.
func (i *Installer) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("policy-installer")
	interval := i.Interval
	if interval == 0 {
		interval = time.Minute
	}
	for {
		if err := i.Ensure(ctx); err != nil {
			log.Error(err, "Installing admission policies")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// Ensure applies every policy and binding that differs from its rendering.
func (i *Installer) Ensure(ctx context.Context) error {
	objs := render.ValidatingPolicies(i.Settings)
	served, err := bwebhook.MutatingPoliciesServed(i.Client.RESTMapper())
	if err != nil {
		return fmt.Errorf("discovering MutatingAdmissionPolicy: %w", err)
	}
	if served {
		objs = append(objs, render.MutatingPolicies(i.Settings)...)
	}
	var errs []error
	for _, obj := range objs {
		if _, _, err := ssa.Apply(ctx, i.Client, obj); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
