package render

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// inventoryRoot is one Go type the inventory classifies, walked from a path
// prefix. Subtrees that another root classifies are handed to it by path,
// so that a field shared by many kinds (a template's pod spec) is
// classified, and reported, once.
type inventoryRoot struct {
	kind   string
	typ    reflect.Type
	prefix string
	// elsewhere maps a path under this root to the kind that classifies it;
	// its type must be that kind's.
	elsewhere map[string]string
}

var podTemplate = map[string]string{"spec.template.metadata": KindObjectMeta, "spec.template.spec": KindPodSpec}

var inventoryRoots = []inventoryRoot{
	{kind: KindPodSpec, typ: reflect.TypeFor[corev1.PodSpec](), prefix: "spec", elsewhere: map[string]string{
		// The ephemeral volume controller creates the claim in the pod's
		// namespace, where the claim rules judge it.
		"spec.volumes[].ephemeral.volumeClaimTemplate.metadata": KindObjectMeta,
		"spec.volumes[].ephemeral.volumeClaimTemplate.spec":     KindPersistentVolumeClaimSpec,
	}},
	{kind: KindObjectMeta, typ: reflect.TypeFor[metav1.ObjectMeta](), prefix: "metadata"},
	{kind: KindNamespace, typ: reflect.TypeFor[corev1.Namespace]()},
	{kind: KindServiceSpec, typ: reflect.TypeFor[corev1.ServiceSpec](), prefix: "spec"},
	{kind: KindIngressSpec, typ: reflect.TypeFor[networkingv1.IngressSpec](), prefix: "spec"},
	{kind: KindPersistentVolumeClaimSpec, typ: reflect.TypeFor[corev1.PersistentVolumeClaimSpec](), prefix: "spec"},
	{kind: KindRoleBinding, typ: reflect.TypeFor[rbacv1.RoleBinding](), elsewhere: map[string]string{"metadata": KindObjectMeta}},
	{kind: KindNetworkPolicySpec, typ: reflect.TypeFor[networkingv1.NetworkPolicySpec](), prefix: "spec"},
	{kind: KindDeploymentSpec, typ: reflect.TypeFor[appsv1.DeploymentSpec](), prefix: "spec", elsewhere: podTemplate},
	{kind: KindStatefulSetSpec, typ: reflect.TypeFor[appsv1.StatefulSetSpec](), prefix: "spec", elsewhere: map[string]string{
		"spec.template.metadata": KindObjectMeta, "spec.template.spec": KindPodSpec,
		// The StatefulSet controller creates the claims, where the claim
		// rules judge them.
		"spec.volumeClaimTemplates[].metadata": KindObjectMeta, "spec.volumeClaimTemplates[].spec": KindPersistentVolumeClaimSpec,
	}},
	{kind: KindDaemonSetSpec, typ: reflect.TypeFor[appsv1.DaemonSetSpec](), prefix: "spec", elsewhere: podTemplate},
	{kind: KindReplicaSetSpec, typ: reflect.TypeFor[appsv1.ReplicaSetSpec](), prefix: "spec", elsewhere: podTemplate},
	{kind: KindReplicationControllerSpec, typ: reflect.TypeFor[corev1.ReplicationControllerSpec](), prefix: "spec", elsewhere: podTemplate},
	{kind: KindJobSpec, typ: reflect.TypeFor[batchv1.JobSpec](), prefix: "spec", elsewhere: podTemplate},
	{kind: KindCronJobSpec, typ: reflect.TypeFor[batchv1.CronJobSpec](), prefix: "spec", elsewhere: map[string]string{
		"spec.jobTemplate.metadata": KindObjectMeta, "spec.jobTemplate.spec": KindJobSpec,
	}},
}

// leafTypes are structs classified as a whole: their fields mean nothing
// apart (a quantity's digits, a selector's expressions).
var leafTypes = map[reflect.Type]bool{
	reflect.TypeFor[resource.Quantity]():    true,
	reflect.TypeFor[intstr.IntOrString]():   true,
	reflect.TypeFor[metav1.Time]():          true,
	reflect.TypeFor[metav1.MicroTime]():     true,
	reflect.TypeFor[metav1.Duration]():      true,
	reflect.TypeFor[metav1.FieldsV1]():      true,
	reflect.TypeFor[metav1.LabelSelector](): true,
}

// walked is what a walk of one root found.
type walked struct {
	leaves     map[string]bool
	composites map[string]bool
	// handed maps a path handed to another root to that root's kind.
	handed map[string]string
	// types maps each handed path to its type.
	types map[string]reflect.Type
}

