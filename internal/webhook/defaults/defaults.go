// Package defaults serves the tenant's pod and ServiceAccount defaults from
// a webhook, for API servers that do not serve MutatingAdmissionPolicy
// (Kubernetes 1.34 and 1.35 with the feature gate off). It is the fallback
// of render's mutating policies and must do exactly what they do; the
// validating policies, always served, refuse whatever a missing default
// would leave open, so the webhook fails open (failurePolicy Ignore): with
// Bulkhead down, tenants learn from the validating policies what to set
// themselves, and nothing is admitted that isolation forbids.
package defaults

import (
	"context"
	"encoding/json"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// Path the webhook is served on.
const Path = "/defaults/mutate"

// Pod fills pod with the defaults of rules, as the mutating policy
// bulkhead-pods does: it never overwrites a value the user chose, except
// enableServiceLinks, which the API server has defaulted before admission
// (false when the tenant's serviceLinks is Disabled or Forbidden).
func Pod(pod *corev1.Pod, rules tenancyv1alpha1.PodRules) {
	s := &pod.Spec
	for k, v := range rules.NodeSelector {
		if _, ok := s.NodeSelector[k]; !ok {
			if s.NodeSelector == nil {
				s.NodeSelector = map[string]string{}
			}
			s.NodeSelector[k] = v
		}
	}
	have := map[string]bool{}
	for _, t := range s.Tolerations {
		have[render.CanonicalToleration(t)] = true
	}
	for _, t := range rules.Tolerations {
		if !have[render.CanonicalToleration(t)] {
			s.Tolerations = append(s.Tolerations, t)
		}
	}
	if rules.RuntimeClassDefault != "" && s.RuntimeClassName == nil {
		s.RuntimeClassName = ptr.To(rules.RuntimeClassDefault)
		if len(rules.RuntimeClassOverhead) > 0 {
			s.Overhead = rules.RuntimeClassOverhead.DeepCopy()
		}
	}
	if rules.RequireUserNamespace && s.HostUsers == nil && !s.HostNetwork && !s.HostPID && !s.HostIPC {
		s.HostUsers = ptr.To(false)
	}
	if !rules.EnableServiceLinks {
		// Enabled leaves the pod's own value; Disabled and Forbidden write false.
		s.EnableServiceLinks = ptr.To(false)
	}
	if s.AutomountServiceAccountToken == nil {
		s.AutomountServiceAccountToken = ptr.To(rules.AutomountServiceAccountToken)
	}
	if rules.PullPolicy != "" {
		for i := range s.Containers {
			s.Containers[i].ImagePullPolicy = corev1.PullPolicy(rules.PullPolicy)
		}
		for i := range s.InitContainers {
			s.InitContainers[i].ImagePullPolicy = corev1.PullPolicy(rules.PullPolicy)
		}
		for i := range s.Volumes {
			if img := s.Volumes[i].Image; img != nil {
				img.PullPolicy = corev1.PullPolicy(rules.PullPolicy)
			}
		}
	}
	// The Priority step has filled in the cluster's global default class:
	// treat it as unset, and make priority and preemption follow the class.
	if rules.PriorityClassDefault != "" && (s.PriorityClassName == "" || s.PriorityClassName == rules.PriorityClassGlobalDefault) {
		s.PriorityClassName = rules.PriorityClassDefault
		s.Priority = ptr.To(rules.PriorityDefault)
		preemption := corev1.PreemptLowerPriority
		if rules.PreemptionDefault != "" {
			preemption = corev1.PreemptionPolicy(rules.PreemptionDefault)
		}
		s.PreemptionPolicy = ptr.To(preemption)
	}
}

// ServiceAccount fills sa with the tenant's automountServiceAccountToken
// default, as the mutating policy bulkhead-serviceaccounts does.
func ServiceAccount(sa *corev1.ServiceAccount, rules tenancyv1alpha1.PodRules) {
	if sa.AutomountServiceAccountToken == nil {
		sa.AutomountServiceAccountToken = ptr.To(rules.AutomountServiceAccountToken)
	}
}

// Handler applies Pod and ServiceAccount with the namespace's TenantPolicy.
type Handler struct {
	Reader client.Reader
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	policy := &tenancyv1alpha1.TenantPolicy{}
	err := h.Reader.Get(ctx, client.ObjectKey{Namespace: req.Namespace, Name: tenancyv1alpha1.TenantPolicyName}, policy)
	if apierrors.IsNotFound(err) {
		// As the mutating policies' parameterNotFoundAction: a namespace is
		// closed until its parameters exist. The ServiceAccount controller
		// retries the namespace's default ServiceAccount, which then gets
		// its default too.
		return admission.Denied("namespace " + req.Namespace + ": its TenantPolicy is not written yet [rule defaults]. Retry in a moment; if it persists, check the Tenant's AdmissionReady condition")
	}
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	var obj any
	switch req.Kind.Kind {
	case "Pod":
		pod := &corev1.Pod{}
		if err := json.Unmarshal(req.Object.Raw, pod); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		Pod(pod, policy.Spec.Pods)
		obj = pod
	case "ServiceAccount":
		sa := &corev1.ServiceAccount{}
		if err := json.Unmarshal(req.Object.Raw, sa); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		ServiceAccount(sa, policy.Spec.Pods)
		obj = sa
	default:
		return admission.Allowed("")
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, raw)
}
