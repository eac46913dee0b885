package audit

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// tenant builds a Tenant with owners (users) and the profile given; the
// package cannot use testutil's builder, which builds pods with this one.
func tenant(name string, isolation tenancyv1alpha1.IsolationLevel, owners ...string) *tenancyv1alpha1.Tenant {
	t := &tenancyv1alpha1.Tenant{}
	t.Name = name
	t.Spec.Isolation = isolation
	for _, o := range owners {
		t.Spec.Owners = append(t.Spec.Owners, user(o))
	}
	return t
}

func user(name string) tenancyv1alpha1.Subject {
	return tenancyv1alpha1.Subject{Kind: tenancyv1alpha1.SubjectUser, Name: name}
}

func TestRoleIn(t *testing.T) {
	tn := tenant("acme", tenancyv1alpha1.IsolationSoft, "alice")
	tn.Spec.Owners = append(tn.Spec.Owners,
		tenancyv1alpha1.Subject{Kind: tenancyv1alpha1.SubjectGroup, Name: "acme-admins"},
		tenancyv1alpha1.Subject{Kind: tenancyv1alpha1.SubjectServiceAccount, Namespace: "ci", Name: "deployer"})
	tn.Spec.Members = []tenancyv1alpha1.Subject{user("bob"), {Kind: tenancyv1alpha1.SubjectServiceAccount, Namespace: "tools", Name: "*"}}
	tn.Spec.Viewers = []tenancyv1alpha1.Subject{user("vera")}
	namespaces := []string{"acme-web"}
	for _, tc := range []struct {
		name string
		id   Identity
		role Role
		via  string
	}{
		{"owner by name", Identity{User: "alice"}, RoleOwner, "User alice"},
		{"owner by group", Identity{User: "carl", Groups: []string{"system:authenticated", "acme-admins"}}, RoleOwner, "Group acme-admins"},
		{"the strongest role wins", Identity{User: "bob", Groups: []string{"acme-admins"}}, RoleOwner, "Group acme-admins"},
		{"member", Identity{User: "bob"}, RoleMember, "User bob"},
		{"viewer", Identity{User: "vera"}, RoleViewer, "User vera"},
		{"service account named", Identity{User: "system:serviceaccount:ci:deployer"}, RoleOwner, "ServiceAccount ci/deployer"},
		{"every service account of a namespace named with *", Identity{User: "system:serviceaccount:tools:any"}, RoleMember, "ServiceAccount tools/*"},
		{"a workload of a tenant namespace", Identity{User: "system:serviceaccount:acme-web:default"}, RoleMember, "ServiceAccount of namespace acme-web"},
		{"a stranger", Identity{User: "mallory", Groups: []string{"system:authenticated"}}, "", ""},
		{"a service account elsewhere", Identity{User: "system:serviceaccount:other:default"}, "", ""},
		{"a user whose name looks like a service account but is malformed", Identity{User: "system:serviceaccount:acme-web"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role, via, ok := RoleIn(tn.Spec, namespaces, tc.id)
			if role != tc.role || via != tc.via || ok != (tc.role != "") {
				t.Errorf("RoleIn = %q, %q, %v; want %q, %q", role, via, ok, tc.role, tc.via)
			}
		})
	}
}

