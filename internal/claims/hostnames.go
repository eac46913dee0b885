package claims

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// +kubebuilder:rbac:groups=tenancy.bulkhead.dev,resources=hostnameclaims,verbs=get;create;update

// CatchAll stands for the hostnames nobody else claims: a rule without a
// host, or a default backend, serves them.
const CatchAll = "*"

// HoldGrace is how long a hold protects its hostname without an Ingress of
// its tenant in the cache: the time between an admission and the cache
// showing the stored Ingress, with a wide margin.
const HoldGrace = 30 * time.Second

// WildcardOf is the wildcard that would match host ("*.b.c" for "a.b.c"),
// or "" for a wildcard, the catch-all or a single label.
func WildcardOf(host string) string {
	if strings.HasPrefix(host, "*") {
		return ""
	}
	i := strings.Index(host, ".")
	if i < 0 {
		return ""
	}
	return "*" + host[i:]
}

// Conflicts reports whether two hostnames would route the same requests.
func Conflicts(a, b string) bool {
	return a == b || WildcardOf(a) == b || WildcardOf(b) == a
}

// GroupOf is the group of host: every hostname it conflicts with has the
// same group.
func GroupOf(host string) string {
	if w := WildcardOf(host); w != "" {
		return w
	}
	return host
}

// ClaimName is the name of a group's HostnameClaim, a DNS-1123 subdomain
// that no other group has: "any" for the catch-all, "w." and the domain
// for a wildcard, "h." and the name for a single label (which has no dot,
// so it never meets a wildcard's name).
func ClaimName(group string) string {
	switch {
	case group == CatchAll:
		return "any"
	case strings.HasPrefix(group, "*."):
		return "w." + group[2:]
	default:
		return "h." + group
	}
}

// MaxHoldsPerTenant bounds one tenant's holds in one claim. Holds are
// written before the Ingress is stored, so a tenant re-sending an Ingress
// the API server then refuses (say, under a name that exists) leaves holds
// that no Ingress serves, each fresh for HoldGrace; unbounded, a few such
// requests would fill the claim to its MaxItems, and no tenant could take
// a name in its group. A claim holds 20 tenants at this bound.
const MaxHoldsPerTenant = 500

// Blocked names a hold that keeps a hostname from a tenant.
type Blocked struct {
	// TooMany says the tenant already holds MaxHoldsPerTenant names in the
	// group; Host is then one of the tenant's names and Holder the tenant.
	TooMany bool
	// Host is the tenant's hostname that is refused.
	Host string
	// Holder is the tenant holding a conflicting name.
	Holder string
	// Fresh says the hold is younger than HoldGrace: its Ingress was
	// admitted moments ago.
	Fresh bool
}

// LiveFunc reports whether an Ingress of tenant serving host exists.
type LiveFunc func(ctx context.Context, host, tenant string) (bool, error)

