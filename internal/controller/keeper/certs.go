package keeper

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/pki"
)

// SecretName names the Secret, in the manager's namespace, that holds the
// webhook's serving certificate, its key and the CA that signed it.
const SecretName = "bulkhead-webhook-tls"

// Certificate lifetimes: a CA for a year, a serving certificate for 90 days,
// renewed when less than a third of its life is left.
const (
	caLifetime      = 365 * 24 * time.Hour
	servingLifetime = 90 * 24 * time.Hour
	renewBefore     = 30 * 24 * time.Hour
)

// certFiles are the keys of the Secret's data that are also the names of
// the files the webhook server reads.
var certFiles = []string{"tls.crt", "tls.key", "ca.crt"}

// previousCAKey holds, after a renewal, the CA that signed the certificate
// renewed: replicas still serve that certificate until their files follow
// the Secret, so the webhook configurations trust both CAs (caBundle).
const previousCAKey = "ca-previous.crt"

// usable reports whether data holds a certificate that a replica may serve
// at now: its key matches, it is within its validity, and it verifies for
// every one of hosts against the CA of data.
func usable(data map[string][]byte, hosts []string, now time.Time) bool {
	leaf, ok := leafOf(data)
	if !ok {
		return false
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data["ca.crt"]) {
		return false
	}
	for _, h := range hosts {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: now}); err != nil {
			return false
		}
	}
	return true
}

// valid reports whether data holds a certificate that is usable for hosts
// with more than renewBefore left: one the keeper keeps rather than renews.
func valid(data map[string][]byte, hosts []string, now time.Time) bool {
	leaf, ok := leafOf(data)
	return ok && !now.Add(renewBefore).After(leaf.NotAfter) && usable(data, hosts, now)
}

// leafOf parses the serving certificate of data, if its key matches.
func leafOf(data map[string][]byte) (*x509.Certificate, bool) {
	pair, err := tls.X509KeyPair(data["tls.crt"], data["tls.key"])
	if err != nil {
		return nil, false
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	return leaf, err == nil
}

// renewalDue is when the certificate of data stops being valid for
// renewBefore, and must be replaced. A pair that cannot be read is due now.
func renewalDue(data map[string][]byte, now time.Time) time.Time {
	leaf, ok := leafOf(data)
	if !ok {
		return now
	}
	return leaf.NotAfter.Add(-renewBefore)
}

// issue makes a new CA and a serving certificate for hosts.
func issue(hosts []string, now time.Time) (map[string][]byte, error) {
	ca, err := pki.NewCA("bulkhead-webhook-ca", now, caLifetime)
	if err != nil {
		return nil, err
	}
	cert, key, err := ca.Issue(pki.Leaf{CommonName: hosts[0], Hosts: hosts, Lifetime: servingLifetime}, now)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"ca.crt": ca.CertPEM, "tls.crt": cert, "tls.key": key}, nil
}

// renew issues a certificate to replace the one of old. The CA of old is
// kept as the previous CA while the certificate it signed has not expired:
// some replica may be serving it still.
func renew(old map[string][]byte, hosts []string, now time.Time) (map[string][]byte, error) {
	data, err := issue(hosts, now)
	if err != nil {
		return nil, err
	}
	if leaf, ok := leafOf(old); ok && now.Before(leaf.NotAfter) && caUsable(old["ca.crt"], now) {
		data[previousCAKey] = old["ca.crt"]
	}
	return data, nil
}

// caBundle is what the webhook configurations trust: the CA of data, and
// the previous CA while it has not expired. The previous CA's key was never
// kept, so the only certificate it vouches for is the one renewed, itself
// expiring within renewBefore of the renewal; trusting it a while longer
// costs nothing, and the next renewal replaces it.
func caBundle(data map[string][]byte, now time.Time) []byte {
	bundle := bytes.Clone(data["ca.crt"])
	if prev := data[previousCAKey]; caUsable(prev, now) && !bytes.Equal(prev, data["ca.crt"]) {
		if len(bundle) > 0 && bundle[len(bundle)-1] != '\n' {
			bundle = append(bundle, '\n')
		}
		bundle = append(bundle, prev...)
	}
	return bundle
}

// caUsable reports whether pemBytes is a certificate that has not expired
// at now.
func caUsable(pemBytes []byte, now time.Time) bool {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return false
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	return err == nil && now.Before(ca.NotAfter)
}

// servingSecret is the Secret key holding data, labelled as Bulkhead's so
// that the keeper's watch sees it.
func servingSecret(key client.ObjectKey, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: key.Name, Namespace: key.Namespace,
			Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue},
		},
		Type: corev1.SecretTypeTLS,
		Data: data,
	}
}

// writeIfChanged writes the certificate files of data into dir, leaving
// alone those that already hold the same bytes (the webhook server reloads
// on every write). It reports whether it wrote any.
func writeIfChanged(dir string, data map[string][]byte) (bool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	wrote := false
	for _, name := range certFiles {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data[name]) {
			continue
		}
		if err := os.WriteFile(path, data[name], 0o600); err != nil {
			return wrote, fmt.Errorf("writing %s: %w", path, err)
		}
		wrote = true
	}
	return wrote, nil
}
