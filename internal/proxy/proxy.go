package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/go-logr/logr"

	"github.com/bulkhead-dev/bulkhead/internal/tenantview"
)

// Proxy is the tenant-facing front of the API server.
type Proxy struct {
	// Upstream is the API server.
	Upstream *url.URL
	// Transport carries the proxy's own credentials to the API server.
	Transport http.RoundTripper
	Authn     *Authenticator
	// Index is the current membership index.
	Index func() *tenantview.Index
	// Namespaced reports whether a resource of a group version is
	// namespaced (discovery); nil treats none as namespaced.
	Namespaced func(prefix, resource string) bool
	Log        logr.Logger

	reverse *httputil.ReverseProxy
}

// forwarding is what the reverse proxy needs of one request, carried in
// its context.
type forwarding struct {
	id    *Identity
	query url.Values
	// notFound, when set, turns RBAC's 403 into this resource's 404, so
	// that another tenant's object answers exactly as a missing one.
	notFound *notFound
}

type notFound struct{ resource, name string }

type forwardingKey struct{}

// ServeHTTP authenticates, narrows and forwards one request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.reverse == nil {
		p.reverse = &httputil.ReverseProxy{
			Rewrite:        p.rewrite,
			Transport:      p.Transport,
			FlushInterval:  -1,
			ModifyResponse: p.modifyResponse,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				p.Log.Error(err, "Forwarding", "path", r.URL.Path)
				writeStatus(w, http.StatusBadGateway, "InternalError", "bulkhead-proxy could not reach the API server")
			},
		}
	}
	id, err := p.Authn.Authenticate(r)
	if err != nil {
		writeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	ix := p.Index()
	tenants := ix.TenantsOf(id.User, id.Groups)
	route := Route{}
	if len(tenants) > 0 {
		route = Classify(r.Method, r.URL.Path, p.Namespaced)
	}
	q := r.URL.Query()
	watch := isWatch(q)
	f := &forwarding{id: id, query: q}
	switch route.Kind {
	case NamespaceList:
		q.Set("labelSelector", tenantview.And(tenantview.NamespaceSelector(tenants), q.Get("labelSelector")))
	case NamespaceGet:
		f.notFound = &notFound{"namespaces", route.Name}
	case TenantGet:
		f.notFound = &notFound{"tenants.tenancy.bulkhead.dev", route.Name}
	case TenantList:
		var queries []url.Values
		for _, t := range tenants {
			queries = append(queries, with(q, "fieldSelector", tenantview.And("metadata.name="+t, q.Get("fieldSelector"))))
		}
		if len(queries) > 1 || !watch {
			p.fanOut(w, r, id, r.URL.Path, queries, watch)
			return
		}
		f.query = queries[0]
	case NodeList, NodeGet:
		var queries []url.Values
		for _, t := range tenants {
			if pool := ix.NodePool(t); len(pool) > 0 {
				nq := with(q, "labelSelector", tenantview.And(tenantview.NodeSelector(pool), q.Get("labelSelector")))
				if route.Kind == NodeGet {
					nq = with(nq, "fieldSelector", "metadata.name="+route.Name)
				}
				queries = append(queries, nq)
			}
		}
		switch {
		case route.Kind == NodeGet:
			p.getByList(w, r, id, "/api/v1/nodes", queries, "nodes", route.Name)
			return
		case len(queries) == 1:
			f.query = queries[0]
		default:
			p.fanOut(w, r, id, r.URL.Path, queries, watch)
			return
		}
	case ClassGet:
		f.notFound = &notFound{route.Resource + "." + strings.Split(strings.TrimPrefix(route.Prefix, "/apis/"), "/")[0], route.Name}
	case ClassList:
		names, anyClass := ix.ClassesOf(tenants, strings.Split(strings.TrimPrefix(route.Prefix, "/apis/"), "/")[0], route.Resource)
		if anyClass {
			break
		}
		var queries []url.Values
		for _, n := range names {
			queries = append(queries, with(q, "fieldSelector", tenantview.And("metadata.name="+n, q.Get("fieldSelector"))))
		}
		if len(queries) == 1 && watch {
			f.query = queries[0]
			break
		}
		p.fanOut(w, r, id, r.URL.Path, queries, watch)
		return
	case AcrossNamespaces:
		var queries []url.Values
		var paths []string
		for _, t := range tenants {
			for _, ns := range ix.Namespaces(t) {
				paths = append(paths, route.Prefix+"/namespaces/"+ns+"/"+route.Resource)
				queries = append(queries, q)
			}
		}
		p.fanOutPaths(w, r, id, paths, queries, watch)
		return
	}
	p.reverse.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardingKey{}, f)))
}

// isWatch reads the watch parameter as the API server does: set, with any
// value but 0 or false (in any case), even empty, it is a watch.
func isWatch(q url.Values) bool {
	v, ok := q["watch"]
	if !ok || len(v) == 0 {
		return false
	}
	switch strings.ToLower(v[0]) {
	case "0", "false":
		return false
	}
	return true
}

// with is a copy of q with key set to value.
func with(q url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	out.Set(key, value)
	return out
}

// rewrite sends the request upstream as the caller: the client's own
// credentials and any impersonation it asked for are dropped, and the
// proxy's identity impersonates the authenticated caller.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	f := pr.In.Context().Value(forwardingKey{}).(*forwarding)
	pr.SetURL(p.Upstream)
	pr.Out.URL.RawQuery = f.query.Encode()
	impersonate(pr.Out.Header, f.id)
}

// impersonate replaces h's credentials and impersonation headers with the
// proxy's impersonation of id, or, for a caller that brought a bearer
// token, with that token (see Identity.token).
func impersonate(h http.Header, id *Identity) {
	h.Del("Authorization")
	for k := range h {
		if c := http.CanonicalHeaderKey(k); strings.HasPrefix(c, "Impersonate-") || strings.HasPrefix(c, "X-Remote-") {
			h.Del(k)
		}
	}
	if id.token != "" {
		h.Set("Authorization", "Bearer "+id.token)
		return
	}
	h.Set("Impersonate-User", id.User)
	for _, g := range id.Groups {
		h.Add("Impersonate-Group", g)
	}
	if id.UID != "" {
		h.Set("Impersonate-Uid", id.UID)
	}
	for k, vs := range id.Extra {
		for _, v := range vs {
			h.Add("Impersonate-Extra-"+url.PathEscape(k), v)
		}
	}
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	f, _ := resp.Request.Context().Value(forwardingKey{}).(*forwarding)
	if f == nil || f.notFound == nil || resp.StatusCode != http.StatusForbidden {
		return nil
	}
	_ = resp.Body.Close()
	body := statusBody(http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", f.notFound.resource, f.notFound.name),
		map[string]any{"name": f.notFound.name, "kind": strings.Split(f.notFound.resource, ".")[0]})
	resp.StatusCode, resp.Status = http.StatusNotFound, "404 Not Found"
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
	resp.Header.Set("Content-Type", "application/json")
	return nil
}

// writeStatus writes a Kubernetes Status, as the API server would.
func writeStatus(w http.ResponseWriter, code int, reason, message string) {
	body := statusBody(code, reason, message, nil)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func statusBody(code int, reason, message string, details map[string]any) []byte {
	s := map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code,
	}
	if details != nil {
		s["details"] = details
	}
	out, _ := json.Marshal(s)
	return out
}
