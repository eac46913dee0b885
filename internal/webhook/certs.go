package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/bulkhead-dev/bulkhead/internal/pki"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get;list;watch;create;update;patch

// Certificate lifetimes: a CA for a year, a serving certificate for 90 days,
// renewed when less than a third of its life is left.
const (
	caLifetime      = 365 * 24 * time.Hour
	servingLifetime = 90 * 24 * time.Hour
	renewBefore     = 30 * 24 * time.Hour
)

// Keeper makes and rotates the webhook's serving certificate, stores it in a
// Secret (so that every replica serves the same one), writes it to CertDir
// for the webhook server (which reloads files when they change), and keeps
// the webhook configurations applied with the CA bundle injected.
type Keeper struct {
	Client   client.Client
	Secret   client.ObjectKey
	CertDir  string
	Hosts    []string // DNS names or IPs the certificate must cover
	Endpoint Endpoint
	Settings render.Settings
	Interval time.Duration
}

// Ensure runs one round: renew if needed, write files, apply configurations.
func (k *Keeper) Ensure(ctx context.Context) error {
	secret := &corev1.Secret{}
	err := k.Client.Get(ctx, k.Secret, secret)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading webhook secret %s: %w", k.Secret, err)
	}
	exists := err == nil
	if !exists || !valid(secret.Data, k.Hosts, time.Now()) {
		data, err := issue(k.Hosts, time.Now())
		if err != nil {
			return err
		}
		secret.Name, secret.Namespace = k.Secret.Name, k.Secret.Namespace
		secret.Type = corev1.SecretTypeTLS
		secret.Data = data
		if exists {
			err = k.Client.Update(ctx, secret)
		} else {
			err = k.Client.Create(ctx, secret)
		}
		if err != nil {
			return fmt.Errorf("storing webhook certificate in %s: %w", k.Secret, err)
		}
		ctrl.LoggerFrom(ctx).Info("Issued webhook serving certificate", "secret", k.Secret.String(), "hosts", k.Hosts)
	}
	if err := writeIfChanged(k.CertDir, secret.Data); err != nil {
		return err
	}
	served, err := MutatingPoliciesServed(k.Client.RESTMapper())
	if err != nil {
		return fmt.Errorf("discovering MutatingAdmissionPolicy: %w", err)
	}
	mutating, validating := Configurations(k.Endpoint, secret.Data["ca.crt"], k.Settings, !served)
	for _, obj := range []client.Object{mutating, validating} {
		if err := k.Client.Patch(ctx, obj, client.Apply, client.FieldOwner("bulkhead"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying webhook configuration: %w", err)
		}
	}
	return nil
}

// Start keeps the certificate and configurations current until ctx ends.
func (k *Keeper) Start(ctx context.Context) error {
	interval := k.Interval
	if interval == 0 {
		interval = time.Minute
	}
	for {
		if err := k.Ensure(ctx); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Keeping webhook certificate")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// valid reports whether data holds a certificate for hosts, signed by its CA,
// with more than renewBefore left.
func valid(data map[string][]byte, hosts []string, now time.Time) bool {
	pair, err := tls.X509KeyPair(data["tls.crt"], data["tls.key"])
	if err != nil {
		return false
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || now.Add(renewBefore).After(leaf.NotAfter) {
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

func writeIfChanged(dir string, data map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, name := range []string{"tls.crt", "tls.key", "ca.crt"} {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data[name]) {
			continue
		}
		if err := os.WriteFile(path, data[name], 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

// NeedLeaderElection is false: every replica serves the webhook and needs the
// certificate files; concurrent issuance is settled by the Secret's
// resourceVersion (the loser reads the winner's certificate next round).
func (k *Keeper) NeedLeaderElection() bool { return false }
