package tenantview

import (
	"fmt"
	"slices"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Authorize answers a SubjectAccessReview: allowed, with the reason, for
// the narrow reads of the package documentation; otherwise not allowed and
// not denied (no opinion), so that the API server's other authorizers
// decide.
func Authorize(ix *Index, spec authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus {
	ra := spec.ResourceAttributes
	if ra == nil || ra.Subresource != "" {
		return authorizationv1.SubjectAccessReviewStatus{}
	}
	tenants := ix.TenantsOf(spec.User, spec.Groups)
	if len(tenants) == 0 {
		return authorizationv1.SubjectAccessReviewStatus{}
	}
	list := ra.Verb == "list" || ra.Verb == "watch"
	var why string
	switch {
	case ra.Group == "" && ra.Resource == "namespaces" && list:
		if t := labelIn(ra.LabelSelector, tenancyv1alpha1.TenantLabel, tenants); t != "" {
			why = "the selector limits the list to the caller's tenants (" + t + ")"
		}
	case ra.Group == "" && ra.Resource == "nodes" && list:
		for _, t := range tenants {
			if pool := ix.NodePool(t); len(pool) > 0 && requiresAll(ra.LabelSelector, pool) {
				why = "the selector limits the list to the node pool of tenant " + t
				break
			}
		}
	case IsClass(ra.Group, ra.Resource):
		names, anyClass := ix.ClassesOf(tenants, ra.Group, ra.Resource)
		switch {
		case anyClass && (ra.Verb == "get" || list):
			why = "a tenant of the caller may use any " + ra.Resource
		case ra.Verb == "get" && slices.Contains(names, ra.Name):
			why = "a class the caller's tenants may use"
		case list && nameIn(ra.FieldSelector, names) != "":
			why = "the field selector limits the list to a class the caller's tenants may use"
		}
	case ra.Group == tenancyv1alpha1.GroupVersion.Group && ra.Resource == "tenants" && ra.Verb == "get":
		if slices.Contains(tenants, ra.Name) {
			why = "the caller's own Tenant"
		}
	case ra.Group == tenancyv1alpha1.GroupVersion.Group && ra.Resource == "tenantusages" && ra.Verb == "get":
		if slices.Contains(tenants, ra.Name) {
			why = "the usage of the caller's own Tenant"
		}
	case ra.Group == tenancyv1alpha1.GroupVersion.Group && ra.Resource == "tenants" && list:
		if t := nameIn(ra.FieldSelector, tenants); t != "" {
			why = "the field selector limits the list to the caller's own Tenant " + t
		}
	}
	if why == "" {
		return authorizationv1.SubjectAccessReviewStatus{}
	}
	return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "bulkhead: " + why}
}

// labelIn returns the tenants a requirement of sel limits key to, when
// they are all among allowed; "" otherwise. Only the requirements the API
// server parsed count, never a raw selector.
func labelIn(sel *authorizationv1.LabelSelectorAttributes, key string, allowed []string) string {
	if sel == nil {
		return ""
	}
	for _, r := range sel.Requirements {
		if r.Key == key && r.Operator == metav1.LabelSelectorOpIn && len(r.Values) > 0 && subset(r.Values, allowed) {
			return strings.Join(r.Values, ", ")
		}
	}
	return ""
}

// requiresAll reports whether sel requires every label of pool, each to
// exactly its value.
func requiresAll(sel *authorizationv1.LabelSelectorAttributes, pool map[string]string) bool {
	if sel == nil {
		return false
	}
	for k, v := range pool {
		if !slices.ContainsFunc(sel.Requirements, func(r metav1.LabelSelectorRequirement) bool {
			return r.Key == k && r.Operator == metav1.LabelSelectorOpIn && len(r.Values) == 1 && r.Values[0] == v
		}) {
			return false
		}
	}
	return true
}

// nameIn returns the name a field selector requirement limits metadata.name
// to, when it is among allowed.
func nameIn(sel *authorizationv1.FieldSelectorAttributes, allowed []string) string {
	if sel == nil {
		return ""
	}
	for _, r := range sel.Requirements {
		if r.Key == "metadata.name" && r.Operator == metav1.FieldSelectorOpIn && len(r.Values) == 1 && slices.Contains(allowed, r.Values[0]) {
			return r.Values[0]
		}
	}
	return ""
}

func subset(values, allowed []string) bool {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			return false
		}
	}
	return true
}

// NamespaceSelector is the label selector that limits a namespace list to
// tenants, to be ANDed with the caller's own.
func NamespaceSelector(tenants []string) string {
	return fmt.Sprintf("%s in (%s)", tenancyv1alpha1.TenantLabel, strings.Join(tenants, ","))
}

// NodeSelector is the label selector of a node pool, sorted.
func NodeSelector(pool map[string]string) string {
	parts := make([]string, 0, len(pool))
	for k, v := range pool {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// And joins two selectors (label or field) so that both must hold.
func And(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "," + b
}
