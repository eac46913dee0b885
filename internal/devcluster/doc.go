// Package devcluster starts and stops a real Kubernetes control plane on
// loopback from the binaries hack/k8s builds: etcd, kube-apiserver (RBAC,
// PodSecurity, API Priority and Fairness, secrets encrypted at rest, an audit
// log, and a client certificate it presents to admission webhooks, so that
// they can verify their caller), kube-controller-manager, kube-scheduler and
// kwok with simulated nodes.
// Tests, `make demo` and `make bench` all use it, so every tier runs the same
// binaries.
//
// With Options.Metrics the cluster serves metrics.k8s.io through the same
// pipeline as a real one: kwok serves each simulated node's kubelet
// resource-metrics endpoint over TLS, metrics-server scrapes it every ten
// seconds, and the API server's aggregation layer forwards metrics.k8s.io
// to metrics-server. A pod's containers each use what its annotations
// UsageCPUAnnotation and UsageMemoryAnnotation say ("200m", "300Mi"; 1m and
// 1Mi without them), less up to a fifth drawn afresh at every scrape, so the
// peak observed equals the annotation and the 95th percentile sits just
// under it. A node reports its pods' usage plus 100m and 256Mi of its own.
// Figures appear two scrapes after a node or pod does; WaitMetrics waits for
// the nodes'.
//
// It owns processes and files under its directory; it must not know about
// Bulkhead's API or controllers.
package devcluster
