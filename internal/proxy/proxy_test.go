package proxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/tenantview"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func TestClassify(t *testing.T) {
	namespaced := func(prefix, resource string) bool {
		return (prefix == "/api/v1" && resource == "pods") || (prefix == "/apis/apps/v1" && resource == "deployments")
	}
	for _, tc := range []struct {
		method, path string
		want         Route
	}{
		{"GET", "/api/v1/namespaces", Route{Kind: NamespaceList}},
		{"GET", "/api/v1/namespaces/", Route{Kind: NamespaceList}},
		{"GET", "/api/v1/namespaces/acme-web", Route{Kind: NamespaceGet, Name: "acme-web"}},
		{"GET", "/api/v1/namespaces/acme-web/pods", Route{}},
		{"GET", "/api/v1/namespaces/acme-web/status", Route{}},
		{"DELETE", "/api/v1/namespaces/acme-web", Route{}},
		{"GET", "/api/v1/nodes", Route{Kind: NodeList}},
		{"GET", "/api/v1/nodes/n1", Route{Kind: NodeGet, Name: "n1"}},
		{"GET", "/api/v1/nodes/n1/proxy", Route{}},
		{"GET", "/apis/tenancy.bulkhead.dev/v1alpha1/tenants", Route{Kind: TenantList}},
		{"GET", "/apis/tenancy.bulkhead.dev/v1alpha1/tenants/acme", Route{Kind: TenantGet, Name: "acme"}},
		{"GET", "/api/v1/pods", Route{Kind: AcrossNamespaces, Prefix: "/api/v1", Resource: "pods"}},
		{"GET", "/apis/apps/v1/deployments", Route{Kind: AcrossNamespaces, Prefix: "/apis/apps/v1", Resource: "deployments"}},
		{"GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", Route{}},
		{"GET", "/api/v1/persistentvolumes", Route{}},
		{"POST", "/api/v1/pods", Route{}},
		{"GET", "/version", Route{}},
		{"GET", "/api", Route{}},
	} {
		if got := Classify(tc.method, tc.path, namespaced); got != tc.want {
			t.Errorf("Classify(%s %s) = %+v, want %+v", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestImpersonate: whatever credentials and impersonation the client sent
// are gone; the authenticated caller is impersonated.
func TestImpersonate(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer stolen")
	h.Add("Impersonate-User", "admin")
	h.Add("impersonate-group", "system:masters")
	h.Add("Impersonate-Extra-scopes", "all")
	h.Add("Impersonate-Uid", "0")
	h.Set("Accept", "application/json")
	impersonate(h, &Identity{User: "alice", Groups: []string{"devs", "system:authenticated"}, Extra: map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=1"}}})
	want := http.Header{
		"Accept":            {"application/json"},
		"Impersonate-User":  {"alice"},
		"Impersonate-Group": {"devs", "system:authenticated"},
		"Impersonate-Extra-Authentication.kubernetes.io%2fcredential-Id": {"JTI=1"},
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}

// TestPassToken: a caller's token is forwarded as it came, with no
// impersonation, and forged impersonation is still dropped.
func TestPassToken(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer other")
	h.Add("Impersonate-User", "admin")
	impersonate(h, &Identity{User: "system:serviceaccount:a:b", Groups: []string{"system:serviceaccounts"}, token: "mine"})
	if diff := cmp.Diff(http.Header{"Authorization": {"Bearer mine"}}, h); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}

// upstream is a fake API server answering every GET with a list of one
// item named after the request's namespace segment, or a 403 for
// namespace "forbidden"; it records the requests it got.
func upstream(t *testing.T, got *[]*http.Request) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*got = append(*got, r)
		parts := strings.Split(r.URL.Path, "/")
		name := parts[len(parts)-2]
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "forbidden") {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write(statusBody(http.StatusForbidden, "Forbidden", "no", nil))
			return
		}
		if strings.Contains(r.Header.Get("Accept"), "as=Table") {
			_, _ = io.WriteString(w, `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7"},"columnDefinitions":[{"name":"Name"}],"rows":[{"cells":["`+name+`"]}]}`)
			return
		}
		_, _ = io.WriteString(w, `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"`+name+`"}}]}`)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u
}

func testProxy(t *testing.T, got *[]*http.Request, tenants ...tenancyv1alpha1.Tenant) *Proxy {
	ix := tenantview.Build(tenants, render.DefaultSettings())
	return &Proxy{
		Upstream: upstream(t, got), Transport: http.DefaultTransport,
		Authn:      &Authenticator{},
		Index:      func() *tenantview.Index { return ix },
		Namespaced: func(prefix, resource string) bool { return resource == "configmaps" },
	}
}

// serveAs sends GET target to p as a client-certificate user.
func serveAs(p *Proxy, user, target, accept string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Authorization", "Bearer x")
	r.Header.Set("Accept", accept)
	// A verified client certificate, as the TLS handshake leaves it.
	r.TLS = tlsState(user)
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	return w
}

// TestAcrossNamespaces: a list across namespaces is a list in each of the
// caller's, merged, as a list or a table; one refusal refuses all; a watch
// is refused.
func TestAcrossNamespaces(t *testing.T) {
	acme := testutil.Tenant("acme").Owner("alice").Obj()
	acme.Status.Namespaces = []string{"acme-api", "acme-web"}
	var got []*http.Request
	p := testProxy(t, &got, *acme)

	w := serveAs(p, "alice", "/api/v1/configmaps?limit=500", "application/vnd.kubernetes.protobuf,application/json")
	var list struct {
		Metadata map[string]any `json:"metadata"`
		Items    []struct {
			Metadata struct{ Name string } `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != http.StatusOK {
		t.Fatalf("%d %s: %v", w.Code, w.Body, err)
	}
	if len(list.Items) != 2 || list.Items[0].Metadata.Name != "acme-api" || list.Items[1].Metadata.Name != "acme-web" || list.Metadata["resourceVersion"] != "" {
		t.Errorf("merged list %s", w.Body)
	}
	for _, r := range got {
		if r.Header.Get("Impersonate-User") != "alice" || r.Header.Get("Authorization") != "" || r.URL.Query().Get("limit") != "500" || strings.Contains(r.Header.Get("Accept"), "protobuf") {
			t.Errorf("upstream request %s %v", r.URL, r.Header)
		}
	}

	w = serveAs(p, "alice", "/api/v1/configmaps", "application/json;as=Table;v=v1;g=meta.k8s.io")
	var table struct {
		Rows []struct{ Cells []string } `json:"rows"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &table); err != nil || len(table.Rows) != 2 {
		t.Errorf("merged table %s: %v", w.Body, err)
	}

	w = serveAs(p, "alice", "/api/v1/configmaps?watch=true", "application/json")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "watch one namespace at a time") {
		t.Errorf("a watch across namespaces: %d %s", w.Code, w.Body)
	}

	acme.Status.Namespaces = []string{"acme-api", "forbidden"}
	p = testProxy(t, &got, *acme)
	w = serveAs(p, "alice", "/api/v1/configmaps", "application/json")
	if w.Code != http.StatusForbidden {
		t.Errorf("one namespace refused: %d %s; want the refusal, not half a list", w.Code, w.Body)
	}
}

// TestNotAMember: a caller in no tenant is forwarded unchanged.
func TestNotAMember(t *testing.T) {
	var got []*http.Request
	p := testProxy(t, &got)
	w := serveAs(p, "root", "/api/v1/configmaps?labelSelector=a%3Db", "application/json")
	if w.Code != http.StatusOK || len(got) != 1 || got[0].URL.Path != "/api/v1/configmaps" || got[0].URL.Query().Get("labelSelector") != "a=b" {
		t.Errorf("forwarded %d requests; first %v", len(got), got)
	}
}

// TestNotFoundFor403: another tenant's namespace, which RBAC refuses,
// answers exactly as a missing one.
func TestNotFoundFor403(t *testing.T) {
	acme := testutil.Tenant("acme").Owner("alice").Obj()
	var got []*http.Request
	p := testProxy(t, &got, *acme)
	w := serveAs(p, "alice", "/api/v1/namespaces/forbidden", "application/json")
	want := `{"apiVersion":"v1","code":404,"details":{"kind":"namespaces","name":"forbidden"},"kind":"Status","message":"namespaces \"forbidden\" not found","metadata":{},"reason":"NotFound","status":"Failure"}`
	if w.Code != http.StatusNotFound || w.Body.String() != want {
		t.Errorf("got %d %s\nwant 404 %s", w.Code, w.Body, want)
	}
	// Elsewhere a 403 stays a 403.
	w = serveAs(p, "alice", "/api/v1/namespaces/forbidden/secrets", "application/json")
	if w.Code != http.StatusForbidden {
		t.Errorf("a refused list: %d", w.Code)
	}
}

// TestClusterRoleManifest: config/proxy/rbac.yaml is ClusterRole().
func TestClusterRoleManifest(t *testing.T) {
	data, err := os.ReadFile("../../config/proxy/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ClusterRole(), got); diff != "" {
		t.Errorf("config/proxy/rbac.yaml differs from proxy.ClusterRole() (-code +file):\n%s", diff)
	}
}

// tlsState is the state a TLS handshake leaves for a verified client
// certificate of user.
func tlsState(user string) *tls.ConnectionState {
	return &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: user}}}}}
}

