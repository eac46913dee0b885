package tenantview

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func index() *Index {
	acme := testutil.Tenant("acme").Owner("alice").Group("devs").ServiceAccount("ci", "deployer").StorageClasses("fast").Obj()
	acme.Status.Namespaces = []string{"acme-web"}
	globex := testutil.Tenant("globex").Owner("carol").Viewer("alice").NodePool(map[string]string{"pool": "globex", "zone": "a"}).Obj()
	globex.Status.Namespaces = []string{"globex-prod"}
	return Build([]tenancyv1alpha1.Tenant{*acme, *globex}, render.DefaultSettings())
}

func TestTenantsOf(t *testing.T) {
	ix := index()
	for _, tc := range []struct {
		user   string
		groups []string
		want   []string
	}{
		{"alice", nil, []string{"acme", "globex"}},
		{"bob", []string{"system:authenticated", "devs"}, []string{"acme"}},
		{"system:serviceaccount:ci:deployer", nil, []string{"acme"}},
		{"system:serviceaccount:ci:other", nil, nil},
		{"system:serviceaccount:globex-prod:default", nil, []string{"globex"}},
		{"mallory", []string{"system:authenticated"}, nil},
		{"bob", []string{"devs"}, []string{"acme"}},
	} {
		if diff := cmp.Diff(tc.want, ix.TenantsOf(tc.user, tc.groups)); diff != "" {
			t.Errorf("TenantsOf(%s, %v) (-want +got):\n%s", tc.user, tc.groups, diff)
		}
	}
}

func labels(reqs ...metav1.LabelSelectorRequirement) *authorizationv1.LabelSelectorAttributes {
	return &authorizationv1.LabelSelectorAttributes{Requirements: reqs}
}

func in(key string, values ...string) metav1.LabelSelectorRequirement {
	return metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpIn, Values: values}
}

