package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/cli"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// usageTenant runs workloads whose simulated usage is far below what they
// request, so that kubectl bulkhead usage has something to say.
const usageTenant = "initech"

// startUsageWorkloads creates the tenant initech (Soft, owner dana) with a
// Deployment of two pods and a pod of its own, each using a fraction of
// what it requests (kwok's simulated usage, read by metrics-server). The
// manager samples them while the rest of the demo runs.
func startUsageWorkloads(ctx context.Context, out io.Writer, admin client.Client, as func(string) client.Client) error {
	fmt.Fprintf(out, "Creating tenant %s (Soft; owner dana) with a Deployment and a pod that use a fraction of what they request...\n", usageTenant)
	tn := testutil.Tenant(usageTenant).Soft().Owner("dana").Obj()
	if err := admin.Create(ctx, tn); err != nil {
		return fmt.Errorf("creating tenant %s: %w", usageTenant, err)
	}
	if err := waitReady(ctx, admin, usageTenant); err != nil {
		return err
	}
	dana := as("dana")
	if err := waitAllowed(ctx, dana, "create", "namespaces", ""); err != nil {
		return err
	}
	ns := usageTenant + "-web"
	if err := dana.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return fmt.Errorf("dana creating namespace %s: %w", ns, err)
	}
	if err := waitFor(ctx, admin, ns, "default", &corev1.ServiceAccount{}); err != nil {
		return err
	}
	if err := waitAllowed(ctx, dana, "create", "pods", ns); err != nil {
		return err
	}
	limits := testutil.Quantities("cpu", "1", "memory", "1Gi")
	uses := func(cpu, memory string) map[string]string {
		return map[string]string{devcluster.UsageCPUAnnotation: cpu, devcluster.UsageMemoryAnnotation: memory}
	}
	web := testutil.Pod(ns, "web", "registry.example/web:1",
		testutil.Resources(testutil.Quantities("cpu", "500m", "memory", "512Mi"), limits))
	labels := map[string]string{"app": "web"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: uses("120m", "150Mi")},
				Spec:       web.Spec,
			},
		},
	}
	if err := dana.Create(ctx, deploy); err != nil {
		return fmt.Errorf("creating Deployment %s/web: %w", ns, err)
	}
	batch := testutil.Pod(ns, "batch", "registry.example/batch:1",
		testutil.Resources(testutil.Quantities("cpu", "250m", "memory", "256Mi"), limits),
		func(p *corev1.Pod) { p.Annotations = uses("20m", "30Mi") })
	if err := dana.Create(ctx, batch); err != nil {
		return fmt.Errorf("creating pod %s/batch: %w", ns, err)
	}
	return nil
}

// showUsage waits until every workload of the usage tenant has a
// recommendation and prints kubectl bulkhead usage for it.
func showUsage(ctx context.Context, out io.Writer, admin client.Client) error {
	fmt.Fprintf(out, "\n$ kubectl bulkhead usage %s    # requests against usage measured through metrics.k8s.io\n", usageTenant)
	deadline := time.Now().Add(3 * time.Minute)
	var tu tenancyv1alpha1.TenantUsage
	for {
		err := admin.Get(ctx, client.ObjectKey{Name: usageTenant}, &tu)
		if err == nil {
			err = recommended(&tu)
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for recommendations for tenant %s: %w", usageTenant, err)
		}
		time.Sleep(time.Second)
	}
	return cli.PrintUsage(out, &tu, false, time.Now())
}

// recommended is nil once the Deployment's container and the pod's both
// have a recommendation.
func recommended(tu *tenancyv1alpha1.TenantUsage) error {
	want := map[string]bool{"Deployment/web": false, "Pod/batch": false}
	for _, c := range tu.Status.Containers {
		if _, ok := want[c.Workload]; ok && len(c.Recommendation) > 0 && (c.Workload != "Deployment/web" || c.Pods == 2) {
			want[c.Workload] = true
		}
	}
	for w, ok := range want {
		if !ok {
			return errors.New(w + " has no recommendation yet")
		}
	}
	return nil
}
