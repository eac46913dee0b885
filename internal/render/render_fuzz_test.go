package render

import (
	"encoding/json"
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// FuzzRenderTenant renders every object of a Tenant whose name and spec
// come from the fuzzer (the spec as JSON, as the API server would decode a
// Tenant), with cluster settings that may also come from it. Rendering must
// never panic, whatever the Tenant says: the CRD refuses much of what the
// fuzzer writes, but a Tenant stored before a rule was added, or written by
// a newer API server, reaches the renderer all the same. Each namespaced
// object must land in one of the tenant's namespaces, and every object must
// encode to JSON, as the apply does.
//
// The seed corpus is testdata/fuzz/FuzzRenderTenant; the integration suite
// replays it on an API server (TestFuzzCorpusRendersAcceptedObjects).
func FuzzRenderTenant(f *testing.F) {
	f.Add("acme", []byte(`{"owners":[{"kind":"User","name":"alice"}]}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, name string, spec, settings []byte) {
		tn := &tenancyv1alpha1.Tenant{}
		tn.Name = name
		if err := json.Unmarshal(spec, &tn.Spec); err != nil {
			return
		}
		s := DefaultSettings()
		// A malformed settings document leaves the defaults as they are,
		// as a bad flag value would leave the manager unstarted.
		_ = json.Unmarshal(settings, &s)
		namespaces := []string{name + "-a", name + "-b"}

		sc := NewScope(tn, namespaces, s)
		_ = Namespace(sc)
		_ = TenantIdentities(sc).Subjects()
		var objs []client.Object
		objs = append(objs, RBAC(tn, namespaces)...)
		objs = append(objs, Quota(sc)...)
		objs = append(objs, Network(sc, []string{"other"})...)
		objs = append(objs, TenantPolicies(sc, PolicyInputs{Protected: map[string]bool{namespaces[0]: true}})...)
		for _, ns := range namespaces {
			objs = append(objs, RetainedNetworkPolicy(ns, name))
		}
		for _, o := range objs {
			if ns := o.GetNamespace(); ns != "" && !slices.Contains(namespaces, ns) {
				t.Errorf("%T %s rendered into namespace %q, not one of the tenant's %v", o, o.GetName(), ns, namespaces)
			}
			if _, err := json.Marshal(o); err != nil {
				t.Errorf("%T %s/%s does not encode: %v", o, o.GetNamespace(), o.GetName(), err)
			}
		}

		// The cluster-wide objects depend on the settings alone.
		cluster := Policies(s)
		for _, r := range ClusterRoles(s) {
			cluster = append(cluster, r)
		}
		for _, o := range cluster {
			if _, err := json.Marshal(o); err != nil {
				t.Errorf("%T %s does not encode: %v", o, o.GetName(), err)
			}
		}
	})
}