func TestMemberships(t *testing.T) {
	a := tenant("a", tenancyv1alpha1.IsolationSoft, "alice")
	b := tenant("b", tenancyv1alpha1.IsolationSoft, "bob")
	b.Spec.Viewers = []tenancyv1alpha1.Subject{user("alice")}
	c := tenant("c", tenancyv1alpha1.IsolationSoft, "carol")
	got := Memberships([]tenancyv1alpha1.Tenant{*c, *b, *a}, Identity{User: "alice"})
	want := []Membership{{Tenant: "a", Role: RoleOwner, Via: "User alice"}, {Tenant: "b", Role: RoleViewer, Via: "User alice"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("memberships (-want +got):\n%s", diff)
	}
}

// TestApplies checks which checks each profile and role is held to: the
// Hard profile promises them all, the Soft one not the restricted-only
// ones, and a role that cannot try a check is not failed for it.
func TestApplies(t *testing.T) {
	s := render.DefaultSettings()
	hard := render.Effective(tenant("h", tenancyv1alpha1.IsolationHard, "o"), s)
	soft := render.Effective(tenant("s", tenancyv1alpha1.IsolationSoft, "o"), s)
	na := func(spec tenancyv1alpha1.TenantSpec, role Role, other string) []string {
		var out []string
		for _, id := range CheckIDs() {
			if Applies(id, Target{Spec: spec, Role: role, Namespace: "ns", Other: other}) != "" {
				out = append(out, id)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		spec  tenancyv1alpha1.TenantSpec
		role  Role
		other string
		want  []string
	}{
		{"Hard owner: every check", hard, RoleOwner, "x-a", nil},
		{"Hard owner, no other tenant", hard, RoleOwner, "", []string{"PL1-CC-TI-2"}},
		{"Soft owner: not the restricted, quota and pull-policy checks", soft, RoleOwner, "x-a",
			[]string{"PL1-BC-CPI-4", "PL1-BC-CPI-6", "PL1-CC-FNS-1", "PL1-CC-FNS-2", "PL1-CC-DI-1"}},
		{"Hard member: not the owners' RBAC checks", hard, RoleMember, "x-a", []string{"PL2-BC-OPS-3", "PL2-BC-OPS-4"}},
		{"Hard viewer: creates nothing", hard, RoleViewer, "x-a", []string{
			"PL1-BC-CPI-3", "PL1-BC-CPI-4", "PL1-BC-CPI-5", "PL1-BC-CPI-6", "PL1-BC-HI-1", "PL1-BC-HI-2",
			"PL1-BC-HI-3", "PL1-BC-HI-4", "PL1-BC-HI-5", "PL1-CC-DI-1", "PL2-BC-OPS-3", "PL2-BC-OPS-4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, na(tc.spec, tc.role, tc.other)); diff != "" {
				t.Errorf("N/A checks (-want +got):\n%s", diff)
			}
		})
	}
	if len(CheckIDs()) != 19 {
		t.Errorf("%d checks; the Multi-Tenancy Benchmarks have 19", len(CheckIDs()))
	}
}

// TestJudgeRefusal checks that only a refusal for the reason checked
// passes: a quota or a missing service account is inconclusive.
func TestJudgeRefusal(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	for _, tc := range []struct {
		name string
		err  error
		want Status
	}{
		{"admitted", nil, Fail},
		{"Pod Security naming the field", apierrors.NewForbidden(pods, "x", errors.New(`violates PodSecurity "restricted:v1.36": host namespaces (hostPID=true)`)), Pass},
		{"Pod Security for another field", apierrors.NewForbidden(pods, "x", errors.New(`violates PodSecurity "restricted:v1.36": seccompProfile`)), Error},
		{"a Bulkhead rule", apierrors.NewForbidden(pods, "x", errors.New(`tenant acme: [rule pods.host] pods may not share the node's PID namespace`)), Pass},
		{"a quota", apierrors.NewForbidden(pods, "x", errors.New(`exceeded quota: bulkhead, requested: pods=1, used: pods=10, limited: pods=10`)), Error},
		{"a missing service account", apierrors.NewForbidden(pods, "x", errors.New(`error looking up service account ns/default: serviceaccount "default" not found`)), Error},
		{"not even Forbidden", fmt.Errorf("connection refused"), Error},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := judgeRefusal(tc.err, "hostPID=true"); got != tc.want {
				t.Errorf("judgeRefusal = %s (%s), want %s", got, why, tc.want)
			}
		})
	}
}

func TestReason(t *testing.T) {
	for msg, want := range map[string]string{
		`pods "p" is forbidden: violates PodSecurity "baseline:v1.36": host namespaces (hostPID=true)`:                                                                                        `PodSecurity "baseline:v1.36": host namespaces (hostPID=true)`,
		`services "x" is forbidden: ValidatingAdmissionPolicy 'bulkhead-services' with binding 'bulkhead-services' denied request: tenant g: type NodePort [rule services.allowedTypes]. Fix`: `tenant g: type NodePort [rule services.allowedTypes]. Fix`,
		"exceeded quota\nsecond line": "exceeded quota",
	} {
		if got := reason(msg); got != want {
			t.Errorf("reason(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestSummarise(t *testing.T) {
	if got := summarise([]string{"b", "a"}); got != "a; b" {
		t.Errorf("summarise = %q", got)
	}
	got := summarise(strings.Split("g f e d c b a", " "))
	if got != "a; b; c; d; e; and 2 more" {
		t.Errorf("summarise = %q", got)
	}
}

func TestCompliantPod(t *testing.T) {
	p := CompliantPod("ns", "p", "img", func(p *corev1.Pod) { p.Spec.HostPID = true })
	if !p.Spec.HostPID || p.Spec.Containers[0].Image != "img" || !*p.Spec.SecurityContext.RunAsNonRoot {
		t.Errorf("CompliantPod did not apply the edit or lost its defaults: %+v", p.Spec)
	}
}
