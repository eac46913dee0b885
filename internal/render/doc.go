// Package render computes, with no client and no clock, the objects Bulkhead
// wants in the cluster: for each Tenant its namespace labels, RoleBindings,
// ResourceQuotas, LimitRanges, NetworkPolicies and TenantPolicies, and once
// for the whole cluster its ClusterRoles and admission policies. Controllers
// only fetch inputs, call these functions, and apply the result; every rule
// of what a tenant gets is therefore table-tested here.
//
// It must not import a client, read the environment or depend on time.
//
// # Admission: shared policies, per-namespace parameters
//
// Admission rules run inside the API server as CEL, in two halves:
//
//   - Shared policies (Policies): the ValidatingAdmissionPolicies and
//     MutatingAdmissionPolicies and their bindings. They are cluster-scoped
//     and there is one set for all tenants, whatever their number: they
//     depend on the Settings only, and the golden file
//     testdata/policies.golden.yaml holds them as compiled.
//   - Per-namespace parameters (TenantPolicies): one TenantPolicy, named
//     "bulkhead", in each tenant namespace, flattened from the Tenant's
//     effective spec. The bindings of the policies that take parameters
//     read it through paramRef from the request's own namespace, and deny
//     when it is missing, so a tenant namespace is closed until Bulkhead
//     has written it.
//
// Rules are grouped by family. Each family's file holds the part of the
// TenantPolicy it fills (its *Params function), its policy, CEL and denial
// messages, so that searching a rule's name, such as pods.userNamespaces,
// lands in one file:
//
//   - policies_pods.go: pods.*, nodes.* and namespaces.protected, on pods
//     and workload templates; the pod and ServiceAccount defaults
//   - policies_services.go: services.*
//   - policies_ingress.go: ingress.*
//   - policies_storage.go: storage.*, on PersistentVolumeClaims
//   - policies_rbac.go: rbac.subjects and rbac.clusterRoles, on RoleBindings
//   - policies_network.go: network.ingress and network.egress, on the
//     tenant's own NetworkPolicies
//   - policies_managed.go: managed-objects, without parameters
//   - tokens.go: rbac.tokens, without parameters
//   - retained.go: namespaces.retained, without parameters, bound to
//     retained namespaces rather than tenant ones
//
// What the families share: policies.go lists the policies and builds their
// bindings and the rule type that writes a denial's message; cel.go holds
// the CEL builders more than one family uses; admission.go assembles the
// TenantPolicy from the families' parts. inventory.go lists, field by field,
// the objects admission judges, and which rule (or Pod Security check) judges
// each field.
//
// # The other objects
//
// namespace.go renders namespace metadata, rbac.go the RoleBindings and the
// ClusterRoles they reference, quota.go the ResourceQuotas and LimitRanges, network.go the
// NetworkPolicies; profile.go applies the isolation profile (Effective), and
// subjects.go says who belongs to a tenant.
package render
