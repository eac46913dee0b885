package audit

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Access is one set of request attributes an access review asks about.
type Access struct {
	Verb, Group, Resource, Subresource, Namespace, Name string
}

// Key names verb and resource, without namespace or name: "create core/namespaces".
func (a Access) Key() string {
	k := a.Verb + " " + GroupResource(a.Group, a.Resource)
	if a.Subresource != "" {
		k += "/" + a.Subresource
	}
	return k
}

func (a Access) String() string {
	s := a.Key()
	if a.Name != "" {
		s += " " + a.Name
	}
	if a.Namespace != "" {
		s += " in " + a.Namespace
	}
	return s
}

// GroupResource is "group/resource", the core group spelled "core".
func GroupResource(group, resource string) string {
	if group == "" {
		group = "core"
	}
	return group + "/" + resource
}

// Review asks the API server, as c's identity (SelfSubjectAccessReview),
// about every access in list, 16 at a time, and returns the allowed ones in
// list order.
func Review(ctx context.Context, c client.Client, list []Access) ([]Access, error) {
	allowed := make([]bool, len(list))
	errs := make([]error, len(list))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, acc := range list {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: acc.Verb, Group: acc.Group, Resource: acc.Resource, Subresource: acc.Subresource,
					Namespace: acc.Namespace, Name: acc.Name,
				},
			}}
			errs[i] = c.Create(ctx, review)
			allowed[i] = review.Status.Allowed
		})
	}
	wg.Wait()
	var out []Access
	for i, acc := range list {
		if errs[i] != nil {
			return nil, fmt.Errorf("reviewing %s: %w", acc, errs[i])
		}
		if allowed[i] {
			out = append(out, acc)
		}
	}
	return out, nil
}

// Resource is one resource type the API server serves.
type Resource struct {
	Group, Version, Resource, Subresource, Kind string
	Verbs                                       []string
}

// Key is "group/resource".
func (r Resource) Key() string { return GroupResource(r.Group, r.Resource) }

// GVK is the resource's kind at the version discovered.
func (r Resource) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// Can says whether the resource serves verb.
func (r Resource) Can(verb string) bool {
	for _, v := range r.Verbs {
		if v == verb {
			return true
		}
	}
	return false
}

// Discover lists the resource types (and subresources) the API server
// serves, cluster-scoped or namespaced, at each group's preferred version,
// sorted.
func Discover(dc discovery.DiscoveryInterface, namespaced bool) ([]Resource, error) {
	lists, err := dc.ServerPreferredResources()
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var out []Resource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			return nil, err
		}
		for _, r := range l.APIResources {
			if r.Namespaced != namespaced {
				continue
			}
			res, sub, _ := strings.Cut(r.Name, "/")
			out = append(out, Resource{Group: gv.Group, Version: gv.Version, Resource: res, Subresource: sub, Kind: r.Kind, Verbs: r.Verbs})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Group+"/"+out[i].Resource+"/"+out[i].Subresource < out[j].Group+"/"+out[j].Resource+"/"+out[j].Subresource
	})
	if len(out) == 0 {
		return nil, fmt.Errorf("discovery found no resource types")
	}
	return out, nil
}

// ClusterExceptions are the cluster-scoped accesses a tenant identity has
// on purpose, with the reason for each.
func ClusterExceptions(role Role) map[string]string {
	out := map[string]string{
		// Kubernetes grants these to every authenticated user
		// (system:basic-user): asking about oneself reveals nothing else.
		"create authorization.k8s.io/selfsubjectaccessreviews": "anyone may ask what it may do",
		"create authorization.k8s.io/selfsubjectrulesreviews":  "anyone may list its own rules in a namespace",
		"create authentication.k8s.io/selfsubjectreviews":      "anyone may ask who it is",
	}
	if role == RoleOwner {
		// Owners create their namespaces themselves; the namespace webhook
		// assigns each to the tenant and enforces the prefix and the count.
		out["create core/namespaces"] = "owners create namespaces, which the namespace webhook admits"
	}
	return out
}

// SpecialClusterVerbs are verbs discovery does not list that grant power
// over the cluster: impersonation, binding or escalating any role, and
// approving or signing certificates.
var SpecialClusterVerbs = []Access{
	{Verb: "impersonate", Resource: "users"},
	{Verb: "impersonate", Resource: "groups"},
	{Verb: "impersonate", Resource: "serviceaccounts"},
	{Verb: "impersonate", Group: "authentication.k8s.io", Resource: "userextras"},
	{Verb: "impersonate", Group: "authentication.k8s.io", Resource: "uids"},
	{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Verb: "approve", Group: "certificates.k8s.io", Resource: "signers"},
	{Verb: "sign", Group: "certificates.k8s.io", Resource: "signers"},
}

// SpecialNamespacedVerbs are the same within a namespace.
var SpecialNamespacedVerbs = []Access{
	{Verb: "impersonate", Resource: "serviceaccounts"},
	{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "roles"},
	{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "roles"},
	{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
}

// AllVerbs are the verbs a namespaced kind's full access means.
var AllVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
