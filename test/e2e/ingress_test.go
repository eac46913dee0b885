package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func ingressFor(ns, name string, hosts ...string) *networkingv1.Ingress {
	i := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	for _, h := range hosts {
		i.Spec.Rules = append(i.Spec.Rules, networkingv1.IngressRule{Host: h, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: backend}},
		}}})
	}
	return i
}

// TestIngressHostnamesAreNeverShared checks that a hostname served for one
// tenant, or by the platform, is refused to another tenant, wildcards
// included, without naming the other tenant; and that of two tenants racing
// for a new hostname exactly one gets it.
func TestIngressHostnamesAreNeverShared(t *testing.T) {
	ctx := context.Background()
	env.TenantWithNamespace(t, testutil.Tenant("ia").Owner("ia-owner").Member("ia-dev").Obj(), "ia-web")
	env.TenantWithNamespace(t, testutil.Tenant("ib").Owner("ib-owner").Member("ib-dev").Obj(), "ib-web")
	a, b := env.As("ia-dev"), env.As("ib-dev")

	if err := a.Create(ctx, ingressFor("ia-web", "shop", "shop.shared.test", "*.apps.shared.test")); err != nil {
		t.Fatalf("tenant ia claiming its hostnames: %v", err)
	}
	if err := a.Create(ctx, ingressFor("ia-web", "shop-v2", "shop.shared.test")); err != nil {
		t.Fatalf("tenant ia serving its own hostname from a second Ingress: %v", err)
	}
	env.Ensure(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "platform-ingress"}})
	if err := env.Client.Create(ctx, ingressFor("platform-ingress", "status", "status.example.org")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, host, where string
	}{
		{"the same hostname", "shop.shared.test", "by another tenant"},
		{"a hostname under another tenant's wildcard", "x.apps.shared.test", "by another tenant"},
		{"a wildcard over another tenant's hostname", "*.shared.test", "by another tenant"},
		{"the platform's hostname", "status.example.org", "outside any tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Create(ctx, ingressFor("ib-web", "steal", tc.host))
			testenv.Rejected(t, err, "ib", "ingress.hostnames")
			testenv.ExpectDenied(t, err, tc.where)
			if err != nil && (strings.Contains(err.Error(), "ia-web") || strings.Contains(err.Error(), "tenant ia")) {
				t.Errorf("the denial names the other tenant: %v", err)
			}
		})
	}

	// A race for a new hostname: one tenant wins, whichever comes first.
	for round := 0; round < 5; round++ {
		host := fmt.Sprintf("race-%d.shared.test", round)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		racers := []struct {
			c          client.Client
			ns, tenant string
		}{{a, "ia-web", "ia"}, {b, "ib-web", "ib"}}
		for i, who := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = who.c.Create(ctx, ingressFor(who.ns, fmt.Sprintf("race-%d", round), host))
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Errorf("race for %s: tenant ia got %v, tenant ib got %v; want exactly one to win", host, errs[0], errs[1])
			continue
		}
		loser := 0
		if errs[0] == nil {
			loser = 1
		}
		testenv.Rejected(t, errs[loser], racers[loser].tenant, "ingress.hostnames")
		testenv.ExpectDenied(t, errs[loser], "by another tenant")
	}
}
