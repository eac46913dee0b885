package keeper

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// TestDesired checks the set the keeper keeps: every object labelled so
// that its watch sees it, each once, the mutating policies only where they
// are served (the webhook's defaults otherwise), and the webhook
// configurations only with a CA to trust the webhook by.
func TestDesired(t *testing.T) {
	s := render.DefaultSettings()
	scheme := clientgoscheme.Scheme
	endpoint := bwebhook.Endpoint{URL: "https://localhost:9443"}
	ca := []byte("ca")
	admins := render.DefaultSettings()
	admins.AdminGroups = append(admins.AdminGroups, "platform-admins")
	for _, tc := range []struct {
		name          string
		in            Inputs
		wantKinds     map[string]int
		wantFallback  bool
		wantConfigsCA bool
	}{
		{
			name: "served",
			in:   Inputs{Settings: s, MutatingPoliciesServed: true, Endpoint: endpoint, CABundle: ca},
			wantKinds: map[string]int{
				"MutatingWebhookConfiguration": 1, "ValidatingWebhookConfiguration": 1,
				"ClusterRole":                      len(render.ClusterRoles(s)),
				"PriorityLevelConfiguration":       1,
				"ValidatingAdmissionPolicy":        countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicy"),
				"ValidatingAdmissionPolicyBinding": countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicyBinding"),
				"MutatingAdmissionPolicy":          countKind(t, render.MutatingPolicies(s), "MutatingAdmissionPolicy"),
				"MutatingAdmissionPolicyBinding":   countKind(t, render.MutatingPolicies(s), "MutatingAdmissionPolicyBinding"),
			},
			wantConfigsCA: true,
		},
		{
			name: "not served: the webhook serves the defaults",
			in:   Inputs{Settings: s, MutatingPoliciesServed: false, Endpoint: endpoint, CABundle: ca},
			wantKinds: map[string]int{
				"MutatingWebhookConfiguration": 1, "ValidatingWebhookConfiguration": 1,
				"ClusterRole":                      len(render.ClusterRoles(s)),
				"PriorityLevelConfiguration":       1,
				"ValidatingAdmissionPolicy":        countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicy"),
				"ValidatingAdmissionPolicyBinding": countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicyBinding"),
			},
			wantFallback: true, wantConfigsCA: true,
		},
		{
			name: "discovery failed: what depends on the answer is left as it is",
			in:   Inputs{Settings: s, MutatingPoliciesServed: false, MutatingPoliciesUnknown: true, Endpoint: endpoint, CABundle: ca},
			wantKinds: map[string]int{
				"ValidatingWebhookConfiguration":   1,
				"ClusterRole":                      len(render.ClusterRoles(s)),
				"PriorityLevelConfiguration":       1,
				"ValidatingAdmissionPolicy":        countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicy"),
				"ValidatingAdmissionPolicyBinding": countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicyBinding"),
			},
			wantConfigsCA: true,
		},
		{
			name: "an admin group besides system:masters: kept out of tenants' flows",
			in:   Inputs{Settings: admins, MutatingPoliciesServed: true, Endpoint: endpoint, CABundle: ca},
			wantKinds: map[string]int{
				"MutatingWebhookConfiguration": 1, "ValidatingWebhookConfiguration": 1,
				"ClusterRole":                      len(render.ClusterRoles(s)),
				"PriorityLevelConfiguration":       1,
				"FlowSchema":                       1,
				"ValidatingAdmissionPolicy":        countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicy"),
				"ValidatingAdmissionPolicyBinding": countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicyBinding"),
				"MutatingAdmissionPolicy":          countKind(t, render.MutatingPolicies(s), "MutatingAdmissionPolicy"),
				"MutatingAdmissionPolicyBinding":   countKind(t, render.MutatingPolicies(s), "MutatingAdmissionPolicyBinding"),
			},
			wantConfigsCA: true,
		},
		{
			name: "no CA: the configurations are left as they are",
			in:   Inputs{Settings: s, MutatingPoliciesServed: true, Endpoint: endpoint},
			wantKinds: map[string]int{
				"ClusterRole":                      len(render.ClusterRoles(s)),
				"PriorityLevelConfiguration":       1,
				"ValidatingAdmissionPolicy":        countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicy"),
				"ValidatingAdmissionPolicyBinding": countKind(t, render.ValidatingPolicies(s), "ValidatingAdmissionPolicyBinding"),
				"MutatingAdmissionPolicy":          countKind(t, render.MutatingPolicies(s), "MutatingAdmissionPolicy"),
				"MutatingAdmissionPolicyBinding":   countKind(t, render.MutatingPolicies(s), "MutatingAdmissionPolicyBinding"),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := Desired(tc.in)
			kinds := map[string]int{}
			seen := map[string]bool{}
			for _, obj := range objs {
				gvk, err := apiutil.GVKForObject(obj, scheme)
				if err != nil {
					t.Fatal(err)
				}
				kinds[gvk.Kind]++
				key := gvk.Kind + "/" + obj.GetName()
				if seen[key] {
					t.Errorf("%s is kept twice", key)
				}
				seen[key] = true
				if obj.GetLabels()[tenancyv1alpha1.ManagedByLabel] != tenancyv1alpha1.ManagedByValue {
					t.Errorf("%s lacks the label %s=%s: the keeper's watch would not see it", key, tenancyv1alpha1.ManagedByLabel, tenancyv1alpha1.ManagedByValue)
				}
				if obj.GetNamespace() != "" {
					t.Errorf("%s is namespaced; the keeper keeps cluster-wide objects", key)
				}
				switch o := obj.(type) {
				case *admissionregistrationv1.MutatingWebhookConfiguration:
					fallback := false
					for _, w := range o.Webhooks {
						fallback = fallback || w.Name == "defaults.tenancy.bulkhead.dev"
						if string(w.ClientConfig.CABundle) != string(tc.in.CABundle) {
							t.Errorf("webhook %s carries CA %q, want %q", w.Name, w.ClientConfig.CABundle, tc.in.CABundle)
						}
					}
					if fallback != tc.wantFallback {
						t.Errorf("defaults webhook present = %v, want %v", fallback, tc.wantFallback)
					}
				case *admissionregistrationv1.ValidatingWebhookConfiguration:
					for _, w := range o.Webhooks {
						if string(w.ClientConfig.CABundle) != string(tc.in.CABundle) {
							t.Errorf("webhook %s carries CA %q, want %q", w.Name, w.ClientConfig.CABundle, tc.in.CABundle)
						}
					}
				}
			}
			if diff := cmp.Diff(tc.wantKinds, kinds); diff != "" {
				t.Errorf("kinds kept (-want +got):\n%s", diff)
			}
			// The configurations come first: a namespace created while the
			// policies load is already sent to the webhook.
			if tc.wantConfigsCA && objs[0].GetName() != bwebhook.ConfigurationName {
				t.Errorf("the webhook configurations are not applied first")
			}
		})
	}
}

func countKind(t *testing.T, objs []client.Object, kind string) int {
	t.Helper()
	n := 0
	for _, obj := range objs {
		gvk, err := apiutil.GVKForObject(obj, clientgoscheme.Scheme)
		if err != nil {
			t.Fatal(err)
		}
		if gvk.Kind == kind {
			n++
		}
	}
	return n
}
