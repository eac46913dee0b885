package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulkhead-dev/bulkhead/internal/pki"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func TestAllowedCaller(t *testing.T) {
	cert := func(cn string, dns ...string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: dns}
	}
	names := []string{"kube-apiserver-webhook-client", "apiserver.example.com"}
	for _, tc := range []struct {
		name  string
		cert  *x509.Certificate
		names []string
		want  bool
	}{
		{"no names accept any certificate of the CA", cert("alice"), nil, true},
		{"common name listed", cert("kube-apiserver-webhook-client"), names, true},
		{"DNS name listed", cert("apiserver", "node-1.example.com", "apiserver.example.com"), names, true},
		{"neither listed", cert("alice", "alice.example.com"), names, false},
		{"names are exact, not prefixes", cert("kube-apiserver-webhook-client-2"), names, false},
		{"names are case-sensitive", cert("Kube-Apiserver-Webhook-Client"), names, false},
		{"an empty common name matches nothing", cert(""), []string{""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AllowedCaller(tc.cert, tc.names); got != tc.want {
				t.Errorf("AllowedCaller = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewClientGuardRefusesDataWithoutCertificate(t *testing.T) {
	ca := mustCA(t, "callers")
	_, key := mustLeaf(t, ca, "someone")
	for name, data := range map[string][]byte{"empty": nil, "a key": key, "not PEM": []byte("ca.crt")} {
		if _, err := NewClientGuard(ClientAuth{CA: data}, time.Now()); err == nil {
			t.Errorf("%s: NewClientGuard accepted a CA without a certificate", name)
		}
	}
}

// TestClientGuardRefusesAtHandshake serves a handler behind the guard and
// calls it as each kind of caller: the refused ones fail the TLS handshake
// and never reach the handler.
func TestClientGuardRefusesAtHandshake(t *testing.T) {
	callers := mustCA(t, "callers")
	other := mustCA(t, "other")
	guard, err := NewClientGuard(ClientAuth{CA: callers.CertPEM, Names: []string{"kube-apiserver"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var served atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected here
	srv.TLS = &tls.Config{}
	guard.Configure(srv.TLS)
	srv.StartTLS()
	defer srv.Close()

	call := func(cert, key []byte) (*http.Response, error) {
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		c, err := testutil.HTTPSClient(roots, cert, key)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdleConnections()
		resp, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
		if resp != nil {
			_ = resp.Body.Close()
		}
		return resp, err
	}
	apiCert, apiKey := mustLeaf(t, callers, "kube-apiserver")
	userCert, userKey := mustLeaf(t, callers, "alice")
	otherCert, otherKey := mustLeaf(t, other, "kube-apiserver")
	for _, tc := range []struct {
		name      string
		cert, key []byte
		alert     string // the TLS alert the client gets; "" when answered
	}{
		{"no client certificate", nil, nil, "certificate required"},
		{"signed by another CA", otherCert, otherKey, "unknown certificate authority"},
		{"signed by the CA for another name", userCert, userKey, "bad certificate"},
		{"the API server", apiCert, apiKey, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := served.Load()
			resp, err := call(tc.cert, tc.key)
			if tc.alert == "" {
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("got %v, %v; want an answer", resp, err)
				}
				return
			}
			var op *net.OpError
			if err == nil || !errors.As(err, &op) || op.Op != "remote error" || !strings.Contains(err.Error(), tc.alert) {
				t.Fatalf("got response %v, error %v; want the TLS alert %q", resp, err, tc.alert)
			}
			if served.Load() != before {
				t.Error("the handler ran for a refused caller")
			}
		})
	}

	if err := guard.ReadyChecker(srv.Listener.Addr().String())(nil); err != nil {
		t.Errorf("readiness check: %v", err)
	}
}

func mustCA(t *testing.T, name string) *pki.CA {
	t.Helper()
	ca, err := pki.NewCA(name, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func mustLeaf(t *testing.T, ca *pki.CA, commonName string) (cert, key []byte) {
	t.Helper()
	cert, key, err := ca.Issue(pki.Leaf{CommonName: commonName, Lifetime: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}
