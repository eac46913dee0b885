package namespace

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/claims"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/reserved"
)

// The rules a namespace request can break, named after the Tenant field
// (or the part of a namespace) that decides them.
const (
	// RuleOwners: only a tenant's owners create its namespaces.
	RuleOwners = "namespaces.owners"
	// RuleDeleting: a Tenant being deleted takes no new namespaces.
	RuleDeleting = "metadata.deletionTimestamp"
	// RuleRequirePrefix: names start with "<tenant>-".
	RuleRequirePrefix = "namespaces.requirePrefix"
	// RuleNames: a name belongs to the tenant with the longest matching
	// "<tenant>-" prefix (render.NamespaceOwner); no other tenant takes it.
	RuleNames = "namespaces.names"
	// RuleMax: at most namespaces.max namespaces.
	RuleMax = "namespaces.max"
	// RuleLabels: reserved labels (package reserved), the tenant label and
	// the tenant's locked namespaces.labels are Bulkhead's and admins'.
	RuleLabels = "namespaces.labels"
	// RuleAnnotations: likewise for reserved and locked annotations.
	RuleAnnotations = "namespaces.annotations"
	// RuleRetained: a namespace retained from a deleted tenant stays locked
	// until a cluster admin adopts or releases it (the same rule as the
	// retained admission policy's).
	RuleRetained = "namespaces.retained"
	// RuleState: a frozen tenant (spec.state Frozen) takes no new
	// namespaces (the same rule as the freeze admission policy's).
	RuleState = "state"
)

// A generated name is generateName, cut to maxGenerateNameLength
// characters, followed by generatedSuffixLength characters from an alphabet
// without "-" (the API server's name generator). Every "<tenant>-" prefix
// ends with "-", so a prefix of the final name either lies within the cut
// generateName or would end inside the suffix, which has no "-": the
// tenants whose prefix matches the final name are exactly those whose
// prefix matches the generateName. Tenant names are at most 40 characters,
// so the cut never shortens a prefix. Judging the generateName at mutating
// admission, where the name is still empty, is therefore exact.
const (
	generatedSuffixLength = claims.GeneratedSuffixLength
	maxGenerateNameLength = 63 - generatedSuffixLength
)

// Caller is the identity behind an admission request.
type Caller struct {
	User   string
	Groups []string
}

// Decision is the answer to one namespace request.
type Decision struct {
	Allowed bool
	// Message says, when denied, which tenant, which rule and how to fix it.
	Message string
	// Labels and Annotations are set on an admitted new namespace.
	Labels      map[string]string
	Annotations map[string]string
}

// deny reads as every Bulkhead denial does:
// "tenant <name>: <what is wrong> [rule <rule>]. <how to fix it>".
func deny(tenant, rule, problem, fix string) Decision {
	return Decision{Message: fmt.Sprintf("tenant %s: %s [rule %s]. %s", tenant, problem, rule, fix)}
}

// denyNoTenant is for requests that name no tenant the caller owns.
func denyNoTenant(what, rule, problem, fix string) Decision {
	return Decision{Message: fmt.Sprintf("%s: %s [rule %s]. %s", what, problem, rule, fix)}
}

// IsOwner reports whether the caller is an owner of t.
func IsOwner(c Caller, t *tenancyv1alpha1.Tenant) bool {
	for _, s := range t.Spec.Owners {
		switch s.Kind {
		case tenancyv1alpha1.SubjectUser:
			if c.User == s.Name {
				return true
			}
		case tenancyv1alpha1.SubjectGroup:
			for _, g := range c.Groups {
				if g == s.Name {
					return true
				}
			}
		case tenancyv1alpha1.SubjectServiceAccount:
			if c.User == "system:serviceaccount:"+s.Namespace+":"+s.Name {
				return true
			}
		}
	}
	return false
}

