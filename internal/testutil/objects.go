package testutil

import (
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Service returns a ClusterIP Service of namespace selecting app=name on
// port 80, changed by each of edit in turn.
func Service(namespace, name string, edit ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	for _, e := range edit {
		e(s)
	}
	return s
}

// Ingress returns an Ingress of class routing host to the Service of the
// same name, changed by each of edit in turn. An empty class leaves
// ingressClassName unset.
func Ingress(namespace, name, class, host string, edit ...func(*networkingv1.Ingress)) *networkingv1.Ingress {
	pathType := networkingv1.PathTypePrefix
	in := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pathType, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}},
				}}},
			}},
		}}},
	}
	if class != "" {
		in.Spec.IngressClassName = ptr.To(class)
	}
	for _, e := range edit {
		e(in)
	}
	return in
}

// PVC returns a claim of 1Gi of class, changed by each of edit in turn. An
// empty class leaves storageClassName unset.
func PVC(namespace, name, class string, edit ...func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: Quantities("storage", "1Gi")},
		},
	}
	if class != "" {
		c.Spec.StorageClassName = ptr.To(class)
	}
	for _, e := range edit {
		e(c)
	}
	return c
}

// NetworkPolicy returns a NetworkPolicy of namespace over all its pods with
// the given ingress and egress rules; a nil list leaves that direction out
// of policyTypes.
func NetworkPolicy(namespace, name string, ingress []networkingv1.NetworkPolicyIngressRule, egress []networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       networkingv1.NetworkPolicySpec{Ingress: ingress, Egress: egress},
	}
	if ingress != nil {
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
	}
	if egress != nil {
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
	}
	return np
}

// TenantPeer is a NetworkPolicy peer selecting the namespaces of tenant by
// its label.
func TenantPeer(tenantLabel, tenant string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{tenantLabel: tenant}}}
}

// IPBlockPeer is a NetworkPolicy peer of an address range, less except.
func IPBlockPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

// Secret returns an Opaque Secret, or one of typ when typ is not empty.
func Secret(namespace, name string, typ corev1.SecretType) *corev1.Secret {
	if typ == "" {
		typ = corev1.SecretTypeOpaque
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Type: typ}
}

// ServiceAccount returns a ServiceAccount, changed by each of edit in turn.
func ServiceAccount(namespace, name string, edit ...func(*corev1.ServiceAccount)) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	for _, e := range edit {
		e(sa)
	}
	return sa
}

// TokenRequest asks for a token of seconds (unset when zero), as kubectl
// create token does.
func TokenRequest(namespace, serviceAccount string, seconds int64) *authenticationv1.TokenRequest {
	tr := &authenticationv1.TokenRequest{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: serviceAccount}}
	if seconds != 0 {
		tr.Spec.ExpirationSeconds = ptr.To(seconds)
	}
	return tr
}