// TestUpgradeAndStream: an upgraded connection (exec, attach,
// port-forward) is relayed both ways, as the caller; a streamed answer
// (logs -f, a watch) reaches the client as it is written, not at its end.
func TestUpgradeAndStream(t *testing.T) {
	secondLine := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/namespaces/acme-web/pods/p/exec":
			if r.Header.Get("Upgrade") != "SPDY/3.1" || r.Header.Get("Impersonate-User") != "alice" || r.Header.Get("Authorization") != "" {
				http.Error(w, "not upgraded as alice: "+fmt.Sprint(r.Header), http.StatusBadRequest)
				return
			}
			conn, rw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer func() { _ = conn.Close() }()
			_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n")
			_ = rw.Flush()
			line, _ := rw.ReadString('\n')
			_, _ = rw.WriteString("echo " + line)
			_ = rw.Flush()
		case "/api/v1/namespaces/acme-web/pods/p/log":
			_, _ = io.WriteString(w, "first\n")
			w.(http.Flusher).Flush()
			<-secondLine
			_, _ = io.WriteString(w, "second\n")
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	acme := testutil.Tenant("acme").Owner("alice").Obj()
	ix := tenantview.Build([]tenancyv1alpha1.Tenant{*acme}, render.DefaultSettings())
	p := &Proxy{Upstream: u, Transport: http.DefaultTransport, Authn: &Authenticator{}, Index: func() *tenantview.Index { return ix }}
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.TLS = tlsState("alice")
		p.ServeHTTP(w, r)
	}))
	front.Start()
	defer front.Close()

	conn, err := net.Dial("tcp", front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_, _ = io.WriteString(conn, "POST /api/v1/namespaces/acme-web/pods/p/exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nImpersonate-User: admin\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	_, _ = io.WriteString(conn, "hello\n")
	if line, err := br.ReadString('\n'); err != nil || line != "echo hello\n" {
		t.Errorf("through the upgraded connection: %q, %v", line, err)
	}

	logs, err := http.Get(front.URL + "/api/v1/namespaces/acme-web/pods/p/log?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logs.Body.Close() }()
	lr := bufio.NewReader(logs.Body)
	if line, err := lr.ReadString('\n'); err != nil || line != "first\n" {
		t.Errorf("the first line, before the second is written: %q, %v", line, err)
	}
	close(secondLine)
	if line, _ := lr.ReadString('\n'); line != "second\n" {
		t.Errorf("the second line: %q", line)
	}
}

// TestWatchParameter: whatever spelling the API server takes for a watch,
// the proxy takes too; and a list it must read whole is never sent as one.
func TestWatchParameter(t *testing.T) {
	for raw, want := range map[string]bool{
		"": false, "watch=true": true, "watch=1": true, "watch=": true, "watch=yes": true, "watch=TRUE": true,
		"watch=false": false, "watch=FALSE": false, "watch=0": false,
	} {
		q, _ := url.ParseQuery(raw)
		if got := isWatch(q); got != want {
			t.Errorf("isWatch(%q) = %v, want %v", raw, got, want)
		}
	}
	acme := testutil.Tenant("acme").Owner("alice").Obj()
	acme.Status.Namespaces = []string{"acme-web"}
	var got []*http.Request
	p := testProxy(t, &got, *acme)
	for _, target := range []string{"/api/v1/configmaps?watch=", "/api/v1/configmaps?watch=yes"} {
		if w := serveAs(p, "alice", target, "application/json"); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want the watch refused", target, w.Code)
		}
	}
	got = nil
	serveAs(p, "alice", "/api/v1/configmaps?timeoutSeconds=3600&sendInitialEvents=true", "application/json")
	for _, r := range got {
		if q := r.URL.Query(); q.Get("watch") != "false" || q.Has("timeoutSeconds") || q.Has("sendInitialEvents") {
			t.Errorf("a list the proxy reads whole was sent as %s", r.URL)
		}
	}
}

// TestTokenCacheKeepsRealIdentities: made-up tokens never push out the
// identity of a real one.
func TestTokenCacheKeepsRealIdentities(t *testing.T) {
	a := &Authenticator{TTL: time.Minute, MaxEntries: 3}
	now := time.Now()
	a.remember([32]byte{1}, &Identity{User: "alice"}, now)
	for i := byte(2); i < 10; i++ {
		a.remember([32]byte{i}, nil, now)
	}
	if e, ok := a.cache[[32]byte{1}]; !ok || e.id == nil || e.id.User != "alice" {
		t.Errorf("alice's identity was pushed out by refusals: %v", a.cache)
	}
	a.remember([32]byte{20}, &Identity{User: "bob"}, now)
	if _, ok := a.cache[[32]byte{20}]; !ok || len(a.cache) > 3 {
		t.Errorf("bob's identity did not replace a refusal: %d entries", len(a.cache))
	}
	a.remember([32]byte{30}, &Identity{User: "carol"}, now.Add(2*time.Minute))
	if _, ok := a.cache[[32]byte{30}]; !ok {
		t.Error("expired entries were not dropped to make room")
	}
}