// IsGenerated reports whether ns will be named by the API server from its
// generateName (the name is empty at mutating admission).
func IsGenerated(ns *corev1.Namespace) bool {
	return ns.Name == "" && ns.GenerateName != ""
}

// GeneratedBase is the part of a generated name that comes from
// generateName: the rest is the API server's random suffix.
func GeneratedBase(generateName string) string {
	if len(generateName) > maxGenerateNameLength {
		return generateName[:maxGenerateNameLength]
	}
	return generateName
}

// describe names the namespace in messages: by name, or by what its name
// will be generated from.
func describe(ns *corev1.Namespace) string {
	if IsGenerated(ns) {
		return fmt.Sprintf("namespaces generated from %q", ns.GenerateName)
	}
	return fmt.Sprintf("namespace %q", ns.Name)
}

// DecideCreate decides a new namespace ns created by caller, given every
// Tenant and how many namespaces each already has. ns may have only a
// generateName (see maxGenerateNameLength for why that is judged exactly).
func DecideCreate(ns *corev1.Namespace, caller Caller, tenants []tenancyv1alpha1.Tenant, inUse map[string]int, s render.Settings) Decision {
	var owned []*tenancyv1alpha1.Tenant
	byName := map[string]*tenancyv1alpha1.Tenant{}
	names := make([]string, 0, len(tenants))
	for i := range tenants {
		t := &tenants[i]
		byName[t.Name] = t
		names = append(names, t.Name)
		if IsOwner(caller, t) && t.DeletionTimestamp.IsZero() {
			owned = append(owned, t)
		}
	}
	sort.Slice(owned, func(i, j int) bool { return owned[i].Name < owned[j].Name })

	var t *tenancyv1alpha1.Tenant
	switch named := ns.Labels[tenancyv1alpha1.TenantLabel]; {
	case named != "":
		t = byName[named]
		if t == nil || !IsOwner(caller, t) {
			return deny(named, RuleOwners, fmt.Sprintf("you are not one of its owners, so %s cannot carry %s=%s", describe(ns), tenancyv1alpha1.TenantLabel, named),
				"Use a tenant you own"+ownedHint(owned))
		}
		if !t.DeletionTimestamp.IsZero() {
			return deny(named, RuleDeleting, "the tenant is being deleted and takes no new namespaces", "Create the namespace in another tenant, or ask a cluster admin")
		}
	case len(owned) == 0:
		return denyNoTenant(describe(ns), RuleOwners, "you are not an owner of any tenant, so you cannot create namespaces", "Ask a cluster admin")
	case len(owned) > 1:
		return denyNoTenant(describe(ns), RuleOwners, "you own several tenants"+ownedHint(owned),
			fmt.Sprintf("Say which with the label %s=<tenant>", tenancyv1alpha1.TenantLabel))
	default:
		t = owned[0]
	}

	if t.Spec.State == tenancyv1alpha1.TenantFrozen {
		by := ""
		if who := t.Annotations[tenancyv1alpha1.FrozenByAnnotation]; who != "" {
			by = " by " + who
		}
		return deny(t.Name, RuleState, "the tenant is frozen"+by+" and takes no new namespaces",
			"A cluster admin unfreezes it by setting the Tenant's spec.state to Active")
	}

	sc := render.NewScope(t, nil, s)
	spec := sc.Spec
	prefix := render.NamespacePrefix(t.Name)
	name := ns.Name
	if IsGenerated(ns) {
		name = GeneratedBase(ns.GenerateName)
	}
	// The longest prefix decides, whatever the creating tenant's
	// requirePrefix: tenant a (with or without it) never takes "a-b-db"
	// while tenant a-b exists.
	if owner := render.NamespaceOwner(name, names); owner != "" && owner != t.Name {
		return deny(t.Name, RuleNames,
			fmt.Sprintf("%s would belong to tenant %s, whose prefix %q is the longest the name starts with", describe(ns), owner, render.NamespacePrefix(owner)),
			fmt.Sprintf("Choose a name that does not start with %q", render.NamespacePrefix(owner)))
	}
	// kube-* names are Kubernetes' own (kube-system, kube-public, ...):
	// no tenant takes one, with or without requirePrefix.
	if reserved.IsKubernetesNamespace(name) {
		return deny(t.Name, RuleNames, fmt.Sprintf("%s is in the kube- space, which Kubernetes keeps for itself", describe(ns)),
			"Choose a name that does not start with \"kube-\"")
	}
	if *spec.Namespaces.RequirePrefix && !strings.HasPrefix(name, prefix) {
		if IsGenerated(ns) {
			return deny(t.Name, RuleRequirePrefix, fmt.Sprintf("names generated from %q would not start with %q", ns.GenerateName, prefix),
				fmt.Sprintf("Use generateName %q", prefix+ns.GenerateName))
		}
		return deny(t.Name, RuleRequirePrefix, fmt.Sprintf("namespace names must start with %q", prefix), fmt.Sprintf("Try %q", prefix+ns.Name))
	}
	if max := int(*spec.Namespaces.Max); inUse[t.Name] >= max {
		return deny(t.Name, RuleMax, fmt.Sprintf("namespace limit reached (namespaces.max is %d, %d in use)", max, inUse[t.Name]),
			"Delete a namespace, or ask a cluster admin to raise spec.namespaces.max")
	}
	meta := render.Namespace(sc)
	if d := checkNewMetadata(t.Name, ns, meta, spec.Namespaces); !d.Allowed {
		return d
	}
	return Decision{Allowed: true, Labels: meta.Labels, Annotations: meta.Annotations}
}

