package render

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

func fairnessTenant(name string, shares *int32, owners ...tenancyv1alpha1.Subject) *tenancyv1alpha1.Tenant {
	return &tenancyv1alpha1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
		Spec: tenancyv1alpha1.TenantSpec{
			Owners:      owners,
			APIFairness: tenancyv1alpha1.APIFairnessSpec{Shares: shares},
		},
	}
}

func user(name string) tenancyv1alpha1.Subject {
	return tenancyv1alpha1.Subject{Kind: tenancyv1alpha1.SubjectUser, Name: name}
}

func group(name string) tenancyv1alpha1.Subject {
	return tenancyv1alpha1.Subject{Kind: tenancyv1alpha1.SubjectGroup, Name: name}
}

func serviceAccount(namespace, name string) tenancyv1alpha1.Subject {
	return tenancyv1alpha1.Subject{Kind: tenancyv1alpha1.SubjectServiceAccount, Namespace: namespace, Name: name}
}

// keys writes subjects as subjectKey does, for readable diffs.
func keys(subjects []flowcontrolv1.Subject) []string {
	out := make([]string, 0, len(subjects))
	for _, s := range subjects {
		out = append(out, subjectKey(s))
	}
	return out
}

// TestFairnessSubjects checks whom a tenant's FlowSchema matches: its
// people and its namespaces' service accounts, and never an identity whose
// requests are not the tenant's alone.
func TestFairnessSubjects(t *testing.T) {
	s := DefaultSettings()
	s.AdminGroups = append(s.AdminGroups, "platform-admins")
	for _, tc := range []struct {
		name       string
		owners     []tenancyv1alpha1.Subject
		members    []tenancyv1alpha1.Subject
		namespaces []string
		want       []string
	}{
		{
			name:       "people and every service account of each namespace, sorted",
			owners:     []tenancyv1alpha1.Subject{user("alice"), group("acme-devs")},
			members:    []tenancyv1alpha1.Subject{serviceAccount("ci", "deployer")},
			namespaces: []string{"acme-web", "acme-api"},
			want: []string{
				"Group acme-devs", "ServiceAccount acme-api/*", "ServiceAccount acme-web/*",
				"ServiceAccount ci/deployer", "User alice",
			},
		},
		{
			name:    "the same subject in two roles is matched once",
			owners:  []tenancyv1alpha1.Subject{user("alice")},
			members: []tenancyv1alpha1.Subject{user("alice"), serviceAccount("acme-web", "*")},
			// acme-web/* from the namespace and from members: once.
			namespaces: []string{"acme-web"},
			want:       []string{"ServiceAccount acme-web/*", "User alice"},
		},
		{
			name: "system identities and groups never: they would capture the control plane or everyone",
			owners: []tenancyv1alpha1.Subject{
				user("system:kube-scheduler"), user("system:serviceaccount:acme-web:default"),
				group("system:authenticated"), group("system:serviceaccounts"), group("system:masters"),
				user("bob"),
			},
			want: []string{"User bob"},
		},
		{
			name:   "cluster-admin groups never: an admin is not queued behind a tenant",
			owners: []tenancyv1alpha1.Subject{group("platform-admins"), user("carol")},
			want:   []string{"User carol"},
		},
		{
			name:       "service accounts of system namespaces and of Bulkhead never",
			owners:     []tenancyv1alpha1.Subject{serviceAccount("kube-system", "*"), serviceAccount("bulkhead-system", "bulkhead-manager"), user("dave")},
			namespaces: []string{"kube-system", "dave-one"},
			want:       []string{"ServiceAccount dave-one/*", "User dave"},
		},
		{
			name:   "nothing left to match",
			owners: []tenancyv1alpha1.Subject{group("system:authenticated")},
			want:   []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := fairnessTenant("acme", nil, tc.owners...)
			tn.Spec.Members = tc.members
			sc := NewScope(tn, tc.namespaces, s)
			if diff := cmp.Diff(tc.want, keys(FairnessSubjects(sc))); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFairness checks what each value of apiFairness.shares renders.
func TestFairness(t *testing.T) {
	s := DefaultSettings()
	for _, tc := range []struct {
		name      string
		shares    *int32
		dedicated bool
		owners    []tenancyv1alpha1.Subject
		wantLevel string // the FlowSchema's level; "" when none is rendered
		wantOwn   int32  // shares of the tenant's own level; 0 when none
	}{
		{name: "unset: one flow of the shared level", owners: []tenancyv1alpha1.Subject{user("alice")}, wantLevel: TenantsPriorityLevel},
		{name: "shares within the cap: a level of its own", shares: ptr.To[int32](25), dedicated: true, owners: []tenancyv1alpha1.Subject{user("alice")}, wantLevel: "bulkhead-tenant-acme", wantOwn: 25},
		{name: "shares past the cap: the shared level", shares: ptr.To[int32](25), owners: []tenancyv1alpha1.Subject{user("alice")}, wantLevel: TenantsPriorityLevel},
		{name: "0: off, nothing rendered", shares: ptr.To[int32](0), dedicated: true, owners: []tenancyv1alpha1.Subject{user("alice")}},
		{name: "no subject to match: nothing rendered", owners: []tenancyv1alpha1.Subject{group("system:authenticated")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := NewScope(fairnessTenant("acme", tc.shares, tc.owners...), nil, s)
			var level string
			var own int32
			for _, obj := range Fairness(sc, tc.dedicated) {
				if diff := cmp.Diff(ManagedLabels("acme", ConcernFairness), obj.GetLabels()); diff != "" {
					t.Errorf("%s labels (-want +got):\n%s", obj.GetName(), diff)
				}
				if len(obj.GetOwnerReferences()) != 1 || obj.GetOwnerReferences()[0].UID != "uid-acme" {
					t.Errorf("%s is not owned by the Tenant: %v", obj.GetName(), obj.GetOwnerReferences())
				}
				switch o := obj.(type) {
				case *flowcontrolv1.FlowSchema:
					level = o.Spec.PriorityLevelConfiguration.Name
					if o.Spec.DistinguisherMethod != nil {
						t.Errorf("FlowSchema has distinguisher %v: the tenant would be many flows, one per user", o.Spec.DistinguisherMethod)
					}
					if p := o.Spec.MatchingPrecedence; p < FairnessBandStart || p > FairnessBandEnd {
						t.Errorf("precedence %d outside the band [%d, %d]", p, FairnessBandStart, FairnessBandEnd)
					}
					r := o.Spec.Rules[0]
					if len(r.ResourceRules) != 1 || !r.ResourceRules[0].ClusterScope || r.ResourceRules[0].Namespaces[0] != "*" || len(r.NonResourceRules) != 1 {
						t.Errorf("rules do not match every request of the subjects: %+v", r)
					}
				case *flowcontrolv1.PriorityLevelConfiguration:
					own = *o.Spec.Limited.NominalConcurrencyShares
					if *o.Spec.Limited.LendablePercent != 0 {
						t.Errorf("a dedicated level lends %d%%: its capacity would not be guaranteed", *o.Spec.Limited.LendablePercent)
					}
				default:
					t.Errorf("unexpected %T", obj)
				}
			}
			if level != tc.wantLevel || own != tc.wantOwn {
				t.Errorf("level %q with own shares %d, want %q with %d", level, own, tc.wantLevel, tc.wantOwn)
			}
		})
	}
}

// TestSharedObjects checks the objects every tenant shares: the level's
// shares follow the settings and it queues, and the admins' schema exists
// only for admin groups fair queuing does not exempt already, ahead of
// every tenant.
func TestSharedObjects(t *testing.T) {
	s := DefaultSettings()
	s.TenantPriorityShares = 70
	level := SharedPriorityLevel(s)
	if level.Name != TenantsPriorityLevel || *level.Spec.Limited.NominalConcurrencyShares != 70 {
		t.Errorf("shared level %s with %d shares, want %s with 70", level.Name, *level.Spec.Limited.NominalConcurrencyShares, TenantsPriorityLevel)
	}
	if level.Spec.Limited.LimitResponse.Type != flowcontrolv1.LimitResponseTypeQueue {
		t.Errorf("shared level rejects rather than queues: no fair queuing among tenants")
	}
	if fs := AdminsFlowSchemaFor(s); fs != nil {
		t.Errorf("admins FlowSchema rendered for system:masters alone, which is exempt already: %v", keys(fs.Spec.Rules[0].Subjects))
	}
	s.AdminGroups = append(s.AdminGroups, "platform-admins")
	fs := AdminsFlowSchemaFor(s)
	if fs == nil {
		t.Fatal("no admins FlowSchema for platform-admins")
	}
	if diff := cmp.Diff([]string{"Group platform-admins"}, keys(fs.Spec.Rules[0].Subjects)); diff != "" {
		t.Errorf("admins subjects (-want +got):\n%s", diff)
	}
	if fs.Spec.MatchingPrecedence >= TenantPrecedence || fs.Spec.MatchingPrecedence < FairnessBandStart {
		t.Errorf("admins precedence %d is not in the band ahead of the tenants' %d", fs.Spec.MatchingPrecedence, TenantPrecedence)
	}
}

// TestDedicatedLevels checks which tenants get a level of their own: the
// oldest asking, by creation then name, within the cap; a tenant being
// deleted frees its place.
func TestDedicatedLevels(t *testing.T) {
	at := func(name string, minute int, shares *int32) tenancyv1alpha1.Tenant {
		tn := fairnessTenant(name, shares)
		tn.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC))
		return *tn
	}
	deleting := at("d", 0, ptr.To[int32](5))
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	tenants := []tenancyv1alpha1.Tenant{
		at("young", 9, ptr.To[int32](5)),
		at("b", 1, ptr.To[int32](5)),
		at("a", 1, ptr.To[int32](5)),
		at("shared", 0, nil),
		at("off", 0, ptr.To[int32](0)),
		deleting,
	}
	for _, tc := range []struct {
		max  int
		want map[string]bool
	}{
		{max: 0, want: map[string]bool{}},
		{max: 1, want: map[string]bool{"a": true}},
		{max: 2, want: map[string]bool{"a": true, "b": true}},
		{max: 10, want: map[string]bool{"a": true, "b": true, "young": true}},
	} {
		if diff := cmp.Diff(tc.want, DedicatedLevels(tenants, tc.max)); diff != "" {
			t.Errorf("cap %d (-want +got):\n%s", tc.max, diff)
		}
	}
}
