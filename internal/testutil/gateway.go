package testutil

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Parent is a parentRef to Gateway name in namespace (empty: the route's
// own), on listener section (empty: every listener).
func Parent(namespace, name, section string) gatewayv1.ParentReference {
	p := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)}
	if namespace != "" {
		p.Namespace = ptr.To(gatewayv1.Namespace(namespace))
	}
	if section != "" {
		p.SectionName = ptr.To(gatewayv1.SectionName(section))
	}
	return p
}

// HTTPRoute is a route in namespace serving hostnames, attached to parents.
func HTTPRoute(namespace, name string, parents []gatewayv1.ParentReference, hostnames ...string) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	r.Spec.ParentRefs = parents
	for _, h := range hostnames {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(h))
	}
	return r
}

// TCPRoute is a TCP route in namespace attached to parents.
func TCPRoute(namespace, name string, parents ...gatewayv1.ParentReference) *gatewayv1.TCPRoute {
	r := &gatewayv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	r.Spec.ParentRefs = parents
	r.Spec.Rules = []gatewayv1.TCPRouteRule{{BackendRefs: []gatewayv1.BackendRef{{BackendObjectReference: gatewayv1.BackendObjectReference{
		Name: "backend", Port: ptr.To(gatewayv1.PortNumber(80)),
	}}}}}
	return r
}

// Gateway is a Gateway of class in namespace with one HTTP listener per
// hostname given ("" for a listener without one).
func Gateway(namespace, name, class string, hostnames ...string) *gatewayv1.Gateway {
	g := &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	g.Spec.GatewayClassName = gatewayv1.ObjectName(class)
	for i, h := range hostnames {
		name, hostname := httpListener(i, h)
		g.Spec.Listeners = append(g.Spec.Listeners, gatewayv1.Listener{Name: name, Hostname: hostname, Port: 80, Protocol: gatewayv1.HTTPProtocolType})
	}
	return g
}

// ListenerSet is a ListenerSet in namespace attached to Gateway
// parentNamespace/parent, with one HTTP listener per hostname given (""
// for a listener without one).
func ListenerSet(namespace, name, parentNamespace, parent string, hostnames ...string) *gatewayv1.ListenerSet {
	ls := &gatewayv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	ls.Spec.ParentRef = gatewayv1.ParentGatewayReference{Name: gatewayv1.ObjectName(parent)}
	if parentNamespace != "" {
		ls.Spec.ParentRef.Namespace = ptr.To(gatewayv1.Namespace(parentNamespace))
	}
	for i, h := range hostnames {
		name, hostname := httpListener(i, h)
		ls.Spec.Listeners = append(ls.Spec.Listeners, gatewayv1.ListenerEntry{Name: name, Hostname: hostname, Port: 80, Protocol: gatewayv1.HTTPProtocolType})
	}
	return ls
}

// httpListener is the name ("la", "lb", ...) and hostname (nil for "") of
// the i-th HTTP listener the builders above make.
func httpListener(i int, hostname string) (gatewayv1.SectionName, *gatewayv1.Hostname) {
	name := gatewayv1.SectionName("l" + string(rune('a'+i)))
	if hostname == "" {
		return name, nil
	}
	return name, ptr.To(gatewayv1.Hostname(hostname))
}
