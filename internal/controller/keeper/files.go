package keeper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CertFiles copies the serving certificate from its Secret to the files
// the webhook server reads, on every replica: each one serves the webhook.
// It reads the Secret from the cache and never writes to the API server;
// issuing and renewing is the leader's Keeper's business.
type CertFiles struct {
	Reader client.Reader
	Secret client.ObjectKey
	Dir    string
	// Hosts are the names the certificate must cover for a replica to serve it.
	Hosts []string
	// fromSecret: the files hold the Secret's certificate, not a placeholder.
	fromSecret atomic.Bool
}

// Reconcile writes the Secret's certificate to Dir when it differs.
func (f *CertFiles) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	secret := &corev1.Secret{}
	if err := f.Reader.Get(ctx, f.Secret, secret); err != nil {
		// Not issued yet: the leader's Keeper will, and the watch brings it.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !usable(secret.Data, f.Hosts, time.Now()) {
		// Expired, for other hosts, or unreadable: the files and the
		// readiness are left as they are (what the replica serves is no
		// worse), and the Keeper replaces the Secret.
		return ctrl.Result{}, nil
	}
	wrote, err := writeIfChanged(f.Dir, secret.Data)
	if err != nil {
		return ctrl.Result{}, err
	}
	if wrote {
		ctrl.LoggerFrom(ctx).Info("Wrote webhook serving certificate from its Secret", "secret", f.Secret.String(), "dir", f.Dir)
	}
	f.fromSecret.Store(true)
	return ctrl.Result{}, nil
}

// Checker is a readiness check: a replica is ready to serve the webhook
// once it serves the certificate whose CA the webhook configurations carry.
func (f *CertFiles) Checker(*http.Request) error {
	if !f.fromSecret.Load() {
		return errors.New("the webhook serving certificate is not yet issued into its Secret")
	}
	return nil
}

// WriteInitialFiles gives the webhook server certificate files to start
// with, before the manager runs: the server will not start without them,
// and the certificate may only be issued by the leader, which is elected
// after the server starts. It copies the Secret's certificate when there is
// one that it may serve (within its validity, for hosts); where none was
// issued yet, or the Secret's cannot be served, it writes a placeholder,
// known to nobody, that CertFiles replaces as soon as the leader issues the
// real one (until then the readiness check fails). It only reads from the
// API server, through r.
func WriteInitialFiles(ctx context.Context, r client.Reader, key client.ObjectKey, dir string, hosts []string) (*CertFiles, error) {
	f := &CertFiles{Secret: key, Dir: dir, Hosts: hosts}
	secret := &corev1.Secret{}
	err := r.Get(ctx, key, secret)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("reading webhook secret %s: %w", key, err)
	}
	now := time.Now()
	if err == nil && usable(secret.Data, hosts, now) {
		if _, err := writeIfChanged(dir, secret.Data); err != nil {
			return nil, err
		}
		f.fromSecret.Store(true)
		return f, nil
	}
	placeholder, err := issue(hosts, now)
	if err != nil {
		return nil, err
	}
	if _, err := writeIfChanged(dir, placeholder); err != nil {
		return nil, err
	}
	return f, nil
}