// checkNewMetadata refuses labels and annotations a tenant may not write on
// a new namespace. A key Bulkhead stamps (reserved or locked by the Tenant)
// is accepted only with the value it is stamped with anyway: a manifest
// copied from an existing namespace carries them, and so does the object
// when the API server calls this webhook again after another mutation.
// The tenant label is among them, so it may name only the chosen tenant;
// kubernetes.io/metadata.name may equal the name, which the API server
// sets anyway. Any other reserved key is refused, not dropped: the person
// who wrote it learns it has no effect.
func checkNewMetadata(tenant string, ns *corev1.Namespace, stamped render.NamespaceMetadata, spec tenancyv1alpha1.NamespacesSpec) Decision {
	for _, k := range sortedKeys(ns.Labels) {
		v := ns.Labels[k]
		if want, ok := stamped.Labels[k]; ok {
			if v != want {
				return deny(tenant, RuleLabels, fmt.Sprintf("label %s=%s on %s: it %s, to %q", k, v, describe(ns), whoSets(k, spec.Labels), want),
					"Remove the label, or give it the value Bulkhead sets")
			}
			continue
		}
		if k == corev1.LabelMetadataName && v == ns.Name && ns.Name != "" {
			continue
		}
		if reserved.IsKey(k) {
			return deny(tenant, RuleLabels, fmt.Sprintf("label %s on %s %s", k, describe(ns), whoSets[string](k, nil)),
				"Remove the label; if the namespace needs it, ask a cluster admin")
		}
	}
	for _, k := range sortedKeys(ns.Annotations) {
		v := ns.Annotations[k]
		if want, ok := stamped.Annotations[k]; ok {
			if v != want {
				return deny(tenant, RuleAnnotations, fmt.Sprintf("annotation %s=%s on %s: it is locked by the tenant's namespaces.annotations, to %q", k, v, describe(ns), want),
					"Remove the annotation, or give it the value Bulkhead sets")
			}
			continue
		}
		if reserved.IsAnnotationKey(k) {
			return deny(tenant, RuleAnnotations, fmt.Sprintf("annotation %s on %s %s", k, describe(ns), whoSets[string](k, nil)),
				"Remove the annotation; if the namespace needs it, ask a cluster admin")
		}
	}
	return Decision{Allowed: true}
}

