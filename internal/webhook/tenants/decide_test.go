package tenants

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func ns(name, tenant string) corev1.Namespace {
	n := corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if tenant != "" {
		n.Labels = map[string]string{tenancyv1alpha1.TenantLabel: tenant}
	}
	return n
}

func TestDecideCreate(t *testing.T) {
	s := render.DefaultSettings()
	tenants := []tenancyv1alpha1.Tenant{
		*testutil.Tenant("a").Owner("anna").Obj(),
		*testutil.Tenant("acme").Owner("alice").Obj(),
		*testutil.Tenant("x-y").Owner("xavier").Obj(),
	}
	terminating := ns("a-c-old", "a")
	terminating.DeletionTimestamp = &metav1.Time{}
	namespaces := []corev1.Namespace{
		ns("kube-system", ""), ns("kube-public", ""), ns("default", ""), ns("bulkhead-system", ""),
		ns("a-b-db", "a"), ns("a-b-web", "a"), ns("a-b-x", "a"), ns("a-b-y", "a"),
		ns("a-c-db", "a"), terminating,
		ns("acme-dev", "acme"), ns("x-y-z-db", "x-y"),
		ns("legacy-app", "acme"), // adopted by an admin, though named like tenant "legacy"
		ns("default-tools", ""), ns("ready-1", "ready"),
	}
	fix := "Choose another tenant name"
	for _, tc := range []struct {
		tenant string
		want   []string // empty: allowed
	}{
		{tenant: "b"},
		{tenant: "a-c-d"},
		{tenant: "kubeflow"},
		// x-y-z-db belongs to x-y; a new tenant x takes no name of x-y's.
		{tenant: "x"},
		// Its namespace is already labelled for it: an admin adopted it ahead.
		{tenant: "ready"},
		// A terminating namespace is going away and takes nothing new.
		{tenant: "a-c-o"},
		{tenant: "a-b", want: []string{`prefix "a-b-"`, "a-b-db (tenant a), a-b-web (tenant a), a-b-x (tenant a) and 1 more",
			"delete them, or label them tenancy.bulkhead.dev/tenant=a-b to hand them to the new tenant"}},
		{tenant: "a-c", want: []string{"a-c-db (tenant a)"}},
		{tenant: "x-y-z", want: []string{"x-y-z-db (tenant x-y)"}},
		{tenant: "legacy", want: []string{"legacy-app (tenant acme)"}},
		{tenant: "kube", want: []string{`"kube-"`, "the names Kubernetes keeps for itself", `does not start with "kube-"`}},
		{tenant: "kube-x", want: []string{"the names Kubernetes keeps for itself"}},
		{tenant: "bulkhead", want: []string{"covers the system namespaces bulkhead-system"}},
		{tenant: "default", want: []string{"namespaces outside any tenant: default-tools", "label them tenancy.bulkhead.dev/tenant=default"}},
	} {
		t.Run(tc.tenant, func(t *testing.T) {
			d := DecideCreate(testutil.Tenant(tc.tenant).Owner("o").Obj(), tenants, namespaces, s)
			if len(tc.want) == 0 {
				if !d.Allowed {
					t.Fatalf("denied: %s", d.Message)
				}
				return
			}
			if d.Allowed {
				t.Fatal("allowed, want a denial")
			}
			want := append([]string{"tenant " + tc.tenant + ": ", "[rule " + RuleName + "]. "}, tc.want...)
			if !strings.HasPrefix(d.Message, want[0]) {
				t.Errorf("message %q does not start with the tenant", d.Message)
			}
			if !strings.Contains(d.Message, "[rule "+RuleName+"]. Choose a") && !strings.Contains(d.Message, "[rule "+RuleName+"]. "+fix) {
				t.Errorf("message %q does not say how to fix it", d.Message)
			}
			for _, w := range want {
				if !strings.Contains(d.Message, w) {
					t.Errorf("message %q lacks %q", d.Message, w)
				}
			}
		})
	}
}

// TestSystemNamespacesFromSettings: the system namespaces are the
// settings', not a fixed list, and count whether or not they exist.
func TestSystemNamespacesFromSettings(t *testing.T) {
	s := render.DefaultSettings()
	s.SystemNamespaces = append(s.SystemNamespaces, "ops-monitoring")
	d := DecideCreate(testutil.Tenant("ops").Owner("o").Obj(), nil, nil, s)
	if d.Allowed || !strings.Contains(d.Message, "covers the system namespaces ops-monitoring [rule tenant.name]. Choose another tenant name") {
		t.Fatalf("allowed=%v %q, want the system namespace denial", d.Allowed, d.Message)
	}
}
