package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// sharedGateway creates, once, the platform's Gateway infra-gw/shared: a
// wildcard HTTPS-like listener "https" for *.apps.example.com and a TCP
// listener "tcp", in a namespace outside every tenant.
func sharedGateway(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	env.Ensure(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "infra-gw"}})
	gw := testutil.Gateway("infra-gw", "shared", "platform", "*.apps.example.com")
	gw.Spec.Listeners[0].Name = "https"
	gw.Spec.Listeners = append(gw.Spec.Listeners, gatewayv1.Listener{Name: "tcp", Port: 5432, Protocol: gatewayv1.TCPProtocolType})
	if err := env.Client.Create(ctx, gw); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the shared Gateway: %v", err)
	}
}

// TestGatewayRoutesAttachOnlyWhereAllowed: a Hard tenant's routes attach to
// the shared listener its Tenant lists, with its own hostnames, and nowhere
// else; it owns no Gateway.
func TestGatewayRoutesAttachOnlyWhereAllowed(t *testing.T) {
	ctx := context.Background()
	sharedGateway(t)
	const tenant, ns = "gwh", "gwh-web"
	tn := testutil.Tenant(tenant).Owner("gwh-owner").Hard().Obj()
	tn.Spec.Ingress.Hostnames = []string{"*.gwh.apps.example.com"}
	tn.Spec.Gateway.Parents = []tenancyv1alpha1.GatewayParent{
		{Namespace: "infra-gw", Name: "shared", SectionNames: []string{"https"}},
		// Every listener of infra-gw/open: ListenerSets may attach.
		{Namespace: "infra-gw", Name: "open"},
	}
	dev := env.TenantWithNamespace(t, tn, ns)
	https := []gatewayv1.ParentReference{testutil.Parent("infra-gw", "shared", "https")}

	if err := dev.Create(ctx, testutil.HTTPRoute(ns, "web", https, "web.gwh.apps.example.com")); err != nil {
		t.Fatalf("a route on the listed listener with the tenant's hostname: %v", err)
	}
	if err := dev.Create(ctx, testutil.ListenerSet(ns, "api", "infra-gw", "open", "api.gwh.apps.example.com")); err != nil {
		t.Fatalf("a ListenerSet with the tenant's hostname on a listed Gateway: %v", err)
	}
	for _, c := range []struct {
		name string
		obj  client.Object
		rule string
	}{
		{"no hostnames on the shared wildcard listener", testutil.HTTPRoute(ns, "all", https), "gateway.noHostnames"},
		{"the listed Gateway without its listener", testutil.HTTPRoute(ns, "nolistener", []gatewayv1.ParentReference{testutil.Parent("infra-gw", "shared", "")}, "a.gwh.apps.example.com"), "gateway.parentRefs"},
		{"an unlisted Gateway", testutil.HTTPRoute(ns, "other", []gatewayv1.ParentReference{testutil.Parent("infra-gw", "private", "")}, "b.gwh.apps.example.com"), "gateway.parentRefs"},
		{"a hostname that is not the tenant's", testutil.HTTPRoute(ns, "foreign", https, "shop.apps.example.com"), "gateway.hostnames"},
		{"a TCP route on an unlisted listener", testutil.TCPRoute(ns, "db", testutil.Parent("infra-gw", "shared", "tcp")), "gateway.parentRefs"},
		{"a Gateway of its own", testutil.Gateway(ns, "own", "platform", "x.gwh.apps.example.com"), "gateway.ownGateways"},
		{"a ListenerSet on a listed Gateway without naming the listed listener", testutil.ListenerSet(ns, "ls", "infra-gw", "shared", "ls.gwh.apps.example.com"), "gateway.parentRefs"},
		{"a ListenerSet listener without hostname on a shared Gateway", testutil.ListenerSet(ns, "ls", "infra-gw", "open", ""), "gateway.noHostnames"},
		{"a ListenerSet TCP listener on a shared Gateway", func() client.Object {
			// TCP and UDP listeners carry no hostname: the whole port is theirs.
			ls := testutil.ListenerSet(ns, "ls", "infra-gw", "open", "")
			ls.Spec.Listeners[0].Protocol, ls.Spec.Listeners[0].Port = gatewayv1.TCPProtocolType, 5432
			return ls
		}(), "gateway.noHostnames"},
	} {
		t.Run(c.name, func(t *testing.T) {
			testenv.Rejected(t, dev.Create(ctx, c.obj), tenant, c.rule)
		})
	}
}

