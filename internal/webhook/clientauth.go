package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/bulkhead-dev/bulkhead/internal/pki"
)

// ClientAuth says which callers the webhook server accepts. Its only
// legitimate caller is the API server; a handler cannot tell a forged
// AdmissionReview from a real one by its body, and some handlers change
// state on what they are told (the tenant-quota handler charges the Tenant's
// status). So the server refuses the TLS handshake of any client that does
// not present a certificate signed by CA, before any handler runs.
type ClientAuth struct {
	// CA holds one or more PEM CA certificates: those that sign the client
	// certificate the API server presents to webhooks (its admission
	// kubeconfig).
	CA []byte
	// Names, when not empty, are the callers accepted: the certificate's
	// common name or one of its DNS names must be listed. Set it whenever CA
	// also signs certificates for others (a cluster CA signs every user's and
	// kubelet's), or any of them could call the webhook.
	Names []string
}

// ClientGuard verifies the webhook server's callers. It also holds a
// certificate for the manager's own readiness check, issued by a CA that
// exists only in this process's memory, so that the check completes a
// handshake (the server would otherwise log a refused one at every probe)
// without admitting any other caller.
type ClientGuard struct {
	callers *x509.CertPool
	names   []string
	// selfRoot signs selfCert; neither the key nor the certificate ever
	// leave the process.
	selfRoot *x509.Certificate
	selfCert tls.Certificate
}

// selfLifetime outlives any manager process: the readiness certificate is
// made anew at each start.
const selfLifetime = 10 * 365 * 24 * time.Hour

// NewClientGuard checks a and prepares the readiness check's identity.
func NewClientGuard(a ClientAuth, now time.Time) (*ClientGuard, error) {
	certs, err := parseCertificates(a.CA)
	if err != nil {
		return nil, fmt.Errorf("webhook client CA: %w", err)
	}
	self, err := pki.NewCA("bulkhead-manager-readiness", now, selfLifetime)
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := self.Issue(pki.Leaf{CommonName: "bulkhead-manager-readiness", Lifetime: selfLifetime}, now)
	if err != nil {
		return nil, err
	}
	selfCert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	selfRoots, err := parseCertificates(self.CertPEM)
	if err != nil {
		return nil, err
	}
	g := &ClientGuard{callers: x509.NewCertPool(), names: slices.Clone(a.Names), selfRoot: selfRoots[0], selfCert: selfCert}
	for _, c := range certs {
		g.callers.AddCert(c)
	}
	g.callers.AddCert(g.selfRoot)
	return g, nil
}

// parseCertificates reads every CERTIFICATE block of data; it refuses data
// with none, so that a wrong file (a key, an empty ConfigMap) stops the
// manager instead of trusting nobody, or everybody, silently.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CERTIFICATE found")
	}
	return out, nil
}

// Configure is a webhook.Options TLSOpts function: it makes the server
// require a client certificate that chains to the configured CA, and check
// its name. The handshake fails otherwise, so a refused caller never
// reaches a handler.
func (g *ClientGuard) Configure(cfg *tls.Config) {
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.ClientCAs = g.callers
	cfg.VerifyConnection = g.verifyConnection
}

// verifyConnection runs after the chain is verified: the readiness check is
// known by its root; everyone else must carry an allowed name.
func (g *ClientGuard) verifyConnection(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 || len(cs.VerifiedChains) == 0 {
		return errors.New("webhook client presented no verified certificate")
	}
	for _, chain := range cs.VerifiedChains {
		if chain[len(chain)-1].Equal(g.selfRoot) {
			return nil // only the readiness certificate chains to it
		}
	}
	leaf := cs.PeerCertificates[0]
	if !AllowedCaller(leaf, g.names) {
		return fmt.Errorf("webhook client %q (DNS names %v) is not among the allowed callers %v", leaf.Subject.CommonName, leaf.DNSNames, g.names)
	}
	return nil
}

// AllowedCaller reports whether cert names one of names, by its common name
// or a DNS name; every certificate is allowed when names is empty.
func AllowedCaller(cert *x509.Certificate, names []string) bool {
	if len(names) == 0 {
		return true
	}
	if cert.Subject.CommonName != "" && slices.Contains(names, cert.Subject.CommonName) {
		return true
	}
	for _, n := range cert.DNSNames {
		if slices.Contains(names, n) {
			return true
		}
	}
	return false
}

// ReadyChecker reports the webhook server ready once it completes a TLS
// handshake at addr (host:port) with the readiness identity. It replaces
// controller-runtime's StartedChecker, which dials without a client
// certificate and would be refused.
func (g *ClientGuard) ReadyChecker(addr string) healthz.Checker {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{g.selfCert},
		// The check asks whether the server listens and completes
		// handshakes; which serving certificate it holds is the Keeper's
		// business.
		InsecureSkipVerify: true, //nolint:gosec // a probe of our own listener; nothing is sent
	}
	return func(_ *http.Request) error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
		if err != nil {
			return fmt.Errorf("webhook server is not reachable: %w", err)
		}
		return conn.Close()
	}
}

// clientVerification says on the metrics endpoint whether the webhook
// server verifies its callers, so that an opted-out installation shows on
// dashboards and alerts, not only in a start-up log line.
var clientVerification = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "bulkhead_webhook_client_verification",
	Help: "1 when the webhook server accepts only callers with a client certificate signed by the configured CA; 0 when anyone who reaches its port may call it.",
})

func init() {
	metrics.Registry.MustRegister(clientVerification)
}

// RecordClientVerification sets bulkhead_webhook_client_verification.
func RecordClientVerification(on bool) {
	if on {
		clientVerification.Set(1)
	} else {
		clientVerification.Set(0)
	}
}
