package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/tenantview"
)

// Options configure a bulkhead-proxy.
type Options struct {
	// Config is the proxy's own identity towards the API server: it must
	// may impersonate, create TokenReviews and list and watch Tenants
	// (config/proxy).
	Config *rest.Config
	// Addr is where tenants reach the proxy; AuthorizationAddr where the
	// API server reaches the authorization webhook ("" serves none).
	Addr, AuthorizationAddr string
	// CertFile and KeyFile are the serving certificate of both.
	CertFile, KeyFile string
	// ClientCAFile verifies tenants' client certificates and the API
	// server's webhook client certificate.
	ClientCAFile string
	// AuthorizationCallers are the common names the API server's client
	// certificate may carry.
	AuthorizationCallers []string
	// TokenTTL is how long a TokenReview's answer is reused.
	TokenTTL time.Duration
	// Settings complete tenants' profiles as the manager does (the Hard
	// profile's runtime class is the sandbox class).
	Settings render.Settings
	Log      logr.Logger
}

// Server is a running bulkhead-proxy.
type Server struct {
	// Addr and AuthorizationAddr are where it listens.
	Addr, AuthorizationAddr string

	servers []*http.Server
	done    chan struct{}
	errs    chan error
}

// Start starts the proxy: its Tenant cache, its listeners. It returns once
// the cache is synced and both listen; Stop ends it.
func Start(ctx context.Context, o Options) (*Server, error) {
	scheme := runtime.NewScheme()
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	_ = addAuthentication(scheme)
	c, err := cache.New(o.Config, cache.Options{Scheme: scheme, DefaultTransform: cache.TransformStripManagedFields()})
	if err != nil {
		return nil, err
	}
	idx := &liveIndex{reader: c, settings: o.Settings}
	informer, err := c.GetInformer(ctx, &tenancyv1alpha1.Tenant{})
	if err != nil {
		return nil, err
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { idx.invalidate() },
		UpdateFunc: func(any, any) { idx.invalidate() },
		DeleteFunc: func(any) { idx.invalidate() },
	}); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	go func() { _ = c.Start(runCtx) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	if !c.WaitForCacheSync(syncCtx) {
		cancel()
		return nil, errors.New("the Tenant cache did not sync within a minute")
	}

	reviewer, err := client.New(o.Config, client.Options{Scheme: scheme})
	if err != nil {
		cancel()
		return nil, err
	}
	transport, err := rest.TransportFor(o.Config)
	if err != nil {
		cancel()
		return nil, err
	}
	upstream, err := url.Parse(o.Config.Host)
	if err != nil {
		cancel()
		return nil, err
	}
	namespaced, err := newNamespacedKinds(o.Config)
	if err != nil {
		cancel()
		return nil, err
	}
	tlsConfig, err := serverTLS(o)
	if err != nil {
		cancel()
		return nil, err
	}
	p := &Proxy{
		Upstream: upstream, Transport: transport,
		Authn: &Authenticator{Reviewer: reviewer, TTL: o.TokenTTL, MaxEntries: 10000,
			// Fifty reviews a second of tokens not seen lately, bursts of
			// a hundred: made-up tokens wait, the API server does not pay.
			Unknown: rate.NewLimiter(50, 100),
			// A client certificate of the proxy's would win over the
			// caller's token at the API server: impersonate then.
			PassTokens: len(o.Config.CertData) == 0 && o.Config.CertFile == "" && o.Config.ExecProvider == nil},
		Index:      idx.get,
		Namespaced: namespaced.namespaced,
		Log:        o.Log,
	}
	s := &Server{done: make(chan struct{}), errs: make(chan error, 2)}
	serve := func(addr string, h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: h, TLSConfig: tlsConfig, ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		go func() {
			if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- err
			}
		}()
		return ln.Addr().String(), nil
	}
	if s.Addr, err = serve(o.Addr, p); err != nil {
		cancel()
		return nil, err
	}
	if o.AuthorizationAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/authorize", &AuthorizationWebhook{Index: idx.get, Callers: o.AuthorizationCallers})
		if s.AuthorizationAddr, err = serve(o.AuthorizationAddr, mux); err != nil {
			s.close()
			cancel()
			return nil, err
		}
	}
	go func() {
		<-s.done
		cancel()
	}()
	return s, nil
}

