package testutil

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/bulkhead-dev/bulkhead/internal/audit"
)

// Pod returns a pod in namespace that the restricted Pod Security Standard
// admits, running image, changed by each of edit in turn.
func Pod(namespace, name, image string, edit ...func(*corev1.Pod)) *corev1.Pod {
	return audit.CompliantPod(namespace, name, image, edit...)
}

// Quantities builds a ResourceList from name, quantity pairs:
// Quantities("cpu", "100m", "memory", "64Mi").
func Quantities(pairs ...string) corev1.ResourceList {
	if len(pairs)%2 != 0 {
		panic("testutil.Quantities takes name, quantity pairs")
	}
	out := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		out[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

// Resources sets the requests and limits of the pod's first container.
func Resources(requests, limits corev1.ResourceList) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: requests, Limits: limits}
	}
}

// Sidecar appends a sidecar: an init container with restartPolicy Always,
// which keeps running beside the app containers. It runs the first
// container's image under the same security context.
func Sidecar(name string, requests, limits corev1.ResourceList) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		c := initContainer(p, name, requests, limits)
		c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	}
}

// InitContainer appends a regular init container, which runs to completion
// before the app containers start. It runs the first container's image under
// the same security context.
func InitContainer(name string, requests, limits corev1.ResourceList) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.InitContainers = append(p.Spec.InitContainers, initContainer(p, name, requests, limits))
	}
}

func initContainer(p *corev1.Pod, name string, requests, limits corev1.ResourceList) corev1.Container {
	app := p.Spec.Containers[0]
	return corev1.Container{
		Name: name, Image: app.Image, SecurityContext: app.SecurityContext.DeepCopy(),
		Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits},
	}
}

// PodResources sets pod-level resources (spec.resources), which bound the
// containers together.
func PodResources(requests, limits corev1.ResourceList) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Resources = &corev1.ResourceRequirements{Requests: requests, Limits: limits}
	}
}

// RuntimeClassName sets spec.runtimeClassName; the API server then sets the
// class's overhead on the pod.
func RuntimeClassName(name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.RuntimeClassName = ptr.To(name) }
}

// Overhead sets spec.overhead directly, as the API server does from the
// pod's RuntimeClass (for tests without an API server).
func Overhead(overhead corev1.ResourceList) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Overhead = overhead }
}

// SchedulingGate holds the pod back from the scheduler until the gate is
// removed, so that it stays on no node.
func SchedulingGate(name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: name})
	}
}