// walkRoot lists every field path under r's type.
func walkRoot(t *testing.T, r inventoryRoot) walked {
	t.Helper()
	w := walked{leaves: map[string]bool{}, composites: map[string]bool{}, handed: map[string]string{}, types: map[string]reflect.Type{}}
	var walk func(path string, typ reflect.Type, stack []reflect.Type)
	walk = func(path string, typ reflect.Type, stack []reflect.Type) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if kind, ok := r.elsewhere[path]; ok {
			w.handed[path], w.types[path] = kind, typ
			return
		}
		switch {
		case leafTypes[typ]:
			w.leaves[path] = true
		case typ.Kind() == reflect.Struct:
			for _, s := range stack {
				if s == typ {
					t.Fatalf("%s of %s: %s contains itself; classify it as a leaf type", path, r.kind, typ)
				}
			}
			if path != r.prefix {
				w.composites[path] = true
			}
			for i := range typ.NumField() {
				f := typ.Field(i)
				if !f.IsExported() || f.Type == reflect.TypeFor[metav1.TypeMeta]() {
					continue // apiVersion and kind say what the object is, nothing more
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				switch {
				case name == "-":
					continue
				case name == "" && f.Anonymous:
					walk(path, f.Type, append(stack, typ)) // inlined, as ProbeHandler in Probe
					continue
				case name == "":
					t.Fatalf("%s of %s: field %s has no JSON name", path, r.kind, f.Name)
				}
				child := name
				if path != "" {
					child = path + "." + name
				}
				walk(child, f.Type, append(stack, typ))
			}
		case typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map:
			elem := typ.Elem()
			for elem.Kind() == reflect.Pointer {
				elem = elem.Elem()
			}
			switch {
			case elem.Kind() != reflect.Struct || leafTypes[elem]:
				w.leaves[path] = true
			case typ.Kind() == reflect.Slice:
				w.composites[path] = true
				walk(path+"[]", elem, stack)
			default:
				t.Fatalf("%s of %s: a map of structs (%s) is not walked yet; teach the walk its path syntax", path, r.kind, typ)
			}
		default:
			w.leaves[path] = true
		}
	}
	walk(r.prefix, r.typ, nil)
	return w
}

// coversWhole reports whether an entry may stand for a whole struct: only
// when it refuses everything under it, so that a field added there later
// cannot open anything.
func coversWhole(f Field) bool {
	return f.Class == RefusedAlways || f.Class == OwnedByKubernetes || (f.Class == PodSecurity && f.Scope == levelBaseline)
}

// TestInventoryClassifiesEveryField walks the API types and fails on any
// field the inventory does not classify, and on any entry naming a field
// that is gone.
func TestInventoryClassifiesEveryField(t *testing.T) {
	entries := map[string]map[string]Field{}
	for _, f := range Inventory() {
		if entries[f.Kind] == nil {
			entries[f.Kind] = map[string]Field{}
		}
		if _, dup := entries[f.Kind][f.Path]; dup {
			t.Errorf("field %s of %s is classified twice in internal/render/inventory.go: keep one entry", f.Path, f.Kind)
		}
		entries[f.Kind][f.Path] = f
	}
	roots := map[string]inventoryRoot{}
	for _, r := range inventoryRoots {
		roots[r.kind] = r
	}
	for kind := range entries {
		if _, ok := roots[kind]; !ok {
			t.Errorf("the inventory classifies fields of %s, which the test does not walk: add it to inventoryRoots", kind)
		}
	}

	for _, r := range inventoryRoots {
		w := walkRoot(t, r)
		mine := entries[r.kind]
		if len(mine) == 0 {
			t.Errorf("%s is walked but the inventory has no entry for it", r.kind)
		}
		for path, kind := range w.handed {
			target, ok := roots[kind]
			switch {
			case !ok:
				t.Errorf("%s of %s is handed to %s, which is not walked", path, r.kind, kind)
			case w.types[path] != target.typ:
				t.Errorf("%s of %s is handed to %s, but its type is now %s, not %s: classify it here or hand it to the right kind",
					path, r.kind, kind, w.types[path], target.typ)
			}
		}

		// coveredBy finds the entry classifying path: its own, or one on
		// a struct above it.
		coveredBy := func(path string) (Field, bool) {
			for p := path; p != ""; {
				if f, ok := mine[p]; ok {
					return f, true
				}
				i := strings.LastIndexAny(p, ".[")
				if i < 0 {
					break
				}
				p = p[:i]
			}
			return Field{}, false
		}
		for _, path := range sortedKeys(w.leaves) {
			if _, ok := coveredBy(path); !ok {
				t.Errorf("field %s of %s is not classified: add it to the inventory in internal/render/inventory.go with the rule that covers it (or Gap with a reason)",
					path, r.kind)
			}
		}
		for _, path := range sortedKeys(mine) {
			f := mine[path]
			switch {
			case w.composites[path]:
				if !coversWhole(f) {
					t.Errorf("entry %s of %s classifies a whole struct as %s: list its fields instead, so that one added later is seen",
						path, r.kind, f.Classification())
				}
			case w.leaves[path]:
			case handedTo(w, path) != "":
				t.Errorf("entry %s of %s is classified by %s, to which the walk hands it: remove it from %s", path, r.kind, handedTo(w, path), r.kind)
			default:
				t.Errorf("entry %s of %s names no field of %s any more (stale): remove it from internal/render/inventory.go, or fix its path",
					path, r.kind, r.typ)
				continue
			}
			if above, ok := coveredBy(parentPath(path)); ok {
				t.Errorf("entry %s of %s is already covered by %s (%s): remove one", path, r.kind, above.Path, above.Classification())
			}
		}
	}
}

