package proxy

import (
	"net/http"
	"strings"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/tenantview"
)

// Kind is how the proxy treats a request.
type Kind int

// The kinds of request the proxy narrows; everything else is Passed.
const (
	Pass Kind = iota
	NamespaceList
	NamespaceGet
	NodeList
	NodeGet
	TenantList
	TenantGet
	// AcrossNamespaces is a list or watch of a namespaced resource across
	// all namespaces.
	AcrossNamespaces
	// ClassList and ClassGet are of storage, ingress, priority or runtime
	// classes (tenantview.Classes).
	ClassList
	ClassGet
)

// Route is a request classified.
type Route struct {
	Kind Kind
	// Name is the object a get names.
	Name string
	// Prefix is the path up to the resource (/api/v1, /apis/apps/v1), and
	// Resource the resource, for AcrossNamespaces.
	Prefix, Resource string
}

var tenantsPrefix = "/apis/" + tenancyv1alpha1.GroupVersion.String() + "/tenants"

// Classify routes a request by method and path; namespaced reports whether
// a resource of a group version prefix is namespaced (discovery).
func Classify(method, path string, namespaced func(prefix, resource string) bool) Route {
	if method != http.MethodGet {
		return Route{}
	}
	path = strings.TrimSuffix(path, "/")
	switch path {
	case "/api/v1/namespaces":
		return Route{Kind: NamespaceList}
	case "/api/v1/nodes":
		return Route{Kind: NodeList}
	case tenantsPrefix:
		return Route{Kind: TenantList}
	}
	if name, ok := single(path, "/api/v1/namespaces/"); ok {
		return Route{Kind: NamespaceGet, Name: name}
	}
	if name, ok := single(path, "/api/v1/nodes/"); ok {
		return Route{Kind: NodeGet, Name: name}
	}
	if name, ok := single(path, tenantsPrefix+"/"); ok {
		return Route{Kind: TenantGet, Name: name}
	}
	// /api/v1/<resource> or /apis/<group>/<version>/<resource>.
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) >= 4 && parts[0] == "apis" && tenantview.IsClass(parts[1], parts[3]) {
		switch len(parts) {
		case 4:
			return Route{Kind: ClassList, Prefix: "/apis/" + parts[1] + "/" + parts[2], Resource: parts[3]}
		case 5:
			return Route{Kind: ClassGet, Prefix: "/apis/" + parts[1] + "/" + parts[2], Resource: parts[3], Name: parts[4]}
		}
		return Route{}
	}
	var prefix, resource string
	switch {
	case len(parts) == 3 && parts[0] == "api":
		prefix, resource = "/api/"+parts[1], parts[2]
	case len(parts) == 4 && parts[0] == "apis":
		prefix, resource = "/apis/"+parts[1]+"/"+parts[2], parts[3]
	default:
		return Route{}
	}
	if namespaced != nil && namespaced(prefix, resource) {
		return Route{Kind: AcrossNamespaces, Prefix: prefix, Resource: resource}
	}
	return Route{}
}

// single returns the one path segment after prefix.
func single(path, prefix string) (string, bool) {
	name, ok := strings.CutPrefix(path, prefix)
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}
