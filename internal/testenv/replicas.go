package testenv

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/bulkhead-dev/bulkhead/internal/controller/keeper"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// Replicas are several managers in this process, each serving the webhook
// on a port of its own, behind a front that the API server reaches on the
// port its webhook configurations name and that sends each request to the
// next replica in turn, as a Service spreads requests over config/default's
// replicas. Only one replica leads (runs the controllers); all serve the
// webhook, which is what the replicas are there to test.
type Replicas struct {
	env     *Env
	server  *http.Server
	backend []*url.URL
	served  []atomic.Int64
	next    atomic.Uint64
	stops   []context.CancelFunc
	dones   []chan error
	wg      sync.WaitGroup
}

// StartReplicas stops the environment's manager and runs n replicas behind
// a round-robin front in its place. Stop puts the single manager back.
func (e *Env) StartReplicas(n int) (*Replicas, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The front presents the webhook's serving certificate, which the
	// configurations' CA bundle verifies; the manager has issued it.
	secret := &corev1.Secret{}
	if err := e.Client.Get(ctx, keeper.SecretKey(e.Settings), secret); err != nil {
		return nil, fmt.Errorf("reading the webhook's serving certificate: %w", err)
	}
	serving, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"])
	if err != nil {
		return nil, err
	}
	// Toward the replicas, the front is the API server: they accept only
	// its client certificate.
	apiServer, err := tls.X509KeyPair(e.Cluster.WebhookClientCert, e.Cluster.WebhookClientKey)
	if err != nil {
		return nil, err
	}
	e.StopManager()
	r := &Replicas{env: e, served: make([]atomic.Int64, n)}
	for i := range n {
		if err := r.startReplica(); err != nil {
			r.stopReplicas()
			return nil, fmt.Errorf("replica %d: %w", i, err)
		}
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			i := int((r.next.Add(1) - 1) % uint64(len(r.backend)))
			r.served[i].Add(1)
			pr.SetURL(r.backend[i])
		},
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{Certificates: []tls.Certificate{apiServer}, InsecureSkipVerify: true}, //nolint:gosec // our own replicas on loopback
			MaxIdleConnsPerHost: 64,
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(e.webhookPort))
	if err != nil {
		r.stopReplicas()
		return nil, fmt.Errorf("listening on the webhook's port: %w", err)
	}
	r.server = &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{serving}, MinVersion: tls.VersionTLS12}}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_ = r.server.ServeTLS(ln, "", "")
	}()
	return r, nil
}

func (r *Replicas) startReplica() error {
	e := r.env
	m := ManagerConfig{Settings: e.Settings, QuotaRecount: 2 * time.Second}
	if err := m.complete(); err != nil {
		return err
	}
	user, groups := m.identity()
	o := m.options(e.Cluster)
	// The configurations name the front, as they name a Service.
	o.WebhookEndpoint = bwebhook.Endpoint{URL: "https://localhost:" + strconv.Itoa(e.webhookPort)}
	o.Restartable = true
	o.LeaderElection = true
	mgr, err := setup.NewManager(devcluster.ImpersonateConfig(e.Cluster.Config, user, groups...), o)
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	r.stops, r.dones = append(r.stops, stop), append(r.dones, done)
	r.backend = append(r.backend, &url.URL{Scheme: "https", Host: "127.0.0.1:" + strconv.Itoa(m.WebhookPort)})
	return waitForWebhook(e.Cluster, m.WebhookPort, 30*time.Second, func() error {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("replica stopped before its webhook answered: %v", err) //nolint:errorlint // err may be nil
		default:
			return nil
		}
	})
}

// Served is how many webhook requests the front sent to each replica.
func (r *Replicas) Served() []int64 {
	out := make([]int64, len(r.served))
	for i := range r.served {
		out[i] = r.served[i].Load()
	}
	return out
}

func (r *Replicas) stopReplicas() {
	for i, stop := range r.stops {
		stop()
		select {
		case err := <-r.dones[i]:
			// Asked to stop, a replica ends without error; whatever else
			// it hit has already failed the tests that needed it.
			_ = err
		case <-time.After(30 * time.Second):
		}
	}
}

// Stop stops the front and the replicas and starts the environment's
// single manager again.
func (r *Replicas) Stop() error {
	var errs []error
	if r.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, r.server.Shutdown(ctx))
		cancel()
		r.wg.Wait()
	}
	r.stopReplicas()
	errs = append(errs, r.env.StartManager())
	return errors.Join(errs...)
}