// Stop stops the listeners and the cache.
func (s *Server) Stop() {
	s.close()
	close(s.done)
}

// Err reports a listener that failed.
func (s *Server) Err() <-chan error { return s.errs }

func (s *Server) close() {
	for _, srv := range s.servers {
		_ = srv.Close()
	}
}

// serverTLS serves the certificate files (read at each handshake, so that
// a renewed certificate is taken up without a restart) and verifies client
// certificates when given, against the client CA.
func serverTLS(o Options) (*tls.Config, error) {
	caPEM, err := os.ReadFile(o.ClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("reading the client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in %s", o.ClientCAFile)
	}
	if _, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile); err != nil {
		return nil, fmt.Errorf("loading the serving certificate: %w", err)
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		ClientAuth:     tls.VerifyClientCertIfGiven,
		ClientCAs:      pool,
		GetCertificate: (&certFiles{cert: o.CertFile, key: o.KeyFile}).get,
	}, nil
}

// certFiles serves a certificate from files, parsed again only when a file
// changed: a handshake must not cost a parse, or a flood of them would.
type certFiles struct {
	cert, key string
	mu        sync.Mutex
	stamp     string
	loaded    *tls.Certificate
}

func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	stamp := ""
	for _, f := range []string{c.cert, c.key} {
		info, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		stamp += info.ModTime().String() + fmt.Sprint(info.Size())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded != nil && stamp == c.stamp {
		return c.loaded, nil
	}
	cert, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return nil, err
	}
	c.loaded, c.stamp = &cert, stamp
	return c.loaded, nil
}

// liveIndex is the membership index, rebuilt from the cache after any
// Tenant changed, when next asked for.
type liveIndex struct {
	reader   client.Reader
	settings render.Settings
	mu       sync.Mutex
	dirty    bool
	ix       *tenantview.Index
}

func (l *liveIndex) invalidate() {
	l.mu.Lock()
	l.dirty = true
	l.mu.Unlock()
}

func (l *liveIndex) get() *tenantview.Index {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ix != nil && !l.dirty {
		return l.ix
	}
	list := &tenancyv1alpha1.TenantList{}
	if err := l.reader.List(context.Background(), list, client.UnsafeDisableDeepCopy); err != nil {
		if l.ix != nil {
			return l.ix
		}
		return tenantview.Build(nil, l.settings)
	}
	l.ix, l.dirty = tenantview.Build(list.Items, l.settings), false
	return l.ix
}

// namespacedKinds knows, from discovery, which resources are namespaced,
// refreshed when asked about one it does not know (at most once a minute).
type namespacedKinds struct {
	dc      discovery.DiscoveryInterface
	mu      sync.Mutex
	known   map[string]bool
	fetched time.Time
}

func newNamespacedKinds(cfg *rest.Config) (*namespacedKinds, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	n := &namespacedKinds{dc: dc}
	n.refresh()
	return n, nil
}

func (n *namespacedKinds) refresh() {
	_, lists, _ := n.dc.ServerGroupsAndResources()
	known := map[string]bool{}
	for _, l := range lists {
		prefix := "/apis/" + l.GroupVersion
		if l.GroupVersion == "v1" {
			prefix = "/api/v1"
		}
		for _, r := range l.APIResources {
			known[prefix+"/"+r.Name] = r.Namespaced
		}
	}
	n.known, n.fetched = known, time.Now()
}

func (n *namespacedKinds) namespaced(prefix, resource string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	key := prefix + "/" + resource
	if _, ok := n.known[key]; !ok && time.Since(n.fetched) > time.Minute {
		n.refresh()
	}
	return n.known[key]
}
