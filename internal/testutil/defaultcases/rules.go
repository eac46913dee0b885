package defaultcases

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// RuleCase is a pod, the parameters of its namespace written out, and the
// exact pod the defaults must make of it. These cases need no cluster: they
// reach what Cases cannot (priority defaults, values the user chose), and
// run offline against both paths.
type RuleCase struct {
	Name  string
	Rules tenancyv1alpha1.PodRules
	In    corev1.Pod
	Want  corev1.Pod
}

// RuleCases are the table of exact results.
func RuleCases() []RuleCase {
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
	globalDefault := hard
	globalDefault.PriorityClassGlobalDefault, globalDefault.PreemptionDefault = "cluster-default", "Never"
	return []RuleCase{
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
		{"the cluster's global default class counts as unset", globalDefault, base(func(s *corev1.PodSpec) {
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
		{"serviceLinks Enabled keeps the pod's own false", tenancyv1alpha1.PodRules{EnableServiceLinks: true, AutomountServiceAccountToken: true},
			base(func(s *corev1.PodSpec) { s.EnableServiceLinks = ptr.To(false) }), base(func(s *corev1.PodSpec) {
				s.EnableServiceLinks, s.AutomountServiceAccountToken = ptr.To(false), ptr.To(true)
			})},
		{"serviceLinks Enabled keeps the API server's true", tenancyv1alpha1.PodRules{EnableServiceLinks: true, AutomountServiceAccountToken: true},
			base(nil), base(func(s *corev1.PodSpec) { s.AutomountServiceAccountToken = ptr.To(true) })},
	}
}
