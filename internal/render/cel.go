package render

import (
	"strings"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The CEL pieces more than one rule family writes its expressions with. A
// function that one family alone uses lives in that family's file.

// namespaceTenantCEL is, for policies without parameters, the tenant of the
// request's namespace, read from its label (the namespace's name where it
// has none), so that their denials name the tenant like every other.
const namespaceTenantCEL = "(has(namespaceObject.metadata.labels) && '" + tenancyv1alpha1.TenantLabel + "' in namespaceObject.metadata.labels ? " +
	"namespaceObject.metadata.labels['" + tenancyv1alpha1.TenantLabel + "'] : namespaceObject.metadata.name)"

// notBulkheadOrAdmin is one CEL condition: neither Bulkhead nor an admin.
func notBulkheadOrAdmin(s Settings) string {
	return strings.Join(append([]string{s.NotBulkheadCEL()}, s.NotAdminCEL()...), " && ")
}

// celStrings is a CEL list literal of the given strings.
func celStrings(list []string) string {
	quoted := prefixEach("'", "'", list)
	return "[" + strings.Join(quoted, ", ") + "]"
}

// prefixEach wraps every string of list in pre and post.
func prefixEach(pre, post string, list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, pre+s+post)
	}
	return out
}

// pinnedToCEL is true when the namespace selector sel can match only
// namespaces whose tenant label is one of the CEL list allowed: it requires
// the label by matchLabels or by an In expression whose values are all
// allowed. Only Bulkhead and admins set that label, so no forged label can
// widen such a selector.
func pinnedToCEL(sel, allowed string) string {
	tl := "'" + tenancyv1alpha1.TenantLabel + "'"
	return "((has(" + sel + ".matchLabels) && " + tl + " in " + sel + ".matchLabels && " + sel + ".matchLabels[" + tl + "] in " + allowed + ") || " +
		"(has(" + sel + ".matchExpressions) && " + sel + ".matchExpressions.exists(e, e.key == " + tl + " && e.operator == 'In' && " +
		"has(e.values) && size(e.values) > 0 && e.values.all(v, v in " + allowed + "))))"
}

// annotationCEL is the value of annotation key on obj, or the empty string
// when it is absent.
func annotationCEL(obj, key string) string {
	return "(has(" + obj + ".metadata.annotations) && '" + key + "' in " + obj + ".metadata.annotations ? " +
		obj + ".metadata.annotations['" + key + "'] : '')"
}

// controlPlaneCEL is true when the request comes from the control plane's
// controllers: kube-controller-manager, or a service account in kube-system
// (its controllers run as those when it uses per-controller credentials).
func controlPlaneCEL() string {
	return "(request.userInfo.username.startsWith('system:serviceaccount:kube-system:') || " +
		"request.userInfo.username == 'system:kube-controller-manager')"
}
