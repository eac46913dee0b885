package testutil

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// TenantWrapper builds a Tenant one setting at a time. Every method changes
// the wrapper and returns it so calls chain; Obj returns a copy, so one
// wrapper can serve as the base of several variants.
type TenantWrapper struct {
	tenant tenancyv1alpha1.Tenant
}

// Tenant starts a Tenant with the given name and an empty spec.
func Tenant(name string) *TenantWrapper {
	return &TenantWrapper{tenant: tenancyv1alpha1.Tenant{
		TypeMeta: metav1.TypeMeta{
			APIVersion: tenancyv1alpha1.GroupVersion.String(),
			Kind:       "Tenant",
		},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}}
}

// Obj returns a deep copy of the Tenant built so far.
func (w *TenantWrapper) Obj() *tenancyv1alpha1.Tenant {
	return w.tenant.DeepCopy()
}

// UID sets metadata.uid, which rendered owner references carry.
func (w *TenantWrapper) UID(uid string) *TenantWrapper {
	w.tenant.UID = types.UID(uid)
	return w
}

// Deleting marks the Tenant as being deleted (a deletion timestamp, and the
// finalizer that holds it), as decisions see a Tenant whose deletion has begun.
func (w *TenantWrapper) Deleting() *TenantWrapper {
	now := metav1.Now()
	w.tenant.DeletionTimestamp = &now
	w.tenant.Finalizers = append(w.tenant.Finalizers, tenancyv1alpha1.FinalizerNamespaces)
	return w
}

// Owner adds a User owner.
func (w *TenantWrapper) Owner(name string) *TenantWrapper {
	w.tenant.Spec.Owners = append(w.tenant.Spec.Owners, User(name))
	return w
}

// Group adds a Group owner.
func (w *TenantWrapper) Group(name string) *TenantWrapper {
	w.tenant.Spec.Owners = append(w.tenant.Spec.Owners, tenancyv1alpha1.Subject{
		Kind: tenancyv1alpha1.SubjectGroup, Name: name,
	})
	return w
}

// ServiceAccount adds a ServiceAccount owner (a CI pipeline, typically).
func (w *TenantWrapper) ServiceAccount(namespace, name string) *TenantWrapper {
	w.tenant.Spec.Owners = append(w.tenant.Spec.Owners, tenancyv1alpha1.Subject{
		Kind: tenancyv1alpha1.SubjectServiceAccount, Namespace: namespace, Name: name,
	})
	return w
}

// Member adds a User member.
func (w *TenantWrapper) Member(name string) *TenantWrapper {
	w.tenant.Spec.Members = append(w.tenant.Spec.Members, User(name))
	return w
}

// Viewer adds a User viewer.
func (w *TenantWrapper) Viewer(name string) *TenantWrapper {
	w.tenant.Spec.Viewers = append(w.tenant.Spec.Viewers, User(name))
	return w
}

// Hard sets spec.isolation to Hard.
func (w *TenantWrapper) Hard() *TenantWrapper {
	w.tenant.Spec.Isolation = tenancyv1alpha1.IsolationHard
	return w
}

// Soft sets spec.isolation to Soft.
func (w *TenantWrapper) Soft() *TenantWrapper {
	w.tenant.Spec.Isolation = tenancyv1alpha1.IsolationSoft
	return w
}

// Max sets namespaces.max.
func (w *TenantWrapper) Max(n int32) *TenantWrapper {
	w.tenant.Spec.Namespaces.Max = ptr.To(n)
	return w
}

// RequirePrefix sets namespaces.requirePrefix.
func (w *TenantWrapper) RequirePrefix(require bool) *TenantWrapper {
	w.tenant.Spec.Namespaces.RequirePrefix = ptr.To(require)
	return w
}

// Labels sets namespaces.labels, the labels stamped on every tenant namespace.
func (w *TenantWrapper) Labels(labels map[string]string) *TenantWrapper {
	w.tenant.Spec.Namespaces.Labels = nil
	for k, v := range labels {
		if w.tenant.Spec.Namespaces.Labels == nil {
			w.tenant.Spec.Namespaces.Labels = map[string]tenancyv1alpha1.LabelValue{}
		}
		w.tenant.Spec.Namespaces.Labels[k] = tenancyv1alpha1.LabelValue(v)
	}
	return w
}