// whoSets says, for a message, who decides key on a tenant namespace.
func whoSets[V any](key string, locked map[string]V) string {
	switch {
	case key == tenancyv1alpha1.TenantLabel:
		return "is managed by Bulkhead: it names the namespace's tenant"
	case reserved.IsPodSecurityLabel(key):
		return "is set from the tenant's pods.securityLevel"
	case reserved.IsBulkheadKey(key):
		return "is written by Bulkhead only"
	case hasKey(locked, key):
		return "is locked by the tenant's namespaces.labels"
	default:
		return "is reserved for Kubernetes and cluster admins (keys in kubernetes.io and k8s.io)"
	}
}

// DecideUpdate refuses any change, by anyone the webhook sees (never a cluster
// admin), to what ties a tenant namespace to its tenant and to what others
// read from it: the tenant label, every other reserved label and
// annotation (set, changed or removed), and the tenant's locked labels and
// annotations.
func DecideUpdate(old, ns *corev1.Namespace, tenants []tenancyv1alpha1.Tenant, s render.Settings) Decision {
	oldTenant, newTenant := old.Labels[tenancyv1alpha1.TenantLabel], ns.Labels[tenancyv1alpha1.TenantLabel]
	if oldTenant != newTenant {
		switch oldTenant {
		case "":
			return deny(newTenant, RuleLabels, fmt.Sprintf("only a cluster admin can bring namespace %q into the tenant (label %s)", ns.Name, tenancyv1alpha1.TenantLabel),
				"Ask a cluster admin to adopt it")
		default:
			return deny(oldTenant, RuleLabels, fmt.Sprintf("the label %s on namespace %q is managed by Bulkhead", tenancyv1alpha1.TenantLabel, ns.Name),
				fmt.Sprintf("Put it back to %q", oldTenant))
		}
	}
	if oldTenant == "" {
		// A namespace retained from a deleted tenant stays locked: only a
		// cluster admin adopts or releases it, or changes what it is held to.
		former := old.Labels[tenancyv1alpha1.RetainedLabel]
		if former == "" {
			former = ns.Labels[tenancyv1alpha1.RetainedLabel]
		}
		if former == "" {
			return Decision{Allowed: true}
		}
		for _, k := range changedKeys(old.Labels, ns.Labels) {
			if reserved.IsKey(k) {
				return deny(former, RuleRetained, fmt.Sprintf("namespace %q was retained from the deleted tenant and is locked; label %s is set by Bulkhead and cluster admins only", ns.Name, k),
					"Undo your change to it; a cluster admin adopts the namespace into a tenant or releases it")
			}
		}
		for _, k := range changedKeys(old.Annotations, ns.Annotations) {
			if reserved.IsAnnotationKey(k) {
				return deny(former, RuleRetained, fmt.Sprintf("namespace %q was retained from the deleted tenant and is locked; annotation %s is set by cluster admins only", ns.Name, k),
					"Undo your change to it; a cluster admin adopts the namespace into a tenant or releases it")
			}
		}
		return Decision{Allowed: true}
	}
	var t *tenancyv1alpha1.Tenant
	for i := range tenants {
		if tenants[i].Name == oldTenant {
			t = &tenants[i]
		}
	}
	var locked map[string]tenancyv1alpha1.LabelValue
	var lockedAnn map[string]string
	if t != nil {
		spec := render.Effective(t, s)
		locked, lockedAnn = spec.Namespaces.Labels, spec.Namespaces.Annotations
	}
	for _, k := range changedKeys(old.Labels, ns.Labels) {
		if k == corev1.LabelMetadataName && ns.Labels[k] == ns.Name {
			continue
		}
		if reserved.IsKey(k) || hasKey(locked, k) {
			return deny(oldTenant, RuleLabels, fmt.Sprintf("label %s on namespace %q %s", k, ns.Name, whoSets(k, locked)),
				"Undo your change to it; only a cluster admin can change it")
		}
	}
	for _, k := range changedKeys(old.Annotations, ns.Annotations) {
		switch {
		case hasKey(lockedAnn, k):
			return deny(oldTenant, RuleAnnotations, fmt.Sprintf("annotation %s on namespace %q is locked by the tenant's namespaces.annotations", k, ns.Name),
				"Undo your change to it; only a cluster admin can change it")
		case reserved.IsAnnotationKey(k):
			return deny(oldTenant, RuleAnnotations, fmt.Sprintf("annotation %s on namespace %q %s", k, ns.Name, whoSets[string](k, nil)),
				"Undo your change to it; only a cluster admin can change it")
		}
	}
	return Decision{Allowed: true}
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func changedKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func ownedHint(owned []*tenancyv1alpha1.Tenant) string {
	if len(owned) == 0 {
		return ""
	}
	names := make([]string, 0, len(owned))
	for _, t := range owned {
		names = append(names, t.Name)
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// Create is one namespace create of a batch.
type Create struct {
	Namespace *corev1.Namespace
	Caller    Caller
	// Tenants are the Tenants as the create's request saw them.
	Tenants []tenancyv1alpha1.Tenant
	DryRun  bool
}

// frozenByLabel is the first of a tenant's namespaces a cluster admin froze
// by label, or nil: while one is, the tenant creates no namespace, or
// deleting the frozen namespace and creating another would lift the freeze.
func frozenByLabel(namespaces []corev1.Namespace) *corev1.Namespace {
	for i := range namespaces {
		if _, ok := namespaces[i].Labels[tenancyv1alpha1.FrozenLabel]; ok {
			return &namespaces[i]
		}
	}
	return nil
}

// DecideBatch decides creates of tenant's namespaces in order, against the
// tenant's cached namespaces and the ledger's reservations still live at
// now, each admission counting against the creates after it. It returns
// each create's decision, the reservations to record (none for dry runs),
// and the Tenant that owns the ledger (nil when nothing is admitted).
func DecideBatch(tenant string, cached []corev1.Namespace, reservations []tenancyv1alpha1.NamespaceReservation, creates []Create, now time.Time, s render.Settings) ([]Decision, []tenancyv1alpha1.NamespaceReservation, *tenancyv1alpha1.Tenant) {
	decisions := make([]Decision, len(creates))
	live := claims.Live(reservations, now)
	var admitted []tenancyv1alpha1.NamespaceReservation
	var owner *tenancyv1alpha1.Tenant
	frozen := frozenByLabel(cached)
	for i, c := range creates {
		inUse := map[string]int{tenant: claims.InUse(tenant, cached, live, c.Namespace.Name, now)}
		decisions[i] = DecideCreate(c.Namespace, c.Caller, c.Tenants, inUse, s)
		if decisions[i].Allowed && frozen != nil {
			by := ""
			if who := frozen.Labels[tenancyv1alpha1.FrozenLabel]; who != "" {
				by = " by " + who
			}
			decisions[i] = deny(tenant, RuleState, fmt.Sprintf("namespace %s of the tenant is frozen%s (label %s), and a new one would not be",
				frozen.Name, by, tenancyv1alpha1.FrozenLabel),
				"A cluster admin unfreezes: removes the label, or freezes the whole tenant with spec.state Frozen")
		}
		if !decisions[i].Allowed || c.DryRun {
			continue
		}
		r := tenancyv1alpha1.NamespaceReservation{Name: c.Namespace.Name, AdmissionTime: metav1.NewTime(now)}
		if IsGenerated(c.Namespace) {
			r.GenerateName = GeneratedBase(c.Namespace.GenerateName)
		}
		live = append(live, r)
		admitted = append(admitted, r)
		for j := range c.Tenants {
			if c.Tenants[j].Name == tenant {
				owner = &c.Tenants[j]
			}
		}
	}
	return decisions, admitted, owner
}
