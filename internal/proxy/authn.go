package proxy

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Identity is an authenticated caller.
type Identity struct {
	User   string
	UID    string
	Groups []string
	Extra  map[string][]string
	// token is the caller's bearer token, forwarded as it came when the
	// proxy's own credentials are a bearer token too (PassTokens): the API
	// server then authenticates and audits the caller itself, with no
	// impersonation to authorize, group by group. Never with a client
	// certificate of the proxy's, which the API server would prefer.
	token string
}

// errUnauthenticated: no credential, or one nobody vouches for.
var errUnauthenticated = errors.New("unauthenticated")

// Authenticator authenticates callers by client certificate (verified by
// the TLS handshake against the cluster's client CA) or bearer token
// (TokenReview, cached for TTL, good and bad answers alike, so that a flood
// of made-up tokens costs the API server one review per token per TTL).
type Authenticator struct {
	// Reviewer creates TokenReviews with the proxy's own credentials.
	Reviewer client.Client
	// PassTokens forwards a caller's bearer token rather than impersonate
	// it; set only when the proxy presents no client certificate.
	PassTokens bool
	TTL        time.Duration
	// MaxEntries bounds the cache; when full, expired entries go, and
	// then an unknown token's refusal is not kept, so that made-up tokens
	// never push out the identities of real ones.
	MaxEntries int
	// Unknown limits the TokenReviews of tokens not in the cache (nil: no
	// limit): a flood of made-up tokens waits for it, rather than spending
	// the proxy's share of the API server.
	Unknown *rate.Limiter

	mu    sync.Mutex
	cache map[[sha256.Size]byte]tokenEntry
}

type tokenEntry struct {
	id      *Identity
	expires time.Time
}

// Authenticate returns the caller of r.
func (a *Authenticator) Authenticate(r *http.Request) (*Identity, error) {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		cert := r.TLS.VerifiedChains[0][0]
		groups := append([]string(nil), cert.Subject.Organization...)
		return &Identity{User: cert.Subject.CommonName, Groups: append(groups, "system:authenticated")}, nil
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return nil, errUnauthenticated
	}
	id, err := a.review(r.Context(), strings.TrimSpace(token))
	if err != nil || !a.PassTokens {
		return id, err
	}
	passed := *id
	passed.token = strings.TrimSpace(token)
	return &passed, nil
}

func (a *Authenticator) review(ctx context.Context, token string) (*Identity, error) {
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	a.mu.Lock()
	e, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(e.expires) {
		if e.id == nil {
			return nil, errUnauthenticated
		}
		return e.id, nil
	}
	if a.Unknown != nil {
		if err := a.Unknown.Wait(ctx); err != nil {
			return nil, err
		}
	}
	tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	if err := a.Reviewer.Create(ctx, tr); err != nil {
		// Not cached: the API server did not answer about the token.
		return nil, err
	}
	var id *Identity
	if tr.Status.Authenticated {
		u := tr.Status.User
		id = &Identity{User: u.Username, UID: u.UID, Groups: u.Groups, Extra: map[string][]string{}}
		for k, v := range u.Extra {
			id.Extra[k] = v
		}
	}
	a.remember(key, id, now)
	if id == nil {
		return nil, errUnauthenticated
	}
	return id, nil
}

// remember caches a token's answer. A full cache first drops what expired;
// if it is still full, a refusal is not kept and an identity replaces a
// refusal, so that made-up tokens cannot crowd out real ones.
func (a *Authenticator) remember(key [sha256.Size]byte, id *Identity, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cache == nil {
		a.cache = map[[sha256.Size]byte]tokenEntry{}
	}
	if len(a.cache) >= a.MaxEntries {
		for k, e := range a.cache {
			if !now.Before(e.expires) {
				delete(a.cache, k)
			}
		}
	}
	if len(a.cache) >= a.MaxEntries {
		if id == nil {
			return
		}
		for k, e := range a.cache {
			if e.id == nil {
				delete(a.cache, k)
				break
			}
		}
		if len(a.cache) >= a.MaxEntries {
			return
		}
	}
	a.cache[key] = tokenEntry{id: id, expires: now.Add(a.TTL)}
}

// addAuthentication registers TokenReview with scheme.
func addAuthentication(scheme *runtime.Scheme) error {
	return authenticationv1.AddToScheme(scheme)
}