// TestOwnGatewaysUseListedClasses: a Soft tenant allowed its own Gateways
// uses only the GatewayClasses its Tenant lists.
func TestOwnGatewaysUseListedClasses(t *testing.T) {
	ctx := context.Background()
	const tenant, ns = "gws", "gws-web"
	tn := testutil.Tenant(tenant).Owner("gws-owner").Soft().Obj()
	tn.Spec.Ingress.Hostnames = []string{"*.gws.example.com"}
	tn.Spec.Gateway.Classes = []string{"tenant-lb"}
	dev := env.TenantWithNamespace(t, tn, ns)
	if err := dev.Create(ctx, testutil.Gateway(ns, "mine", "tenant-lb", "", "www.gws.example.com")); err != nil {
		t.Fatalf("a Gateway of a listed class: %v", err)
	}
	err := dev.Create(ctx, testutil.Gateway(ns, "public", "platform-public", "", "api.gws.example.com"))
	testenv.Rejected(t, err, tenant, "gateway.classes")
	testenv.ExpectDenied(t, err, "GatewayClass platform-public", "allowed: tenant-lb")
}

// TestHostnameOneOwnerAcrossIngressAndRoutes: an Ingress and a route never
// serve one hostname for two tenants, whichever comes first, and two
// tenants racing for a route hostname leave it to exactly one.
func TestHostnameOneOwnerAcrossIngressAndRoutes(t *testing.T) {
	ctx := context.Background()
	sharedGateway(t)
	parents := []tenancyv1alpha1.GatewayParent{{Namespace: "infra-gw", Name: "shared"}}
	ta := testutil.Tenant("gia").Owner("gia-owner").Obj()
	ta.Spec.Gateway.Parents = parents
	tb := testutil.Tenant("gib").Owner("gib-owner").Obj()
	tb.Spec.Gateway.Parents = parents
	a := env.TenantWithNamespace(t, ta, "gia-web")
	b := env.TenantWithNamespace(t, tb, "gib-web")
	shared := []gatewayv1.ParentReference{testutil.Parent("infra-gw", "shared", "")}

	t.Run("an Ingress first, then a route", func(t *testing.T) {
		if err := a.Create(ctx, hostIngress("gia-web", "both", "both.apps.example.com")); err != nil {
			t.Fatal(err)
		}
		err := b.Create(ctx, testutil.HTTPRoute("gib-web", "both", shared, "both.apps.example.com"))
		testenv.Rejected(t, err, "gib", "ingress.hostnames")
		testenv.ExpectDenied(t, err, "by another tenant")
		// A wildcard covering it, and a listener of the tenant's own
		// Gateway, are refused too.
		testenv.Rejected(t, b.Create(ctx, testutil.HTTPRoute("gib-web", "wild", shared, "*.apps.example.com")), "gib", "ingress.hostnames")
		testenv.Rejected(t, b.Create(ctx, testutil.Gateway("gib-web", "own", "platform", "both.apps.example.com")), "gib", "ingress.hostnames")
	})
	t.Run("a route first, then an Ingress", func(t *testing.T) {
		if err := b.Create(ctx, testutil.HTTPRoute("gib-web", "first", shared, "first.apps.example.com")); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "the route in the webhook's cache", func() error {
			err := a.Create(ctx, hostIngress("gia-web", "second", "first.apps.example.com"), client.DryRunAll)
			if err == nil {
				return fmt.Errorf("admitted")
			}
			return nil
		})
		err := a.Create(ctx, hostIngress("gia-web", "second", "first.apps.example.com"))
		testenv.Rejected(t, err, "gia", "ingress.hostnames")
		testenv.ExpectDenied(t, err, "by another tenant")
	})
	t.Run("a route wildcard covers names of any depth", func(t *testing.T) {
		if err := a.Create(ctx, testutil.HTTPRoute("gia-web", "deep", shared, "*.deep.apps.example.com")); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "the wildcard route in the webhook's cache", func() error {
			err := b.Create(ctx, testutil.HTTPRoute("gib-web", "deeper", shared, "x.y.deep.apps.example.com"))
			if err == nil {
				return fmt.Errorf("admitted")
			}
			testenv.Rejected(t, err, "gib", "ingress.hostnames")
			return nil
		})
	})
	t.Run("two tenants racing for a route hostname", func(t *testing.T) {
		const tries = 20
		errs := make([]error, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Go(func() {
				c, ns := a, "gia-web"
				if i%2 == 1 {
					c, ns = b, "gib-web"
				}
				errs[i] = c.Create(ctx, testutil.HTTPRoute(ns, fmt.Sprintf("race-%d", i), shared, "race.apps.example.com"))
			})
		}
		wg.Wait()
		admitted := map[string]int{}
		for i, err := range errs {
			tenant := []string{"gia", "gib"}[i%2]
			if err == nil {
				admitted[tenant]++
				continue
			}
			testenv.Rejected(t, err, tenant, "ingress.hostnames")
		}
		if len(admitted) != 1 {
			t.Fatalf("race.apps.example.com admitted for %v; want exactly one tenant", admitted)
		}
		for winner, n := range admitted {
			if n != tries/2 {
				t.Errorf("tenant %s had %d of its %d routes admitted; want all", winner, n, tries/2)
			}
		}
	})
}

