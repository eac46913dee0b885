package tenant

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// buckets holds one token bucket per key: a tenant, or the address of a
// client of no tenant, so that no two of those ever share one.
type buckets struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
	// max bounds the buckets allow creates when asked to (those of
	// addresses, which a client spoofing source addresses could otherwise
	// multiply without end); a tenant's bucket is always made.
	max int
}

// maxClientBuckets is how many buckets exist before a new address of no
// tenant is refused: some ten seconds (a sweep) of 6,500 new addresses a
// second, a few tens of MiB.
const maxClientBuckets = 65536

func newBuckets() *buckets { return &buckets{m: map[string]*rate.Limiter{}, max: maxClientBuckets} }

// allow takes a token from key's bucket, creating the bucket full (unless
// bounded and max buckets exist), and moving it to qps and burst should the
// Tenant have changed them.
func (b *buckets) allow(key string, qps, burst int32, now time.Time, bounded bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.m[key]
	if l == nil {
		if bounded && len(b.m) >= b.max {
			return false
		}
		l = rate.NewLimiter(rate.Limit(qps), int(burst))
		b.m[key] = l
	} else {
		if l.Limit() != rate.Limit(qps) {
			l.SetLimitAt(now, rate.Limit(qps))
		}
		if l.Burst() != int(burst) {
			l.SetBurstAt(now, int(burst))
		}
	}
	return l.AllowN(now, 1)
}

// sweep forgets buckets that have refilled: a full bucket is what allow
// would create, so forgetting it changes no answer, and the addresses of
// clients that came once do not pile up.
func (b *buckets) sweep(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, l := range b.m {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(b.m, k)
		}
	}
}

func (b *buckets) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
