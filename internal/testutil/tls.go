package testutil

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"time"
)

// HTTPSClient is a client that trusts roots and, when cert is not nil,
// presents cert (PEM, with its key) whatever CAs the server asks for, as an
// attacker would: Go's client otherwise withholds a certificate of a CA the
// server does not name, and a test of the server's refusal would not reach it.
// Callers close idle connections when done.
func HTTPSClient(roots *x509.CertPool, cert, key []byte) (*http.Client, error) {
	cfg := &tls.Config{RootCAs: roots}
	if cert != nil {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}, nil
}
