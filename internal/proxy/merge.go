package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// fanOut lists path once per query, as the caller, and writes the lists
// merged; see fanOutPaths.
func (p *Proxy) fanOut(w http.ResponseWriter, r *http.Request, id *Identity, path string, queries []url.Values, watch bool) {
	paths := make([]string, len(queries))
	for i := range queries {
		paths[i] = path
	}
	p.fanOutPaths(w, r, id, paths, queries, watch)
}

// fanOutPaths lists each path with its query, as the caller, and writes
// the lists (or tables) merged into one. Any refusal is written instead,
// whole: a merged list is never missing a part. A watch cannot be merged
// (each stream has its own resource versions) and is refused.
func (p *Proxy) fanOutPaths(w http.ResponseWriter, r *http.Request, id *Identity, paths []string, queries []url.Values, watch bool) {
	if watch {
		writeStatus(w, http.StatusBadRequest, "BadRequest",
			"bulkhead-proxy cannot watch across several of your namespaces or tenants in one stream; watch one namespace at a time (-n)")
		return
	}
	accept := jsonAccept(r.Header.Get("Accept"))
	var merged map[string]any
	var key string
	for i, path := range paths {
		body, ok := p.getOK(w, r, id, path, queries[i], accept)
		if !ok {
			return
		}
		var part map[string]any
		if err := json.Unmarshal(body, &part); err != nil {
			writeStatus(w, http.StatusBadGateway, "InternalError", "bulkhead-proxy could not read the API server's answer")
			return
		}
		if merged == nil {
			merged, key = part, listKey(part)
			continue
		}
		rows, _ := merged[key].([]any)
		more, _ := part[key].([]any)
		merged[key] = append(rows, more...)
	}
	if merged == nil {
		merged = emptyList(r.Header.Get("Accept"), r.URL.Path)
		key = listKey(merged)
	}
	// A merged list has no one resource version to resume from.
	merged["metadata"] = map[string]any{"resourceVersion": ""}
	if merged[key] == nil {
		merged[key] = []any{}
	}
	out, _ := json.Marshal(merged)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// getByList lists within each query expecting at most one object named
// name, and writes it, or the API server's own 404 when none has it.
func (p *Proxy) getByList(w http.ResponseWriter, r *http.Request, id *Identity, path string, queries []url.Values, resource, name string) {
	for _, q := range queries {
		body, ok := p.getOK(w, r, id, path, q, "application/json")
		if !ok {
			return
		}
		var list struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Items      []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			writeStatus(w, http.StatusBadGateway, "InternalError", "bulkhead-proxy could not read the API server's answer")
			return
		}
		if len(list.Items) == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(list.Items[0], &obj); err != nil {
			writeStatus(w, http.StatusBadGateway, "InternalError", "bulkhead-proxy could not read the API server's answer")
			return
		}
		obj["apiVersion"], obj["kind"] = list.APIVersion, strings.TrimSuffix(list.Kind, "List")
		out, _ := json.Marshal(obj)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(statusBody(http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", resource, name), map[string]any{"name": name, "kind": resource}))
}

// getOK is get, writing to w any answer but 200 as the API server gave it
// (or a 502 when it gave none); ok is false when it did.
func (p *Proxy) getOK(w http.ResponseWriter, r *http.Request, id *Identity, path string, query url.Values, accept string) (body []byte, ok bool) {
	status, body, err := p.get(r, id, path, query, accept)
	switch {
	case err != nil:
		writeStatus(w, http.StatusBadGateway, "InternalError", "bulkhead-proxy could not reach the API server")
		return nil, false
	case status != http.StatusOK:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return nil, false
	}
	return body, true
}

// maxAnswer bounds what the proxy reads of one answer it must merge or
// convert: a list of a tenant's namespaces' objects, not a stream.
const maxAnswer = 64 << 20

// oneShot are the parameters that would turn a list the proxy must read
// whole into a stream or a wait: never sent on its lists.
var oneShot = []string{"timeoutSeconds", "sendInitialEvents", "allowWatchBookmarks"}

// get sends GET path?query upstream as id, as a plain list (never a
// watch), and returns status and body, refusing an answer over maxAnswer.
func (p *Proxy) get(r *http.Request, id *Identity, path string, query url.Values, accept string) (int, []byte, error) {
	query = with(query, "watch", "false")
	for _, k := range oneShot {
		query.Del(k)
	}
	u := *p.Upstream
	u.Path, u.RawQuery = strings.TrimSuffix(u.Path, "/")+path, query.Encode()
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", accept)
	if ua := r.Header.Get("User-Agent"); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	impersonate(req.Header, id)
	resp, err := p.Transport.RoundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err == nil && len(body) > maxAnswer {
		return 0, nil, fmt.Errorf("an answer of more than %d bytes", maxAnswer)
	}
	return resp.StatusCode, body, err
}

// jsonAccept is what to ask the API server for when the proxy must read
// the answer: a table if the client asked for one, else a list, in JSON.
func jsonAccept(accept string) string {
	if strings.Contains(accept, "as=Table") {
		return "application/json;as=Table;v=v1;g=meta.k8s.io"
	}
	return "application/json"
}

// listKey is where a list keeps its entries: rows of a Table, items of a
// list.
func listKey(obj map[string]any) string {
	if obj["kind"] == "Table" {
		return "rows"
	}
	return "items"
}

// emptyList is an empty answer in the form asked for.
func emptyList(accept, path string) map[string]any {
	if strings.Contains(accept, "as=Table") {
		return map[string]any{"kind": "Table", "apiVersion": "meta.k8s.io/v1", "columnDefinitions": []any{}, "rows": []any{}}
	}
	kind := "List"
	if strings.HasSuffix(path, "/nodes") {
		kind = "NodeList"
	}
	return map[string]any{"kind": kind, "apiVersion": "v1", "items": []any{}}
}
