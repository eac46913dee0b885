package reserved

import "strings"

// KubernetesNamespacePrefix starts the namespace names Kubernetes keeps for
// itself (kube-system, kube-public, kube-node-lease, and those its add-ons
// create). No tenant's namespaces may be named in it, so no Tenant's name
// may make "<tenant>-" start with it.
const KubernetesNamespacePrefix = "kube-"

// IsKubernetesNamespace reports whether a namespace name, or a name prefix,
// is in Kubernetes' reserved space.
func IsKubernetesNamespace(name string) bool {
	return strings.HasPrefix(name, KubernetesNamespacePrefix)
}