func handedTo(w walked, path string) string {
	for p, kind := range w.handed {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return kind
		}
	}
	return ""
}

// parentPath is path without its last step ("" at the top).
func parentPath(path string) string {
	path = strings.TrimSuffix(path, "[]")
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// webhookRules are the rules webhooks enforce, by the package directory
// whose code names them: admission policies cannot see other objects.
var webhookRules = map[string]string{
	"quota.tenant":           "../tenantquota",
	"storage.volumeName":     "../webhook/volumes",
	"ingress.hostnames":      "../webhook/ingress",
	"namespaces.labels":      "../webhook/namespace",
	"namespaces.annotations": "../webhook/namespace",
	"namespaces.names":       "../webhook/namespace",
}

var ruleInMessage = regexp.MustCompile(`\[rule ([A-Za-z0-9.\-]+)\]`)

// policyRules are the rules named in the compiled policies' messages.
func policyRules() map[string]bool {
	out := map[string]bool{}
	for _, obj := range Policies(DefaultSettings()) {
		p, ok := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy)
		if !ok {
			continue
		}
		for _, v := range p.Spec.Validations {
			for _, m := range ruleInMessage.FindAllStringSubmatch(v.Message+" "+v.MessageExpression, -1) {
				out[m[1]] = true
			}
		}
	}
	return out
}

// webhookNames reports whether the non-test Go code in dir names rule.
func webhookNames(t *testing.T, dir, rule string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s (%v): fix webhookRules", dir, err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "[rule "+rule+"]") || strings.Contains(string(src), `"`+rule+`"`) {
			return true
		}
	}
	return false
}

// TestInventoryRulesExist fails on an entry whose rule no compiled policy
// nor webhook enforces, and on a Pod Security check that does not exist at
// the level the entry claims, at the pinned Pod Security version.
func TestInventoryRulesExist(t *testing.T) {
	enforced := policyRules()
	for rule, dir := range webhookRules {
		if webhookNames(t, dir, rule) {
			enforced[rule] = true
		}
	}
	pinned, err := psaapi.ParseVersion(DefaultSettings().PodSecurityVersion)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]policy.Check{}
	for _, c := range policy.DefaultChecks() {
		checks[string(c.ID)] = c
	}

	missing := map[string][]string{}
	for _, f := range Inventory() {
		where := f.Path + " of " + f.Kind
		if strings.TrimSpace(f.Reason) == "" {
			t.Errorf("%s is %s without a reason: say why", where, f.Classification())
		}
		switch f.Class {
		case CheckedBy, DefaultedBy, RefusedAlways, RefusedIn:
			if f.Rule == "" {
				t.Errorf("%s is %s without a rule", where, f.Class)
			} else if !enforced[f.Rule] {
				missing[f.Rule] = append(missing[f.Rule], where)
			}
			if f.Class == RefusedIn && f.Scope != string(tenancyv1alpha1.IsolationSoft) && f.Scope != string(tenancyv1alpha1.IsolationHard) {
				t.Errorf("%s is refused in profile %q, which is neither Soft nor Hard", where, f.Scope)
			}
		case PodSecurity:
			c, ok := checks[f.Rule]
			switch {
			case !ok:
				t.Errorf("%s names Pod Security check %q, which k8s.io/pod-security-admission does not have", where, f.Rule)
			case string(c.Level) != f.Scope:
				t.Errorf("%s says Pod Security check %s is %s; it is %s: reclassify the field (Soft tenants are baseline, Hard restricted)", where, f.Rule, f.Scope, c.Level)
			case !checkAppliesAt(c, pinned):
				t.Errorf("%s names Pod Security check %s, which does not apply at the pinned version %s", where, f.Rule, pinned)
			}
		case Allowed, OwnedByKubernetes, Gap:
			if f.Rule != "" || f.Scope != "" {
				t.Errorf("%s is %s, which takes no rule nor scope", where, f.Class)
			}
		default:
			t.Errorf("%s has no class", where)
		}
	}
	for _, rule := range sortedKeys(missing) {
		fields := missing[rule]
		t.Errorf("rule %s, which classifies %s%s, is named by no compiled policy's message nor webhook: write the rule (its denial reads [rule %s]), or classify the fields otherwise",
			rule, fields[0], more(len(fields)-1), rule)
	}
}

