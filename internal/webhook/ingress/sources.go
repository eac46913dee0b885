package ingress

import (
	"context"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways;listenersets;httproutes;grpcroutes;tlsroutes,verbs=get;list;watch

// A Source is a kind of object that serves hostnames: Ingresses, and the
// Gateway API's Gateways and ListenerSets (by their listeners) and
// HTTPRoutes, GRPCRoutes and TLSRoutes. Every source is indexed the same
// way and claims names the same way, so that a hostname is never served
// for two tenants whichever kinds serve it.
type Source struct {
	// Kind is the group and kind the source's admission requests name.
	Kind schema.GroupKind
	// New returns an empty object and an empty list of the kind.
	New     func() client.Object
	NewList func() client.ObjectList
	// Hosts are the hostnames an object claims, normalized and sorted.
	Hosts func(client.Object) []string
	// Listener marks Gateways and ListenerSets: outside every tenant they
	// are the platform's shared entry points, whose hostnames say what
	// routes may attach, not names that routes under them would take.
	Listener bool
}

// Ingresses is the source of Ingresses.
func Ingresses() Source {
	return Source{
		Kind:    schema.GroupKind{Group: networkingv1.GroupName, Kind: "Ingress"},
		New:     func() client.Object { return &networkingv1.Ingress{} },
		NewList: func() client.ObjectList { return &networkingv1.IngressList{} },
		Hosts:   func(o client.Object) []string { return Hosts(o.(*networkingv1.Ingress)) },
	}
}

// GatewaySources are the sources of the Gateway API, for clusters that
// serve it. A route without hostnames and a listener without one claim
// nothing here: they take the names of their own Gateway only (the
// gateway.noHostnames policy refuses them on anyone else's).
func GatewaySources() []Source {
	group := gatewayv1.GroupName
	route := func(kind string, newObj func() client.Object, newList func() client.ObjectList, names func(client.Object) []gatewayv1.Hostname) Source {
		return Source{Kind: schema.GroupKind{Group: group, Kind: kind}, New: newObj, NewList: newList,
			Hosts: func(o client.Object) []string { return hostnames(names(o)) }}
	}
	listener := func(s Source) Source { s.Listener = true; return s }
	return []Source{
		listener(route("Gateway", func() client.Object { return &gatewayv1.Gateway{} }, func() client.ObjectList { return &gatewayv1.GatewayList{} },
			func(o client.Object) []gatewayv1.Hostname {
				return listenerHostnames(o.(*gatewayv1.Gateway).Spec.Listeners, func(l gatewayv1.Listener) *gatewayv1.Hostname { return l.Hostname })
			})),
		listener(route("ListenerSet", func() client.Object { return &gatewayv1.ListenerSet{} }, func() client.ObjectList { return &gatewayv1.ListenerSetList{} },
			func(o client.Object) []gatewayv1.Hostname {
				return listenerHostnames(o.(*gatewayv1.ListenerSet).Spec.Listeners, func(l gatewayv1.ListenerEntry) *gatewayv1.Hostname { return l.Hostname })
			})),
		route("HTTPRoute", func() client.Object { return &gatewayv1.HTTPRoute{} }, func() client.ObjectList { return &gatewayv1.HTTPRouteList{} },
			func(o client.Object) []gatewayv1.Hostname { return o.(*gatewayv1.HTTPRoute).Spec.Hostnames }),
		route("GRPCRoute", func() client.Object { return &gatewayv1.GRPCRoute{} }, func() client.ObjectList { return &gatewayv1.GRPCRouteList{} },
			func(o client.Object) []gatewayv1.Hostname { return o.(*gatewayv1.GRPCRoute).Spec.Hostnames }),
		route("TLSRoute", func() client.Object { return &gatewayv1.TLSRoute{} }, func() client.ObjectList { return &gatewayv1.TLSRouteList{} },
			func(o client.Object) []gatewayv1.Hostname { return o.(*gatewayv1.TLSRoute).Spec.Hostnames }),
	}
}

// listenerHostnames are the hostnames the listeners name (a Gateway's or a
// ListenerSet's, which differ in type only).
func listenerHostnames[L any](listeners []L, hostname func(L) *gatewayv1.Hostname) []gatewayv1.Hostname {
	var out []gatewayv1.Hostname
	for _, l := range listeners {
		if h := hostname(l); h != nil {
			out = append(out, *h)
		}
	}
	return out
}

// hostnames normalizes and sorts names, without duplicates.
func hostnames(names []gatewayv1.Hostname) []string {
	seen := map[string]bool{}
	for _, n := range names {
		if h := normalize(string(n)); h != CatchAll {
			seen[h] = true
		}
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// indexKeys are the index entries of hosts: "host:" each hostname, and
// "in:" each domain it lies in, at every depth ("in:b.c" and "in:c" for
// "a.b.c" and for "*.b.c"), which a wildcard's lookup reads.
func indexKeys(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, "host:"+h)
		if h == CatchAll {
			continue
		}
		domain := h
		if d, ok := strings.CutPrefix(h, "*."); ok {
			domain = "x." + d
		}
		for _, a := range ancestors(domain) {
			out = append(out, "in:"+a)
		}
	}
	return out
}

// IndexSources registers HostIndex for every source with the cache.
func IndexSources(ctx context.Context, indexer client.FieldIndexer, sources []Source) error {
	for _, src := range sources {
		hosts := src.Hosts
		if err := indexer.IndexField(ctx, src.New(), HostIndex, func(obj client.Object) []string { return indexKeys(hosts(obj)) }); err != nil {
			return err
		}
	}
	return nil
}

// serving is an object that serves a hostname, and its source.
type serving struct {
	client.Object
	source *Source
}

// listServing lists the objects of every source whose index entry is key.
func listServing(ctx context.Context, c client.Reader, sources []Source, key string) ([]serving, error) {
	var out []serving
	for i := range sources {
		src := &sources[i]
		list := src.NewList()
		if err := c.List(ctx, list, client.MatchingFields{HostIndex: key}); err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			out = append(out, serving{Object: item.(client.Object), source: src})
		}
	}
	return out, nil
}