// Annotations sets namespaces.annotations.
func (w *TenantWrapper) Annotations(annotations map[string]string) *TenantWrapper {
	w.tenant.Spec.Namespaces.Annotations = copyMap(annotations)
	return w
}

// DeletionPolicy sets namespaces.deletionPolicy.
func (w *TenantWrapper) DeletionPolicy(p tenancyv1alpha1.DeletionPolicy) *TenantWrapper {
	w.tenant.Spec.Namespaces.DeletionPolicy = p
	return w
}

// SecurityLevel sets pods.securityLevel.
func (w *TenantWrapper) SecurityLevel(l tenancyv1alpha1.SecurityLevel) *TenantWrapper {
	w.tenant.Spec.Pods.SecurityLevel = l
	return w
}

// NetworkIsolation sets network.isolation.
func (w *TenantWrapper) NetworkIsolation(i tenancyv1alpha1.NetworkIsolation) *TenantWrapper {
	w.tenant.Spec.Network.Isolation = i
	return w
}

// AllowFromTenant adds another tenant to network.allowFrom.
func (w *TenantWrapper) AllowFromTenant(name string) *TenantWrapper {
	w.tenant.Spec.Network.AllowFrom = append(w.tenant.Spec.Network.AllowFrom, tenancyv1alpha1.NetworkPeer{Tenant: name})
	return w
}

// AllowFromNamespaces adds a namespace selector to network.allowFrom.
func (w *TenantWrapper) AllowFromNamespaces(selector *metav1.LabelSelector) *TenantWrapper {
	w.tenant.Spec.Network.AllowFrom = append(w.tenant.Spec.Network.AllowFrom, tenancyv1alpha1.NetworkPeer{
		NamespaceSelector: selector.DeepCopy(),
	})
	return w
}

// AllowInternet sets network.egress.allowInternet.
func (w *TenantWrapper) AllowInternet(allow bool) *TenantWrapper {
	w.egress().AllowInternet = ptr.To(allow)
	return w
}

// DenyCIDRs appends to network.egress.denyCIDRs.
func (w *TenantWrapper) DenyCIDRs(cidrs ...string) *TenantWrapper {
	e := w.egress()
	e.DenyCIDRs = append(e.DenyCIDRs, cidrs...)
	return w
}

// AllowCIDRs appends to network.egress.allowCIDRs.
func (w *TenantWrapper) AllowCIDRs(cidrs ...string) *TenantWrapper {
	e := w.egress()
	e.AllowCIDRs = append(e.AllowCIDRs, cidrs...)
	return w
}

func (w *TenantWrapper) egress() *tenancyv1alpha1.EgressSpec {
	if w.tenant.Spec.Network.Egress == nil {
		w.tenant.Spec.Network.Egress = &tenancyv1alpha1.EgressSpec{}
	}
	return w.tenant.Spec.Network.Egress
}

// User is a User subject, for tests that build subject lists directly.
func User(name string) tenancyv1alpha1.Subject {
	return tenancyv1alpha1.Subject{Kind: tenancyv1alpha1.SubjectUser, Name: name}
}

