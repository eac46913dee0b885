package main

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// bulkheadSystem is Bulkhead's manager, as make build writes it, at its
// defaults: installed as testenv.Prepare installs it and run as
// testenv.StartManagerProcess runs it, exactly as bench/convergence does.
type bulkheadSystem struct {
	// binary is bulkhead-manager.
	binary string
	// extraArgs are appended to the manager's flags.
	extraArgs []string
	// expected is what it renders for a tenant, computed once.
	expected expectation
}

// newBulkheadSystem runs binary with extraArgs.
func newBulkheadSystem(binary string, extraArgs []string) (*bulkheadSystem, error) {
	expected, err := bulkheadExpected()
	if err != nil {
		return nil, err
	}
	return &bulkheadSystem{binary: binary, extraArgs: extraArgs, expected: expected}, nil
}

// Name is "bulkhead".
func (b *bulkheadSystem) Name() string { return "bulkhead" }

// Describe names the binary and its flags.
func (b *bulkheadSystem) Describe() string {
	args := "its default flags (--concurrent-reconciles=4, --kube-api-qps=100, --kube-api-burst=200)"
	if len(b.extraArgs) > 0 {
		args += " and " + strings.Join(b.extraArgs, " ")
	}
	return fmt.Sprintf("bin/bulkhead-manager with %s; Hard tenants", args)
}

// Start installs Bulkhead as testenv.Prepare does and runs the manager as
// its service account; testenv waits until its webhook answers.
func (b *bulkheadSystem) Start(ctx context.Context, cluster *devcluster.Cluster) (*running, error) {
	admin, err := testenv.Prepare(ctx, cluster, render.DefaultSettings())
	if err != nil {
		return nil, fmt.Errorf("installing Bulkhead: %w", err)
	}
	mgr, err := testenv.StartManagerProcess(cluster, testenv.ManagerConfig{}, testenv.ProcessOptions{Binary: b.binary, ExtraArgs: b.extraArgs})
	if err != nil {
		return nil, fmt.Errorf("starting bulkhead-manager: %w", err)
	}
	return &running{admin: admin, pid: mgr.Cmd.Process.Pid, log: mgr.Log, failed: mgr.Failed, stop: mgr.Stop,
		installed: "installed as testenv.Prepare does: CRDs, the manager's namespace, config/rbac, the sandbox RuntimeClass"}, nil
}

// hardTenant is Bulkhead's Hard tenant for t; capsuleSystem copies what
// Bulkhead renders for it.
func hardTenant(t benchTenant) *tenancyv1alpha1.Tenant {
	return testutil.Tenant(t.name).Hard().Owner(t.owner).Max(t.maxNamespaces).Obj()
}

// Tenant is a Hard tenant with t's one owner and namespace limit.
func (b *bulkheadSystem) Tenant(t benchTenant) (client.Object, error) {
	return hardTenant(t), nil
}

// OwnerGroups is empty: Bulkhead knows owners by name.
func (b *bulkheadSystem) OwnerGroups() []string { return nil }

// NamespaceLabel is Bulkhead's tenant label.
func (b *bulkheadSystem) NamespaceLabel() string { return tenancyv1alpha1.TenantLabel }

// OwnerMayCreate reports whether t's owner may create namespaces: once
// Bulkhead has bound them to its namespace-creator role; until then RBAC
// refuses them.
func (b *bulkheadSystem) OwnerMayCreate(ctx context.Context, admin client.Client, t benchTenant) (bool, error) {
	crb := &rbacv1.ClusterRoleBinding{}
	err := admin.Get(ctx, client.ObjectKey{Name: render.NamespaceCreatorBindingName(t.name)}, crb)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the namespace-creator binding of tenant %s: %w", t.name, err)
	}
	return true, nil
}

// Expected is what Bulkhead renders for a tenant.
func (b *bulkheadSystem) Expected() expectation { return b.expected }

// bulkheadExpected is what render.RBAC, render.Quota and render.Network
// give a Hard tenant with one owner: in each namespace the owners'
// RoleBinding, a ResourceQuota, a LimitRange and the ingress and egress
// NetworkPolicies; per tenant the ClusterRoleBinding that lets its owners
// create namespaces. The convergence benchmark counts the same.
func bulkheadExpected() (expectation, error) {
	sample := benchTenant{name: "sample", owner: "sample-owner", namespaces: []string{"sample-ns0"}, maxNamespaces: defaultMaxNamespaces}
	t := hardTenant(sample)
	sc := render.NewScope(t, sample.namespaces, render.DefaultSettings())
	objs := append(render.RBAC(t, sample.namespaces), render.Quota(sc)...)
	objs = append(objs, render.Network(sc, nil)...)
	e := expectation{label: tenancyv1alpha1.TenantLabel, perNamespace: map[schema.GroupVersionKind]int{}, perTenant: map[schema.GroupVersionKind]int{}}
	for _, o := range objs {
		gvk, err := apiutil.GVKForObject(o, setup.Scheme())
		if err != nil {
			return expectation{}, fmt.Errorf("kind of rendered %T: %w", o, err)
		}
		if o.GetNamespace() == "" {
			e.perTenant[gvk]++
		} else {
			e.perNamespace[gvk]++
		}
	}
	return e, nil
}
