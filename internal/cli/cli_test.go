package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/audit"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func world() client.Client {
	acme := testutil.Tenant("acme").Soft().Owner("alice").Group("devs").Obj()
	acme.Status.Namespaces = []string{"acme-api", "acme-web"}
	acme.Status.Conditions = []metav1.Condition{
		{Type: tenancyv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: tenancyv1alpha1.ReasonNotReady},
		{Type: tenancyv1alpha1.ConditionNetworkReady, Status: metav1.ConditionFalse, Reason: tenancyv1alpha1.ReasonApplyFailed},
	}
	globex := testutil.Tenant("globex").Hard().Owner("carol").Viewer("alice").Shares(20).Obj()
	globex.Status.Namespaces = []string{"globex-prod"}
	empty := testutil.Tenant("empty").Owner("erin").Obj()
	var objs []client.Object
	for _, t := range []*tenancyv1alpha1.Tenant{acme, globex, empty} {
		objs = append(objs, t)
		for _, ns := range t.Status.Namespaces {
			objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{tenancyv1alpha1.TenantLabel: t.Name}}})
		}
	}
	return fake.NewClientBuilder().WithScheme(scheme()).WithObjects(objs...).WithStatusSubresource(&tenancyv1alpha1.Tenant{}).Build()
}

// TestFindTarget checks how audit picks the tenant, the namespace and the
// other tenant's namespace, and the errors that say what to do instead.
func TestFindTarget(t *testing.T) {
	c := world()
	for _, tc := range []struct {
		name              string
		id                audit.Identity
		tenant, namespace string
		want              string // tenant/role/namespace/other
		wantErr           string
	}{
		{name: "owner by group, first namespace", id: audit.Identity{User: "x", Groups: []string{"devs"}}, want: "acme/owner/acme-api/globex-prod"},
		{name: "a namespace chosen", id: audit.Identity{User: "carol"}, namespace: "globex-prod", want: "globex/owner/globex-prod/acme-api"},
		{name: "in two tenants", id: audit.Identity{User: "alice"}, wantErr: "choose one with --tenant"},
		{name: "in two tenants, one chosen", id: audit.Identity{User: "alice"}, tenant: "globex", want: "globex/viewer/globex-prod/acme-api"},
		{name: "a tenant it is not in", id: audit.Identity{User: "carol"}, tenant: "acme", wantErr: "not in tenant acme"},
		{name: "in no tenant", id: audit.Identity{User: "mallory"}, wantErr: "is in no tenant"},
		{name: "a namespace not the tenant's", id: audit.Identity{User: "carol"}, namespace: "acme-web", wantErr: "not one of tenant globex's"},
		{name: "no namespace yet", id: audit.Identity{User: "erin"}, wantErr: "has no namespace to audit in yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findTarget(context.Background(), c, tc.id, tc.tenant, tc.namespace)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Tenant + "/" + string(got.Role) + "/" + got.Namespace + "/" + got.Other; s != tc.want {
				t.Errorf("target %s, want %s", s, tc.want)
			}
		})
	}
}

func TestTenantsOutput(t *testing.T) {
	var out bytes.Buffer
	o := &options{streams: genericiooptions.IOStreams{Out: &out}, output: "wide"}
	if err := o.printTenants(context.Background(), world()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"acme     Soft        2/10         False",
		"NetworkReady=ApplyFailed",
		"bulkhead-tenant-globex (20 shares)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	o.output = "json"
	if err := o.printTenants(context.Background(), world()); err != nil {
		t.Fatal(err)
	}
	list := &tenancyv1alpha1.TenantList{}
	if err := json.Unmarshal(out.Bytes(), list); err != nil || len(list.Items) != 3 || list.Items[0].Kind != "Tenant" {
		t.Errorf("json output: %v, %d items:\n%s", err, len(list.Items), out.String())
	}
}

func TestPriorityLevel(t *testing.T) {
	s := render.DefaultSettings()
	capped := testutil.Tenant("c").Owner("o").Shares(5).Obj()
	capped.Status.Conditions = []metav1.Condition{{Type: tenancyv1alpha1.ConditionFairnessReady, Reason: tenancyv1alpha1.ReasonLevelCapReached}}
	for _, tc := range []struct {
		t    *tenancyv1alpha1.Tenant
		want string
	}{
		{testutil.Tenant("a").Owner("o").Obj(), "bulkhead-tenants"},
		{testutil.Tenant("b").Owner("o").Shares(0).Obj(), "off"},
		{testutil.Tenant("b").Owner("o").Shares(7).Obj(), "bulkhead-tenant-b (7 shares)"},
		{capped, "bulkhead-tenants (cap reached)"},
	} {
		if got := priorityLevel(tc.t, render.Effective(tc.t, s)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.t.Name, got, tc.want)
		}
	}
}

func TestDescribePrint(t *testing.T) {
	tn := testutil.Tenant("acme").Hard().Owner("alice").TenantQuota(testutil.Quantities("pods", "10")).Obj()
	tn.Status.Namespaces = []string{"acme-web"}
	tn.Status.Usage = testutil.Quantities("pods", "3")
	d := Description{Tenant: tn, Effective: render.Effective(tn, render.DefaultSettings()),
		Quotas: []NamespaceQuota{{Namespace: "acme-web", Name: "bulkhead", Hard: testutil.Quantities("cpu", "2"), Used: testutil.Quantities("cpu", "500m")}}}
	var out bytes.Buffer
	if err := d.print(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Isolation:    Hard", "restricted", "pods       3      10", "acme-web    cpu        500m   2", "bulkhead-tenants"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("description lacks %q:\n%s", want, out.String())
		}
	}
}