// TestReferenceGrantToAnotherTenant: a tenant's ReferenceGrant may let its
// own namespaces and the platform's refer to its objects, but another
// tenant's only once its Tenant's network.allowFrom names that tenant, and
// not a namespace another tenant's prefix would take once created.
func TestReferenceGrantToAnotherTenant(t *testing.T) {
	ctx := context.Background()
	a := env.TenantWithNamespace(t, testutil.Tenant("rga").Owner("rga-owner").Obj(), "rga-web")
	env.TenantWithNamespace(t, testutil.Tenant("rgb").Owner("rgb-owner").Obj(), "rgb-web")
	grant := func(name, from string) *gatewayv1.ReferenceGrant {
		g := &gatewayv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "rga-web", Name: name}}
		g.Spec.From = []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(from)}}
		g.Spec.To = []gatewayv1.ReferenceGrantTo{{Kind: "Service"}}
		return g
	}
	for _, from := range []string{"rga-web", "infra-gw"} {
		if err := a.Create(ctx, grant("from-"+from, from)); err != nil {
			t.Fatalf("a grant from %s: %v", from, err)
		}
	}
	err := a.Create(ctx, grant("from-rgb", "rgb-web"))
	testenv.Rejected(t, err, "rga", "gateway.referenceGrants")
	testenv.ExpectDenied(t, err, "namespace rgb-web, another tenant's")
	testenv.Rejected(t, a.Create(ctx, grant("from-later", "rgb-later")), "rga", "gateway.referenceGrants")

	env.UpdateTenant(t, "rga", func(tn *tenancyv1alpha1.Tenant) {
		tn.Spec.Network.AllowFrom = []tenancyv1alpha1.NetworkPeer{{Tenant: "rgb"}}
	})
	testenv.Eventually(t, "a grant from rgb once allowFrom names it", func() error {
		return a.Create(ctx, grant("from-rgb", "rgb-web"))
	})
}
