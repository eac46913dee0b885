package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func TestNamespace(t *testing.T) {
	pinned := DefaultSettings()
	pinned.PodSecurityVersion = "v1.30"

	tests := []struct {
		name     string
		tenant   *tenancyv1alpha1.Tenant
		settings *Settings // nil means DefaultSettings
		want     NamespaceMetadata
	}{
		{
			name:   "Soft is baseline at the pinned version",
			tenant: testutil.Tenant("acme").Owner("alice").Obj(),
			want: NamespaceMetadata{
				Labels: map[string]string{
					"tenancy.bulkhead.dev/tenant":                "acme",
					"pod-security.kubernetes.io/enforce":         "baseline",
					"pod-security.kubernetes.io/enforce-version": "v1.36",
					"pod-security.kubernetes.io/audit":           "baseline",
					"pod-security.kubernetes.io/audit-version":   "v1.36",
					"pod-security.kubernetes.io/warn":            "baseline",
					"pod-security.kubernetes.io/warn-version":    "v1.36",
				},
				Annotations: map[string]string{},
			},
		},
		{
			name:   "Hard is restricted",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().Obj(),
			want: NamespaceMetadata{
				Labels: map[string]string{
					"tenancy.bulkhead.dev/tenant":                "acme",
					"pod-security.kubernetes.io/enforce":         "restricted",
					"pod-security.kubernetes.io/enforce-version": "v1.36",
					"pod-security.kubernetes.io/audit":           "restricted",
					"pod-security.kubernetes.io/audit-version":   "v1.36",
					"pod-security.kubernetes.io/warn":            "restricted",
					"pod-security.kubernetes.io/warn-version":    "v1.36",
				},
				Annotations: map[string]string{},
			},
		},
		{
			name:     "an explicit security level and the settings' version are used",
			tenant:   testutil.Tenant("acme").Owner("alice").Hard().SecurityLevel(tenancyv1alpha1.SecurityBaseline).Obj(),
			settings: &pinned,
			want: NamespaceMetadata{
				Labels: map[string]string{
					"tenancy.bulkhead.dev/tenant":                "acme",
					"pod-security.kubernetes.io/enforce":         "baseline",
					"pod-security.kubernetes.io/enforce-version": "v1.30",
					"pod-security.kubernetes.io/audit":           "baseline",
					"pod-security.kubernetes.io/audit-version":   "v1.30",
					"pod-security.kubernetes.io/warn":            "baseline",
					"pod-security.kubernetes.io/warn-version":    "v1.30",
				},
				Annotations: map[string]string{},
			},
		},
		{
			name: "locked labels and annotations are stamped",
			tenant: testutil.Tenant("acme").Owner("alice").
				Labels(map[string]string{"team": "payments", "cost-center": "42"}).
				Annotations(map[string]string{"example.com/contact": "payments@example.com"}).
				Obj(),
			want: NamespaceMetadata{
				Labels: map[string]string{
					"team":                               "payments",
					"cost-center":                        "42",
					"tenancy.bulkhead.dev/tenant":        "acme",
					"pod-security.kubernetes.io/enforce": "baseline",
					"pod-security.kubernetes.io/enforce-version": "v1.36",
					"pod-security.kubernetes.io/audit":           "baseline",
					"pod-security.kubernetes.io/audit-version":   "v1.36",
					"pod-security.kubernetes.io/warn":            "baseline",
					"pod-security.kubernetes.io/warn-version":    "v1.36",
				},
				Annotations: map[string]string{"example.com/contact": "payments@example.com"},
			},
		},
		{
			// namespaces.labels must never move a namespace to another tenant
			// (network peers are chosen by the tenant label), claim a
			// tenant-wide quota the tenant does not have, nor loosen Pod
			// Security; keys Bulkhead decides are ignored (the CRD refuses
			// them; a Tenant stored before it did may still carry them).
			name: "locked labels cannot override the tenant label or Pod Security",
			tenant: testutil.Tenant("acme").Owner("alice").Hard().
				Annotations(map[string]string{"tenancy.bulkhead.dev/retained": "true", "example.com/contact": "x"}).
				Labels(map[string]string{
					"team":                                       "payments",
					"tenancy.bulkhead.dev/tenant":                "globex",
					"tenancy.bulkhead.dev/tenant-quota":          "true",
					"proxy.bulkhead.dev/anything":                "x",
					"pod-security.kubernetes.io/enforce":         "privileged",
					"pod-security.kubernetes.io/enforce-version": "latest",
					"pod-security.kubernetes.io/audit":           "privileged",
					"pod-security.kubernetes.io/audit-version":   "latest",
					"pod-security.kubernetes.io/warn":            "privileged",
					"pod-security.kubernetes.io/warn-version":    "latest",
				}).Obj(),
			want: NamespaceMetadata{
				Labels: map[string]string{
					"team":                                       "payments",
					"tenancy.bulkhead.dev/tenant":                "acme",
					"pod-security.kubernetes.io/enforce":         "restricted",
					"pod-security.kubernetes.io/enforce-version": "v1.36",
					"pod-security.kubernetes.io/audit":           "restricted",
					"pod-security.kubernetes.io/audit-version":   "v1.36",
					"pod-security.kubernetes.io/warn":            "restricted",
					"pod-security.kubernetes.io/warn-version":    "v1.36",
				},
				Annotations: map[string]string{"example.com/contact": "x"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			if tc.settings != nil {
				s = *tc.settings
			}
			got := Namespace(NewScope(tc.tenant, nil, s))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Namespace() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNamespaceDoesNotAliasSpec guards against the rendered maps sharing
// storage with the Tenant: a caller adding a label to a namespace must not
// change the Tenant it came from.
func TestNamespaceDoesNotAliasSpec(t *testing.T) {
	tenant := testutil.Tenant("acme").Owner("alice").
		Labels(map[string]string{"team": "payments"}).
		Annotations(map[string]string{"note": "x"}).Obj()
	md := Namespace(NewScope(tenant, nil, DefaultSettings()))
	md.Labels["extra"] = "1"
	md.Annotations["extra"] = "1"
	want := testutil.Tenant("acme").Owner("alice").
		Labels(map[string]string{"team": "payments"}).
		Annotations(map[string]string{"note": "x"}).Obj()
	if diff := cmp.Diff(want, tenant); diff != "" {
		t.Errorf("Tenant changed through rendered metadata (-want +got):\n%s", diff)
	}
}

func TestIsPodSecurityLabel(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"pod-security.kubernetes.io/enforce", true},
		{"pod-security.kubernetes.io/warn-version", true},
		{"tenancy.bulkhead.dev/tenant", false},
		{"example.com/pod-security.kubernetes.io/enforce", false},
		{"pod-security.kubernetes.io", false},
	}
	for _, tc := range tests {
		if got := IsPodSecurityLabel(tc.key); got != tc.want {
			t.Errorf("IsPodSecurityLabel(%q) = %t, want %t", tc.key, got, tc.want)
		}
	}
}

func TestNamespaceOwner(t *testing.T) {
	tenants := []string{"a", "a-b", "ab", "kube", "a-b-c-d"}
	for name, want := range map[string]string{
		"a-x":       "a",
		"a-b":       "a", // "a-b" itself is a name of tenant a: tenant a-b's names start with "a-b-"
		"a-b-db":    "a-b",
		"a-b-c-db":  "a-b",
		"a-b-c-d-x": "a-b-c-d",
		"ab-x":      "ab",
		"abc":       "",
		"b-a-x":     "",
		"":          "",
	} {
		if got := NamespaceOwner(name, tenants); got != want {
			t.Errorf("NamespaceOwner(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestNamespacePrefix(t *testing.T) {
	if diff := cmp.Diff("acme-", NamespacePrefix("acme")); diff != "" {
		t.Errorf("NamespacePrefix() mismatch (-want +got):\n%s", diff)
	}
}

func TestReleasePatch(t *testing.T) {
	s := DefaultSettings()
	tn := testutil.Tenant("acme").Owner("alice").
		Labels(map[string]string{"cost": "1"}).Annotations(map[string]string{"team": "a"}).Obj()
	stamped := Namespace(NewScope(tn, nil, s))
	current := map[string]string{
		"tenancy.bulkhead.dev/tenant":                "acme",
		"pod-security.kubernetes.io/enforce":         "baseline",
		"pod-security.kubernetes.io/enforce-version": "v1.36",
		"pod-security.kubernetes.io/audit":           "baseline",
		"pod-security.kubernetes.io/audit-version":   "v1.36",
		// An admin has since chosen another warn level: that label is theirs.
		"pod-security.kubernetes.io/warn":         "restricted",
		"pod-security.kubernetes.io/warn-version": "v1.36",
		"cost":                        "1",
		"kubernetes.io/metadata.name": "acme-dev",
		"app":                         "web",
	}
	want := map[string]any{"metadata": map[string]any{
		"labels": map[string]any{
			"tenancy.bulkhead.dev/tenant":                nil,
			"pod-security.kubernetes.io/enforce":         nil,
			"pod-security.kubernetes.io/enforce-version": nil,
			"pod-security.kubernetes.io/audit":           nil,
			"pod-security.kubernetes.io/audit-version":   nil,
			"pod-security.kubernetes.io/warn-version":    nil,
			"cost": nil,
		},
		"annotations": map[string]any{"team": nil},
	}}
	if diff := cmp.Diff(want, ReleasePatch(current, stamped)); diff != "" {
		t.Errorf("ReleasePatch (-want +got):\n%s", diff)
	}
}
