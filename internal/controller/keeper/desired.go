package keeper

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/render"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// Inputs are what the set of kept objects depends on.
type Inputs struct {
	Settings render.Settings
	// MutatingPoliciesServed: the API server serves MutatingAdmissionPolicy.
	// Without it the mutating policies are left out and the webhook serves
	// the tenants' defaults instead (the fallback).
	MutatingPoliciesServed bool
	// MutatingPoliciesUnknown: discovery could not say whether they are
	// served. Only what does not depend on the answer is listed (the
	// validating webhook configuration, the ClusterRoles and the validating
	// policies); the mutating policies and the mutating webhook
	// configuration, which holds the fallback, are left as they are.
	MutatingPoliciesUnknown bool
	// Endpoint is how the API server reaches the webhook.
	Endpoint bwebhook.Endpoint
	// CABundle signs the webhook's serving certificate. Without it the
	// webhook configurations are left out (and left as they are in the
	// cluster): a configuration without its CA would make the API server
	// distrust the webhook.
	CABundle []byte
	// Counted are the kinds whose objects some Tenant counts
	// (count/<resource>.<group> in spec.quota.tenant.hard): the quota
	// webhook is sent their creates.
	Counted []schema.GroupResource
}

// Desired lists the cluster-wide objects Bulkhead keeps, the serving
// certificate Secret aside, in the order they are applied: the webhook
// configurations first, so that a namespace made while the policies load is
// already assigned to its tenant, then the ClusterRoles, the tenants'
// priority level and the cluster-admins FlowSchema, then the policies.
func Desired(in Inputs) []client.Object {
	var out []client.Object
	if len(in.CABundle) > 0 {
		mutating, validating := bwebhook.Configurations(in.Endpoint, in.CABundle, in.Settings, !in.MutatingPoliciesServed, in.Counted)
		if !in.MutatingPoliciesUnknown {
			out = append(out, mutating)
		}
		out = append(out, validating)
	}
	for _, role := range render.ClusterRoles(in.Settings) {
		out = append(out, role)
	}
	// The tenants' shared priority level precedes the tenants' FlowSchemas
	// that point at it only by the concern's own pace; a schema naming a
	// missing level sends its requests to catch-all until it exists.
	out = append(out, render.SharedPriorityLevel(in.Settings))
	if fs := render.AdminsFlowSchemaFor(in.Settings); fs != nil {
		out = append(out, fs)
	}
	out = append(out, render.ValidatingPolicies(in.Settings)...)
	if in.MutatingPoliciesServed && !in.MutatingPoliciesUnknown {
		out = append(out, render.MutatingPolicies(in.Settings)...)
	}
	return out
}