// TestAuthorize checks that exactly the selected reads are allowed, and
// that everything a hostile tenant would try next gets no opinion.
func TestAuthorize(t *testing.T) {
	ix := index()
	const tl = tenancyv1alpha1.TenantLabel
	tenants := tenancyv1alpha1.GroupVersion.Group
	name := func(v string) *authorizationv1.FieldSelectorAttributes {
		return &authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{{Key: "metadata.name", Operator: metav1.FieldSelectorOpIn, Values: []string{v}}}}
	}
	for _, tc := range []struct {
		name  string
		user  string
		attrs authorizationv1.ResourceAttributes
		want  bool
	}{
		{"own namespaces", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", LabelSelector: labels(in(tl, "globex"))}, true},
		{"watch own namespaces", "carol", authorizationv1.ResourceAttributes{Verb: "watch", Resource: "namespaces", LabelSelector: labels(in(tl, "globex"))}, true},
		{"both of two tenants", "alice", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", LabelSelector: labels(in(tl, "acme", "globex"))}, true},
		{"another tenant's", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", LabelSelector: labels(in(tl, "acme"))}, false},
		{"own and another's", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", LabelSelector: labels(in(tl, "globex", "acme"))}, false},
		{"not in: everything else", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", LabelSelector: labels(metav1.LabelSelectorRequirement{Key: tl, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"acme"}})}, false},
		{"exists: every tenant's", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", LabelSelector: labels(metav1.LabelSelectorRequirement{Key: tl, Operator: metav1.LabelSelectorOpExists})}, false},
		{"no selector", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces"}, false},
		{"a raw selector is never parsed", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", LabelSelector: &authorizationv1.LabelSelectorAttributes{RawSelector: tl + "=globex"}}, false},
		{"a look-alike label", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", LabelSelector: labels(in("tenant", "globex"))}, false},
		{"writes never", "carol", authorizationv1.ResourceAttributes{Verb: "deletecollection", Resource: "namespaces", LabelSelector: labels(in(tl, "globex"))}, false},
		{"a namespace's subresource never", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", Subresource: "finalize", LabelSelector: labels(in(tl, "globex"))}, false},
		{"someone in no tenant", "mallory", authorizationv1.ResourceAttributes{Verb: "list", Resource: "namespaces", LabelSelector: labels(in(tl, "globex"))}, false},
		{"the pool's nodes", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes", LabelSelector: labels(in("pool", "globex"), in("zone", "a"))}, true},
		{"half the pool's labels", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes", LabelSelector: labels(in("pool", "globex"))}, false},
		{"the pool widened", "carol", authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes", LabelSelector: labels(in("pool", "globex", "acme"), in("zone", "a"))}, false},
		{"a tenant without a pool", "bob", authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes", LabelSelector: labels(in("pool", "globex"), in("zone", "a"))}, false},
		{"own Tenant", "carol", authorizationv1.ResourceAttributes{Verb: "get", Group: tenants, Resource: "tenants", Name: "globex"}, true},
		{"another Tenant", "carol", authorizationv1.ResourceAttributes{Verb: "get", Group: tenants, Resource: "tenants", Name: "acme"}, false},
		{"own Tenant listed by name", "carol", authorizationv1.ResourceAttributes{Verb: "list", Group: tenants, Resource: "tenants", FieldSelector: name("globex")}, true},
		{"another Tenant listed by name", "carol", authorizationv1.ResourceAttributes{Verb: "list", Group: tenants, Resource: "tenants", FieldSelector: name("acme")}, false},
		{"own Tenant updated", "carol", authorizationv1.ResourceAttributes{Verb: "update", Group: tenants, Resource: "tenants", Name: "globex"}, false},
		{"own Tenant's status", "carol", authorizationv1.ResourceAttributes{Verb: "get", Group: tenants, Resource: "tenants", Subresource: "status", Name: "globex"}, false},
		{"own TenantUsage", "carol", authorizationv1.ResourceAttributes{Verb: "get", Group: tenants, Resource: "tenantusages", Name: "globex"}, true},
		{"another TenantUsage", "carol", authorizationv1.ResourceAttributes{Verb: "get", Group: tenants, Resource: "tenantusages", Name: "acme"}, false},
		{"own TenantUsage updated", "carol", authorizationv1.ResourceAttributes{Verb: "update", Group: tenants, Resource: "tenantusages", Subresource: "status", Name: "globex"}, false},
		{"a storage class the tenant may use", "bob", authorizationv1.ResourceAttributes{Verb: "get", Group: "storage.k8s.io", Resource: "storageclasses", Name: "fast"}, true},
		{"one it may not", "bob", authorizationv1.ResourceAttributes{Verb: "get", Group: "storage.k8s.io", Resource: "storageclasses", Name: "slow"}, false},
		{"every storage class, restricted", "bob", authorizationv1.ResourceAttributes{Verb: "list", Group: "storage.k8s.io", Resource: "storageclasses"}, false},
		{"storage classes by an allowed name", "bob", authorizationv1.ResourceAttributes{Verb: "list", Group: "storage.k8s.io", Resource: "storageclasses", FieldSelector: name("fast")}, true},
		{"storage classes by another name", "bob", authorizationv1.ResourceAttributes{Verb: "list", Group: "storage.k8s.io", Resource: "storageclasses", FieldSelector: name("slow")}, false},
		{"every storage class, unrestricted", "carol", authorizationv1.ResourceAttributes{Verb: "list", Group: "storage.k8s.io", Resource: "storageclasses"}, true},
		{"every runtime class, unrestricted", "carol", authorizationv1.ResourceAttributes{Verb: "list", Group: "node.k8s.io", Resource: "runtimeclasses"}, true},
		{"a storage class written to", "carol", authorizationv1.ResourceAttributes{Verb: "delete", Group: "storage.k8s.io", Resource: "storageclasses", Name: "fast"}, false},
		{"a tenant-named group elsewhere", "carol", authorizationv1.ResourceAttributes{Verb: "list", Group: "apps", Resource: "namespaces", LabelSelector: labels(in(tl, "globex"))}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := tc.attrs
			groups := []string{"system:authenticated"}
			if tc.user == "bob" {
				groups = append(groups, "devs")
			}
			got := Authorize(ix, authorizationv1.SubjectAccessReviewSpec{User: tc.user, Groups: groups, ResourceAttributes: &attrs})
			if got.Allowed != tc.want || got.Denied {
				t.Errorf("allowed %v denied %v (%s), want allowed %v and never denied", got.Allowed, got.Denied, got.Reason, tc.want)
			}
		})
	}
}

func TestSelectors(t *testing.T) {
	if got := And(NamespaceSelector([]string{"a", "b"}), "team=x"); got != "tenancy.bulkhead.dev/tenant in (a,b),team=x" {
		t.Errorf("And = %q", got)
	}
	if got := NodeSelector(map[string]string{"zone": "a", "pool": "p"}); got != "pool=p,zone=a" {
		t.Errorf("NodeSelector = %q", got)
	}
	if And("", "x") != "x" || And("x", "") != "x" {
		t.Error("And with an empty side")
	}
}