func copyMap(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// NodePool pins the tenant to nodes labelled selector and gives its pods
// tolerations.
func (w *TenantWrapper) NodePool(selector map[string]string, tolerations ...corev1.Toleration) *TenantWrapper {
	w.tenant.Spec.Nodes = &tenancyv1alpha1.NodesSpec{Selector: copyMap(selector), Tolerations: tolerations}
	return w
}

// Registries sets pods.images.registries.
func (w *TenantWrapper) Registries(prefixes ...string) *TenantWrapper {
	w.images().Registries = prefixes
	return w
}

// PullPolicy sets pods.images.pullPolicy.
func (w *TenantWrapper) PullPolicy(p corev1.PullPolicy) *TenantWrapper {
	w.images().PullPolicy = p
	return w
}

func (w *TenantWrapper) images() *tenancyv1alpha1.ImagesSpec {
	if w.tenant.Spec.Pods.Images == nil {
		w.tenant.Spec.Pods.Images = &tenancyv1alpha1.ImagesSpec{}
	}
	return w.tenant.Spec.Pods.Images
}

// RuntimeClass sets pods.runtimeClass.
func (w *TenantWrapper) RuntimeClass(def string, allowed ...string) *TenantWrapper {
	w.tenant.Spec.Pods.RuntimeClass = &tenancyv1alpha1.ClassPolicy{Default: def, Allowed: allowed}
	return w
}

// PriorityClasses sets pods.priorityClasses.
func (w *TenantWrapper) PriorityClasses(def string, allowed ...string) *TenantWrapper {
	w.tenant.Spec.Pods.PriorityClasses = &tenancyv1alpha1.ClassPolicy{Default: def, Allowed: allowed}
	return w
}

// UserNamespaces sets pods.userNamespaces.
func (w *TenantWrapper) UserNamespaces(p tenancyv1alpha1.UserNamespacesPolicy) *TenantWrapper {
	w.tenant.Spec.Pods.UserNamespaces = p
	return w
}

// ServiceTypes sets services.allowedTypes.
func (w *TenantWrapper) ServiceTypes(types ...tenancyv1alpha1.ServiceType) *TenantWrapper {
	w.tenant.Spec.Services.AllowedTypes = types
	return w
}

// Ingress sets ingress.classes and ingress.hostnames.
func (w *TenantWrapper) Ingress(classes, hostnames []string) *TenantWrapper {
	w.tenant.Spec.Ingress = tenancyv1alpha1.IngressSpec{Classes: classes, Hostnames: hostnames}
	return w
}

// StorageClasses sets storage.classes.
func (w *TenantWrapper) StorageClasses(classes ...string) *TenantWrapper {
	w.tenant.Spec.Storage.Classes = classes
	return w
}

// TenantQuota sets quota.tenant.hard.
func (w *TenantWrapper) TenantQuota(hard corev1.ResourceList) *TenantWrapper {
	w.tenant.Spec.Quota.Tenant = &tenancyv1alpha1.TenantLimits{Hard: hard}
	return w
}

// NamespaceQuota sets quota.namespace.hard.
func (w *TenantWrapper) NamespaceQuota(hard corev1.ResourceList) *TenantWrapper {
	w.tenant.Spec.Quota.Namespace = &tenancyv1alpha1.ResourceLimits{Hard: hard}
	return w
}

// ContainerLimits sets limits: per-container defaults and bounds.
func (w *TenantWrapper) ContainerLimits(l tenancyv1alpha1.LimitsSpec) *TenantWrapper {
	w.tenant.Spec.Limits = &l
	return w
}

// NamespaceNames are n namespace names of tenant, <tenant>-ns0 and on, as
// the benchmarks and the crash suite give their tenants.
func NamespaceNames(tenant string, n int) []string {
	out := make([]string, n)
	for j := range out {
		out[j] = fmt.Sprintf("%s-ns%d", tenant, j)
	}
	return out
}

// Shares sets apiFairness.shares.
func (w *TenantWrapper) Shares(n int32) *TenantWrapper {
	w.tenant.Spec.APIFairness.Shares = &n
	return w
}

// Frozen sets state Frozen, recorded as set by who (as Bulkhead's mutating
// policy records it; empty leaves it unrecorded).
func (w *TenantWrapper) Frozen(who string) *TenantWrapper {
	w.tenant.Spec.State = tenancyv1alpha1.TenantFrozen
	if who != "" {
		if w.tenant.Annotations == nil {
			w.tenant.Annotations = map[string]string{}
		}
		w.tenant.Annotations[tenancyv1alpha1.FrozenByAnnotation] = who
	}
	return w
}

// MetaLabel sets a label on the Tenant itself (what a TenantResource's
// tenantSelector matches), not on its namespaces.
func (w *TenantWrapper) MetaLabel(key, value string) *TenantWrapper {
	w.tenant.Labels = copyMap(w.tenant.Labels)
	if w.tenant.Labels == nil {
		w.tenant.Labels = map[string]string{}
	}
	w.tenant.Labels[key] = value
	return w
}
