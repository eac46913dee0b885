package defaults

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	"github.com/bulkhead-dev/bulkhead/internal/testutil/defaultcases"
)

// TestPodCases runs the table of pod defaults shared with the mutating
// policy (see package defaultcases) through Pod, with the parameters the
// controller renders for the table's tenant.
func TestPodCases(t *testing.T) {
	s := render.DefaultSettings()
	rules := render.TenantPolicySpec(defaultcases.Tenant("df", "df-owner", "df-dev"), []string{"df-app"}, s, render.PolicyInputs{}).Pods
	for _, c := range defaultcases.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			p := testutil.Pod("df-app", "table", defaultcases.Image, c.Edit)
			Pod(p, rules)
			c.Check(t, p, s.SandboxRuntimeClass)
		})
	}
}

// TestPod covers what the shared table cannot, for want of a cluster with
// the classes it names: priority defaults and values chosen by the user.
func TestPod(t *testing.T) {
	pool := corev1.Toleration{Key: "pool", Value: "a", Effect: corev1.TaintEffectNoSchedule}
	hard := tenancyv1alpha1.PodRules{
		NodeSelector: map[string]string{"pool": "a"}, Tolerations: []corev1.Toleration{pool},
		RuntimeClassDefault: "gvisor", RequireUserNamespace: true, PullPolicy: "Always",
		PriorityClassDefault: "batch", PriorityDefault: 100,
	}
	base := func(edit func(*corev1.PodSpec)) corev1.Pod {
		p := corev1.Pod{Spec: corev1.PodSpec{
			Containers:         []corev1.Container{{Name: "app", ImagePullPolicy: corev1.PullIfNotPresent}},
			InitContainers:     []corev1.Container{{Name: "init", ImagePullPolicy: corev1.PullNever}},
			EnableServiceLinks: ptr.To(true),
		}}
		if edit != nil {
			edit(&p.Spec)
		}
		return p
	}
	// hardDefaults are what the hard rules fill into a bare pod, priority aside.
	hardDefaults := func(s *corev1.PodSpec) {
		s.NodeSelector = map[string]string{"pool": "a"}
		s.Tolerations = []corev1.Toleration{pool}
		s.RuntimeClassName, s.HostUsers = ptr.To("gvisor"), ptr.To(false)
		s.EnableServiceLinks, s.AutomountServiceAccountToken = ptr.To(false), ptr.To(false)
		s.Containers[0].ImagePullPolicy, s.InitContainers[0].ImagePullPolicy = corev1.PullAlways, corev1.PullAlways
	}
	for _, tc := range []struct {
		name  string
		rules tenancyv1alpha1.PodRules
		in    corev1.Pod
		want  corev1.Pod
	}{
		{"a bare pod gets every default", hard, base(nil), base(func(s *corev1.PodSpec) {
			hardDefaults(s)
			s.PriorityClassName, s.Priority = "batch", ptr.To[int32](100)
			s.PreemptionPolicy = ptr.To(corev1.PreemptLowerPriority)
		})},
		{"what the user chose is kept, for validation to judge", hard, base(func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"pool": "b"}
			s.Tolerations = []corev1.Toleration{pool}
			s.RuntimeClassName, s.HostUsers = ptr.To("runc"), ptr.To(true)
			s.AutomountServiceAccountToken = ptr.To(true)
			s.PriorityClassName = "urgent"
		}), base(func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"pool": "b"}
			s.Tolerations = []corev1.Toleration{pool}
			s.RuntimeClassName, s.HostUsers = ptr.To("runc"), ptr.To(true)
			s.EnableServiceLinks, s.AutomountServiceAccountToken = ptr.To(false), ptr.To(true)
			s.Containers[0].ImagePullPolicy, s.InitContainers[0].ImagePullPolicy = corev1.PullAlways, corev1.PullAlways
			s.PriorityClassName = "urgent"
		})},
		{"a pod asking for a host namespace is left to Pod Security", hard, base(func(s *corev1.PodSpec) { s.HostNetwork = true }), base(func(s *corev1.PodSpec) {
			s.HostNetwork = true
			s.NodeSelector = map[string]string{"pool": "a"}
			s.Tolerations = []corev1.Toleration{pool}
			s.RuntimeClassName = ptr.To("gvisor")
			s.EnableServiceLinks, s.AutomountServiceAccountToken = ptr.To(false), ptr.To(false)
			s.Containers[0].ImagePullPolicy, s.InitContainers[0].ImagePullPolicy = corev1.PullAlways, corev1.PullAlways
			s.PriorityClassName, s.Priority = "batch", ptr.To[int32](100)
			s.PreemptionPolicy = ptr.To(corev1.PreemptLowerPriority)
		})},
		{"the cluster's global default class counts as unset", func() tenancyv1alpha1.PodRules {
			r := hard
			r.PriorityClassGlobalDefault, r.PreemptionDefault = "cluster-default", "Never"
			return r
		}(), base(func(s *corev1.PodSpec) {
			s.PriorityClassName, s.Priority, s.PreemptionPolicy = "cluster-default", ptr.To[int32](7), ptr.To(corev1.PreemptLowerPriority)
		}), base(func(s *corev1.PodSpec) {
			hardDefaults(s)
			s.PriorityClassName, s.Priority, s.PreemptionPolicy = "batch", ptr.To[int32](100), ptr.To(corev1.PreemptionPolicy("Never"))
		})},
		{"image volumes get the pull policy", hard, base(func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "x", PullPolicy: corev1.PullNever}}}}
			s.PriorityClassName = "urgent"
		}), base(func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "x", PullPolicy: corev1.PullAlways}}}}
			hardDefaults(s)
			s.PriorityClassName = "urgent"
		})},
		{"a Soft tenant touches little", tenancyv1alpha1.PodRules{AutomountServiceAccountToken: true}, base(nil), base(func(s *corev1.PodSpec) {
			s.EnableServiceLinks, s.AutomountServiceAccountToken = ptr.To(false), ptr.To(true)
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.DeepCopy()
			Pod(got, tc.rules)
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Fatalf("Pod (-want +got):\n%s", diff)
			}
		})
	}
}