// Hold decides whether tenant may take hosts (all of one group) given the
// group's holds, and returns the holds to write: the tenant's own, stamped
// now, and the others' that still stand. A hold of another tenant on a
// conflicting name stands while fresh or live; one that is neither is
// dropped. blocked is nil when the tenant may take the hosts. write is
// false when the holds need no change: every host is already held by the
// tenant since less than half of HoldGrace (which spares concurrent
// creates of one tenant a write each), and no hold is dropped.
func Hold(ctx context.Context, holds []tenancyv1alpha1.HostnameHold, hosts []string, tenant string, now time.Time, live LiveFunc) (out []tenancyv1alpha1.HostnameHold, blocked *Blocked, write bool, err error) {
	mine := map[string]bool{}
	for _, h := range hosts {
		mine[h] = true
	}
	recent := 0
	for _, hold := range holds {
		if hold.Tenant == tenant {
			if !mine[hold.Host] {
				out = append(out, hold)
			} else if now.Sub(hold.ClaimTime.Time) < HoldGrace/2 {
				recent++
			}
			continue
		}
		var conflict string
		for _, h := range hosts {
			if Conflicts(h, hold.Host) {
				conflict = h
				break
			}
		}
		if conflict == "" {
			out = append(out, hold)
			continue
		}
		if now.Sub(hold.ClaimTime.Time) < HoldGrace {
			return nil, &Blocked{Host: conflict, Holder: hold.Tenant, Fresh: true}, false, nil
		}
		ok, err := live(ctx, hold.Host, hold.Tenant)
		if err != nil {
			return nil, nil, false, err
		}
		if ok {
			return nil, &Blocked{Host: conflict, Holder: hold.Tenant}, false, nil
		}
		// Neither fresh nor served: the Ingress was deleted or never stored.
		write = true
	}
	if recent < len(hosts) {
		write = true
	}
	held := len(hosts)
	for _, hold := range out {
		if hold.Tenant == tenant {
			held++
		}
	}
	if held > MaxHoldsPerTenant {
		return nil, &Blocked{Host: hosts[0], Holder: tenant, TooMany: true}, false, nil
	}
	for _, h := range hosts {
		out = append(out, tenancyv1alpha1.HostnameHold{Host: h, Tenant: tenant, ClaimTime: metav1.NewTime(now)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, nil, write, nil
}

// Groups splits hosts by GroupOf, in a stable order.
func Groups(hosts []string) ([]string, map[string][]string) {
	by := map[string][]string{}
	for _, h := range hosts {
		g := GroupOf(h)
		by[g] = append(by[g], h)
	}
	groups := make([]string, 0, len(by))
	for g := range by {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	return groups, by
}

// Hostnames writes hostname holds to HostnameClaims.
type Hostnames struct {
	// Client writes claims.
	Client client.Client
	// Reader reads claims from the API server: a cache would only make the
	// compare-and-swap fail until it caught up.
	Reader client.Reader
}

// maxAttempts bounds how often one admission retries after losing a race.
// Each loss means another admission of the same group won, so the loop
// ends; the bound only guards against a fault that repeats.
const maxAttempts = 50

// Claim holds hosts for tenant, group by group, or says which hold blocks
// them. With dryRun it only decides. Holds written for earlier groups
// before a later one is blocked are orphans, which expire after HoldGrace.
func (c *Hostnames) Claim(ctx context.Context, tenant string, hosts []string, dryRun bool, live LiveFunc) (*Blocked, error) {
	groups, by := Groups(hosts)
	for _, g := range groups {
		blocked, err := c.claimGroup(ctx, g, by[g], tenant, dryRun, live)
		if err != nil || blocked != nil {
			return blocked, err
		}
	}
	return nil, nil
}

func (c *Hostnames) claimGroup(ctx context.Context, group string, hosts []string, tenant string, dryRun bool, live LiveFunc) (*Blocked, error) {
	name := ClaimName(group)
	for range maxAttempts {
		claim := &tenancyv1alpha1.HostnameClaim{}
		err := c.Reader.Get(ctx, client.ObjectKey{Name: name}, claim)
		missing := apierrors.IsNotFound(err)
		if err != nil && !missing {
			return nil, fmt.Errorf("reading HostnameClaim %s: %w", name, err)
		}
		holds, blocked, write, err := Hold(ctx, claim.Spec.Holds, hosts, tenant, time.Now(), live)
		if err != nil || blocked != nil || dryRun || !write {
			return blocked, err
		}
		claim.Spec.Holds = holds
		if missing {
			claim = &tenancyv1alpha1.HostnameClaim{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
				Spec:       tenancyv1alpha1.HostnameClaimSpec{Holds: holds},
			}
			err = c.Client.Create(ctx, claim)
		} else {
			if claim.Labels == nil {
				claim.Labels = map[string]string{}
			}
			claim.Labels[tenancyv1alpha1.ManagedByLabel] = tenancyv1alpha1.ManagedByValue
			err = c.Client.Update(ctx, claim)
		}
		switch {
		case err == nil:
			return nil, nil
		case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err):
			// Another write came first, or a sweep deleted the claim
			// (Sweep): read again.
			continue
		default:
			return nil, fmt.Errorf("writing HostnameClaim %s: %w", name, err)
		}
	}
	return nil, errors.New("HostnameClaim " + name + ": too many concurrent writes; try again")
}
