package tenant

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// Client is who sent a query, as far as the cluster's objects tell.
type Client struct {
	// Tenant is the tenant of the client's namespace; empty for a client of
	// no tenant.
	Tenant string
	// Pod says the address is the pod IP of exactly one running pod. A
	// client that is no pod (a node, an unknown address, an address two
	// pods claim) sees only shared namespaces.
	Pod bool
}

// Platform says the client is a pod of a namespace no tenant owns: the
// platform's own (monitoring, ingress), which resolves every name.
func (c Client) Platform() bool { return c.Pod && c.Tenant == "" }

// Index answers, from informer caches, who an address is and what it may
// see. Every answer is read from objects the API server holds; the caches
// are only their copy, and watches keep them within a second of it.
type Index struct {
	pods       cache.SharedIndexInformer
	namespaces cache.SharedIndexInformer
	tenants    cache.SharedIndexInformer
	synced     atomic.Bool
}

const byIP = "ip"

// NewIndex builds the informers from cfg; Run starts them.
func NewIndex(cfg *rest.Config) (*Index, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	tc, err := tenantClient(cfg)
	if err != nil {
		return nil, err
	}
	ix := &Index{
		pods: cache.NewSharedIndexInformer(
			cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "pods", corev1.NamespaceAll, fields.Everything()),
			&corev1.Pod{}, 0, cache.Indexers{byIP: podIPs}),
		namespaces: cache.NewSharedIndexInformer(
			cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "namespaces", corev1.NamespaceAll, fields.Everything()),
			&corev1.Namespace{}, 0, cache.Indexers{}),
		tenants: cache.NewSharedIndexInformer(
			cache.NewListWatchFromClient(tc, "tenants", corev1.NamespaceAll, fields.Everything()),
			&tenancyv1alpha1.Tenant{}, 0, cache.Indexers{}),
	}
	if err := ix.pods.SetTransform(slimPod); err != nil {
		return nil, err
	}
	if err := ix.namespaces.SetTransform(slimNamespace); err != nil {
		return nil, err
	}
	return ix, nil
}

func tenantClient(cfg *rest.Config) (*rest.RESTClient, error) {
	scheme := runtime.NewScheme()
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &tenancyv1alpha1.GroupVersion
	c.APIPath = "/apis"
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = "bulkhead-dns"
	}
	return rest.RESTClientFor(c)
}

// Run starts the informers and marks the index synced once all three have
// listed; it returns when ctx ends.
func (ix *Index) Run(ctx context.Context) {
	for _, inf := range []cache.SharedIndexInformer{ix.pods, ix.namespaces, ix.tenants} {
		go inf.RunWithContext(ctx)
	}
	if cache.WaitForCacheSync(ctx.Done(), ix.pods.HasSynced, ix.namespaces.HasSynced, ix.tenants.HasSynced) {
		ix.synced.Store(true)
	}
	<-ctx.Done()
}

// Synced says every cache has listed once; until then no address can be
// told apart from another, and the tenant zones are refused.
func (ix *Index) Synced() bool { return ix.synced.Load() }

