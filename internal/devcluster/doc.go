// Package devcluster starts and stops a real Kubernetes control plane on
// loopback from the binaries hack/k8s builds: etcd, kube-apiserver (RBAC,
// PodSecurity, API Priority and Fairness, secrets encrypted at rest, an audit
// log, and a client certificate it presents to admission webhooks, so that
// they can verify their caller), kube-controller-manager, kube-scheduler and
// kwok with simulated nodes.
// Tests, `make demo` and `make bench` all use it, so every tier runs the same
// binaries.
//
// It owns processes and files under its directory; it must not know about
// Bulkhead's API or controllers.
package devcluster
