package pki

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"
)

func TestIssuedCertificatesVerifyAgainstTheirCA(t *testing.T) {
	now := time.Now()
	ca, err := NewCA("test-ca", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.CertPEM) {
		t.Fatal("CA PEM does not parse")
	}

	serving, key, err := ca.Issue(Leaf{CommonName: "svc", Hosts: []string{"localhost", "127.0.0.1"}, Lifetime: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf := parse(t, serving, key)
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
			t.Errorf("serving certificate does not verify for %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: pool}); err == nil {
		t.Error("serving certificate verifies for a host it does not name")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: pool, CurrentTime: now.Add(2 * time.Hour)}); err == nil {
		t.Error("serving certificate verifies after its lifetime")
	}

	client, ckey, err := ca.Issue(Leaf{CommonName: "admin", Organizations: []string{"system:masters"}, Lifetime: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	c := parse(t, client, ckey)
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not verify: %v", err)
	}
	if len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != "system:masters" {
		t.Errorf("client groups = %v, want [system:masters]", c.Subject.Organization)
	}
}

func parse(t *testing.T, certPEM, keyPEM []byte) *x509.Certificate {
	t.Helper()
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("key pair: %v", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}