// WaitSynced waits for Synced or the timeout.
func (ix *Index) WaitSynced(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !ix.Synced() {
		if time.Now().After(deadline) {
			return fmt.Errorf("bulkhead-dns: caches not synced after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// Who maps a source address to its client: the one running pod whose
// status.podIPs holds it, that pod's namespace, and the namespace's tenant
// label. Pods on the host network are left out, since their address is the
// node's and says nothing of which process sent; finished pods are left out,
// since their address may already be another pod's. Two live pods with one
// address (a reused IP seen before the old pod's deletion) make the address
// nobody's until the caches agree again.
func (ix *Index) Who(addr netip.Addr) Client {
	objs, err := ix.pods.GetIndexer().ByIndex(byIP, addr.Unmap().String())
	if err != nil {
		return Client{}
	}
	var found *corev1.Pod
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if !live(p) {
			continue
		}
		if found != nil {
			return Client{}
		}
		found = p
	}
	if found == nil {
		return Client{}
	}
	// A pod whose namespace the cache has not seen yet, or whose namespace
	// is retained (a deleted tenant's, locked), is nobody's, not the
	// platform's.
	tenant, ok := ix.tenantOf(found.Namespace)
	if !ok {
		return Client{}
	}
	return Client{Tenant: tenant, Pod: true}
}

// Sees says whether c may resolve names of namespace ns: a platform pod
// sees all; everyone sees namespaces of no tenant; a tenant sees its own
// and those of tenants whose network.allowFrom names it. A namespace that
// does not exist is not seen, so that it and a hidden one look alike.
func (ix *Index) Sees(c Client, ns string) bool {
	if c.Platform() {
		return true
	}
	o, ok, _ := ix.namespaces.GetStore().GetByKey(ns)
	if !ok {
		return false
	}
	labels := o.(*corev1.Namespace).Labels
	owner := labels[tenancyv1alpha1.TenantLabel]
	switch {
	case owner == "" && labels[tenancyv1alpha1.RetainedLabel] != "":
		// A retained namespace (its tenant deleted) lost the tenant label
		// but is no platform namespace: its names stay hidden.
		return false
	case owner == "":
		return true
	case c.Tenant == "":
		return false
	case owner == c.Tenant:
		return true
	}
	t := ix.tenant(owner)
	if t == nil {
		return false
	}
	for _, p := range t.Spec.Network.AllowFrom {
		if p.Tenant == c.Tenant {
			return true
		}
	}
	return false
}

// Limits is the token bucket of tenant: its Tenant's spec.dns, or the Soft
// profile for a namespace labelled with a tenant that no longer exists.
func (ix *Index) Limits(tenant string) (qps, burst int32) {
	if t := ix.tenant(tenant); t != nil {
		return render.DNSLimits(&t.Spec)
	}
	return render.DNSLimits(&tenancyv1alpha1.TenantSpec{})
}

// tenantOf is the tenant of namespace ns, "" for a namespace of the
// platform; ok is false for a namespace not in the cache and for a retained
// one, whose pods (the deleted tenant's, still running) are nobody's.
func (ix *Index) tenantOf(ns string) (string, bool) {
	o, ok, _ := ix.namespaces.GetStore().GetByKey(ns)
	if !ok {
		return "", false
	}
	labels := o.(*corev1.Namespace).Labels
	if t := labels[tenancyv1alpha1.TenantLabel]; t != "" {
		return t, true
	}
	return "", labels[tenancyv1alpha1.RetainedLabel] == ""
}

func (ix *Index) tenant(name string) *tenancyv1alpha1.Tenant {
	o, ok, _ := ix.tenants.GetStore().GetByKey(name)
	if !ok {
		return nil
	}
	return o.(*tenancyv1alpha1.Tenant)
}

func live(p *corev1.Pod) bool {
	return !p.Spec.HostNetwork && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

func podIPs(obj any) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	out := make([]string, 0, len(p.Status.PodIPs))
	for _, ip := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			out = append(out, a.Unmap().String())
		}
	}
	return out, nil
}

// slimPod keeps of a pod only what attribution reads, so that the cache of
// a large cluster stays small.
func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		ObjectMeta: slimMeta(p.ObjectMeta, nil),
		Spec:       corev1.PodSpec{HostNetwork: p.Spec.HostNetwork},
		Status:     corev1.PodStatus{Phase: p.Status.Phase, PodIPs: p.Status.PodIPs},
	}, nil
}

func slimNamespace(obj any) (any, error) {
	n, ok := obj.(*corev1.Namespace)
	if !ok {
		return obj, nil
	}
	var labels map[string]string
	for _, k := range []string{tenancyv1alpha1.TenantLabel, tenancyv1alpha1.RetainedLabel} {
		if v, ok := n.Labels[k]; ok {
			if labels == nil {
				labels = map[string]string{}
			}
			labels[k] = v
		}
	}
	return &corev1.Namespace{ObjectMeta: slimMeta(n.ObjectMeta, labels)}, nil
}

func slimMeta(m metav1.ObjectMeta, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion, Labels: labels}
}
