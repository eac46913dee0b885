// Package defaultcases is the one table of pod defaults that both paths
// which fill them in are tested against: the mutating admission policy
// bulkhead-pods (offline with the API server's compilers, and on a real API
// server) and the webhook that stands in for it where
// MutatingAdmissionPolicy is not served (internal/webhook/defaults, as a
// pure function and on a real API server). One table, so that the two
// cannot drift apart.
//
// Every case is a pod a member of Tenant writes, and a check of what the
// defaults made of it. The checks read only what the defaults set, so they
// hold whether or not an API server has defaulted the rest of the pod.
package defaultcases

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// Image is the image of every case's pod.
const Image = "registry.example.com/app:1"

// PoolToleration is the toleration of the tenant's node pool.
var PoolToleration = corev1.Toleration{Key: "pool", Operator: corev1.TolerationOpEqual, Value: "wl", Effect: corev1.TaintEffectNoSchedule}

// Tenant is the tenant the cases are written for: Hard, pinned to the node
// pool wl, with owner and member.
func Tenant(name, owner, member string) *tenancyv1alpha1.Tenant {
	return testutil.Tenant(name).Owner(owner).Member(member).Hard().
		NodePool(map[string]string{"pool": "wl"}, PoolToleration).Obj()
}

// Case is one pod and what the defaults must make of it.
type Case struct {
	// Name says what is special about the pod.
	Name string
	// Edit turns testutil.Pod(namespace, name, Image) into the pod.
	Edit func(*corev1.Pod)
	// Check fails t unless p carries the defaults. runtimeClass is the
	// settings' sandbox class, which a Hard tenant defaults to.
	Check func(t testing.TB, p *corev1.Pod, runtimeClass string)
}

// Cases are the table.
func Cases() []Case {
	return []Case{
		{"nothing set", func(*corev1.Pod) {}, RequireHardDefaults},
		{"a nodeSelector of its own", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "a"} }, func(t testing.TB, p *corev1.Pod, _ string) {
			t.Helper()
			if p.Spec.NodeSelector["zone"] != "a" || p.Spec.NodeSelector["pool"] != "wl" {
				t.Errorf("nodeSelector = %v, want zone=a and pool=wl", p.Spec.NodeSelector)
			}
		}},
		{"the token asked for", func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptr.To(true) }, func(t testing.TB, p *corev1.Pod, _ string) {
			t.Helper()
			if !ptr.Deref(p.Spec.AutomountServiceAccountToken, false) {
				t.Errorf("automountServiceAccountToken = %v, want the pod's true", p.Spec.AutomountServiceAccountToken)
			}
		}},
		{"an image volume", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				Image: &corev1.ImageVolumeSource{Reference: Image, PullPolicy: corev1.PullIfNotPresent}}}}
		}, func(t testing.TB, p *corev1.Pod, _ string) {
			t.Helper()
			if got := p.Spec.Volumes[0].Image.PullPolicy; got != corev1.PullAlways {
				t.Errorf("image volume pullPolicy = %s, want Always", got)
			}
		}},
		{"an image volume after another volume and a second container", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{
				{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "data", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: Image, PullPolicy: corev1.PullNever}}},
			}
			second := *p.Spec.Containers[0].DeepCopy()
			second.Name, second.ImagePullPolicy = "sidecar", corev1.PullNever
			p.Spec.Containers = append(p.Spec.Containers, second)
		}, func(t testing.TB, p *corev1.Pod, _ string) {
			t.Helper()
			if p.Spec.Volumes[0].EmptyDir == nil || p.Spec.Volumes[0].Image != nil {
				t.Errorf("the emptyDir volume was changed: %+v", p.Spec.Volumes[0])
			}
			if got := p.Spec.Volumes[1].Image.PullPolicy; got != corev1.PullAlways {
				t.Errorf("image volume pullPolicy = %s, want Always", got)
			}
			if got := p.Spec.Containers[1].ImagePullPolicy; got != corev1.PullAlways {
				t.Errorf("second container imagePullPolicy = %s, want Always", got)
			}
		}},
		{"an init container", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: Image, ImagePullPolicy: corev1.PullNever,
				SecurityContext: p.Spec.Containers[0].SecurityContext}}
		}, func(t testing.TB, p *corev1.Pod, _ string) {
			t.Helper()
			if got := p.Spec.InitContainers[0].ImagePullPolicy; got != corev1.PullAlways {
				t.Errorf("init container imagePullPolicy = %s, want Always", got)
			}
		}},
		{"a toleration of its own", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}
		}, func(t testing.TB, p *corev1.Pod, _ string) {
			t.Helper()
			own := corev1.Toleration{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
			if !hasToleration(p.Spec.Tolerations, own) || !hasToleration(p.Spec.Tolerations, PoolToleration) {
				t.Errorf("tolerations = %v, want the pod's and the pool's", p.Spec.Tolerations)
			}
		}},
	}
}

// RequireHardDefaults checks what Tenant's defaults fill into a pod that
// leaves everything unset.
func RequireHardDefaults(t testing.TB, p *corev1.Pod, runtimeClass string) {
	t.Helper()
	s := p.Spec
	if s.NodeSelector["pool"] != "wl" {
		t.Errorf("nodeSelector = %v, want pool=wl", s.NodeSelector)
	}
	if !hasToleration(s.Tolerations, PoolToleration) {
		t.Errorf("tolerations = %v, want the pool's", s.Tolerations)
	}
	if ptr.Deref(s.RuntimeClassName, "") != runtimeClass {
		t.Errorf("runtimeClassName = %v, want %s", ptr.Deref(s.RuntimeClassName, ""), runtimeClass)
	}
	if s.HostUsers == nil || *s.HostUsers {
		t.Errorf("hostUsers = %v, want false", s.HostUsers)
	}
	if s.EnableServiceLinks == nil || *s.EnableServiceLinks {
		t.Errorf("enableServiceLinks = %v, want false", s.EnableServiceLinks)
	}
	if s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken = %v, want false", s.AutomountServiceAccountToken)
	}
	for _, v := range s.Volumes {
		if v.Projected != nil {
			t.Errorf("a service account token is mounted (volume %s) though the tenant's default is false", v.Name)
		}
	}
	for _, c := range append(s.InitContainers, s.Containers...) {
		if c.ImagePullPolicy != corev1.PullAlways {
			t.Errorf("container %s imagePullPolicy = %s, want Always", c.Name, c.ImagePullPolicy)
		}
	}
}

// hasToleration compares as the policies do: an unset operator is Equal.
func hasToleration(list []corev1.Toleration, want corev1.Toleration) bool {
	op := func(o corev1.TolerationOperator) corev1.TolerationOperator {
		if o == "" {
			return corev1.TolerationOpEqual
		}
		return o
	}
	for _, t := range list {
		if t.Key == want.Key && op(t.Operator) == op(want.Operator) && t.Value == want.Value && t.Effect == want.Effect &&
			ptr.Deref(t.TolerationSeconds, -1) == ptr.Deref(want.TolerationSeconds, -1) {
			return true
		}
	}
	return false
}