func checkAppliesAt(c policy.Check, v psaapi.Version) bool {
	for _, vc := range c.Versions {
		if !v.Older(vc.MinimumVersion) {
			return true
		}
	}
	return false
}

// more says how many more fields there are, if any.
func more(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return " and 1 more field"
	}
	return " and " + strconv.Itoa(n) + " more fields"
}

// knownGaps are the gaps Bulkhead knowingly leaves open for now, each with
// why it is accepted today. A Gap in the inventory that is not listed here
// fails the test, and so does one listed here that is no longer a Gap:
// a new way out is a decision, never a side effect.
var knownGaps = []struct {
	why   string
	paths []string // "Kind path"
}{
	{"bulkhead-dns, which will need pods on cluster DNS, is not built yet; a Hard tenant's egress already reaches only cluster DNS and its allowCIDRs", []string{
		"PodSpec spec.dnsPolicy", "PodSpec spec.dnsConfig.nameservers",
	}},
	{"Bulkhead supports Linux node pools only; on Windows nodes the gMSA webhook must be installed", []string{
		"PodSpec spec.securityContext.windowsOptions.gmsaCredentialSpecName", "PodSpec spec.securityContext.windowsOptions.gmsaCredentialSpec",
		"PodSpec spec.containers[].securityContext.windowsOptions.gmsaCredentialSpecName", "PodSpec spec.containers[].securityContext.windowsOptions.gmsaCredentialSpec",
		"PodSpec spec.initContainers[].securityContext.windowsOptions.gmsaCredentialSpecName", "PodSpec spec.initContainers[].securityContext.windowsOptions.gmsaCredentialSpec",
		"PodSpec spec.ephemeralContainers[].securityContext.windowsOptions.gmsaCredentialSpecName", "PodSpec spec.ephemeralContainers[].securityContext.windowsOptions.gmsaCredentialSpec",
	}},
	{"only tenants whose allowedTypes include NodePort or LoadBalancer (Soft by default, never Hard by default) can use them; rules for them are to be designed", []string{
		"ServiceSpec spec.ports[].nodePort", "ServiceSpec spec.healthCheckNodePort",
		"ServiceSpec spec.loadBalancerIP", "ServiceSpec spec.loadBalancerClass",
	}},
	{"VolumeAttributesClasses are new; an allowlist beside storage.classes is to be added", []string{
		"PersistentVolumeClaimSpec spec.volumeAttributesClassName",
	}},
	{"annotations are open by design; ingress and load balancer controllers must be configured to refuse dangerous ones (ingress-nginx refuses snippets by default since v1.9)", []string{
		"ObjectMeta metadata.annotations",
	}},
	{"needs the owner's UID and a foreground deletion; OwnerReferencesPermissionEnforcement closes it where enabled", []string{
		"ObjectMeta metadata.ownerReferences[].blockOwnerDeletion", "Namespace metadata.ownerReferences[].blockOwnerDeletion",
	}},
}

// TestInventoryGaps prints every Gap (run with -v) and fails unless they
// are exactly the known gaps.
func TestInventoryGaps(t *testing.T) {
	known := map[string]string{}
	for _, g := range knownGaps {
		for _, p := range g.paths {
			known[p] = g.why
		}
	}
	gaps := map[string]Field{}
	for _, f := range Inventory() {
		if f.Class == Gap {
			gaps[f.Kind+" "+f.Path] = f
		}
	}
	for _, key := range sortedKeys(gaps) {
		f := gaps[key]
		t.Logf("GAP %s: %s", key, f.Reason)
		if why, ok := known[key]; ok {
			t.Logf("    accepted for now: %s", why)
		} else {
			t.Errorf("%s is a new Gap: close it with a rule, or add it to knownGaps in internal/render/inventory_test.go with why it is accepted", key)
		}
	}
	for _, key := range sortedKeys(known) {
		if _, ok := gaps[key]; !ok {
			t.Errorf("%s is listed in knownGaps but is no longer a Gap in the inventory: remove it from knownGaps", key)
		}
	}
}
