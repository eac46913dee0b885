package copies

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

func tenant(name string, labels map[string]string, deleting bool) tenancyv1alpha1.Tenant {
	t := tenancyv1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if deleting {
		now := metav1.Now()
		t.DeletionTimestamp = &now
	}
	return t
}

func namespace(name, tenant string, labels map[string]string, deleting bool) corev1.Namespace {
	l := map[string]string{tenancyv1alpha1.TenantLabel: tenant}
	for k, v := range labels {
		l[k] = v
	}
	ns := corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
	if deleting {
		now := metav1.Now()
		ns.DeletionTimestamp = &now
	}
	return ns
}

func TestSelect(t *testing.T) {
	tenants := []tenancyv1alpha1.Tenant{
		tenant("acme", map[string]string{"tier": "gold"}, false),
		tenant("globex", map[string]string{"tier": "gold"}, false),
		tenant("initech", map[string]string{"tier": "free"}, false),
		tenant("gone", map[string]string{"tier": "gold"}, true),
	}
	namespaces := []corev1.Namespace{
		namespace("acme-web", "acme", map[string]string{"env": "prod"}, false),
		namespace("acme-dev", "acme", nil, false),
		namespace("acme-old", "acme", map[string]string{"env": "prod"}, true),
		namespace("globex-api", "globex", map[string]string{"env": "prod"}, false),
		namespace("initech-web", "initech", map[string]string{"env": "prod"}, false),
		namespace("gone-web", "gone", map[string]string{"env": "prod"}, false),
	}
	gold := metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}}
	prod := &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}
	for _, c := range []struct {
		name      string
		tenants   metav1.LabelSelector
		nsSel     *metav1.LabelSelector
		want      Selection
		wantError string
	}{
		{name: "an empty selector selects every tenant that is not being deleted", want: Selection{Tenants: 3, Namespaces: []string{"acme-dev", "acme-web", "globex-api", "initech-web"}}},
		{name: "by tenant label", tenants: gold, want: Selection{Tenants: 2, Namespaces: []string{"acme-dev", "acme-web", "globex-api"}}},
		{name: "narrowed by namespace label; a terminating namespace is left out", tenants: gold, nsSel: prod, want: Selection{Tenants: 2, Namespaces: []string{"acme-web", "globex-api"}}},
		{name: "no tenant matches", tenants: metav1.LabelSelector{MatchLabels: map[string]string{"tier": "none"}}, want: Selection{}},
		{
			name:      "a malformed selector names its field",
			tenants:   metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}},
			wantError: "spec.tenantSelector",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := &tenancyv1alpha1.TenantResource{Spec: tenancyv1alpha1.TenantResourceSpec{TenantSelector: c.tenants, NamespaceSelector: c.nsSel}}
			got, err := Select(tr, tenants, namespaces)
			if c.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantError) {
					t.Fatalf("error %v, want one naming %q", err, c.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("selection (-want +got):\n%s", diff)
			}
		})
	}
}

func ref(kind tenancyv1alpha1.CopiedKind, ns, name string) tenancyv1alpha1.SourceReference {
	return tenancyv1alpha1.SourceReference{Kind: kind, Namespace: ns, Name: name}
}

func TestDesired(t *testing.T) {
	tr := &tenancyv1alpha1.TenantResource{ObjectMeta: metav1.ObjectMeta{Name: "shared", UID: "tr-uid"}}
	tls := ref(tenancyv1alpha1.CopiedSecret, "infra", "tls")
	ca := ref(tenancyv1alpha1.CopiedConfigMap, "infra", "ca")
	token := ref(tenancyv1alpha1.CopiedSecret, "infra", "token")
	sources := map[tenancyv1alpha1.SourceReference]Source{
		tls: {Object: &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "tls", Labels: map[string]string{tenancyv1alpha1.CopyLabel: tenancyv1alpha1.CopySource, "team": "infra"},
				Annotations: map[string]string{"owner": "platform@infra"}},
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")},
		}},
		ca:    {Object: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "ca"}, Data: map[string]string{"ca.crt": "pem"}}},
		token: {Object: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "token"}, Type: corev1.SecretTypeServiceAccountToken}},
		ref(tenancyv1alpha1.CopiedSecret, "infra", "plain"):   {Unmarked: true},
		ref(tenancyv1alpha1.CopiedSecret, "acme-web", "pull"): {InTenant: "acme"},
	}
	owner := []metav1.OwnerReference{OwnerRef(tr)}
	meta := func(ns, name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, Labels: CopyLabels("shared"), OwnerReferences: owner}
	}
	for _, c := range []struct {
		name         string
		resources    []tenancyv1alpha1.CopiedResource
		want         []client.Object
		wantProblems []string
	}{
		{
			name:      "a referenced Secret: its data and type, none of its labels or annotations, in every namespace",
			resources: []tenancyv1alpha1.CopiedResource{{From: tls}},
			want: []client.Object{
				&corev1.Secret{ObjectMeta: meta("a-web", "tls"), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}},
				&corev1.Secret{ObjectMeta: meta("b-web", "tls"), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}},
			},
		},
		{
			name:      "a referenced ConfigMap under another name",
			resources: []tenancyv1alpha1.CopiedResource{{From: ca, Name: "cluster-ca"}},
			want: []client.Object{
				&corev1.ConfigMap{ObjectMeta: meta("a-web", "cluster-ca"), Data: map[string]string{"ca.crt": "pem"}},
				&corev1.ConfigMap{ObjectMeta: meta("b-web", "cluster-ca"), Data: map[string]string{"ca.crt": "pem"}},
			},
		},
		{
			name: "inline ConfigMap and Secret; an inline Secret is Opaque by default",
			resources: []tenancyv1alpha1.CopiedResource{
				{Name: "settings", ConfigMap: &tenancyv1alpha1.InlineConfigMap{Data: map[string]string{"region": "eu"}}},
				{Name: "pull", Secret: tenancyv1alpha1.InlineSecret{Data: map[string][]byte{"k": []byte("v")}}},
			},
			want: []client.Object{
				&corev1.ConfigMap{ObjectMeta: meta("a-web", "settings"), Data: map[string]string{"region": "eu"}},
				&corev1.ConfigMap{ObjectMeta: meta("b-web", "settings"), Data: map[string]string{"region": "eu"}},
				&corev1.Secret{ObjectMeta: meta("a-web", "pull"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}},
				&corev1.Secret{ObjectMeta: meta("b-web", "pull"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}},
			},
		},
		{
			name: "sources that give no copy say why, in spec order; the others are copied",
			resources: []tenancyv1alpha1.CopiedResource{
				{From: ref(tenancyv1alpha1.CopiedSecret, "infra", "missing")},
				{From: ref(tenancyv1alpha1.CopiedSecret, "infra", "plain")},
				{From: ref(tenancyv1alpha1.CopiedSecret, "acme-web", "pull")},
				{From: token},
				{Name: "inline-token", Secret: tenancyv1alpha1.InlineSecret{Type: string(corev1.SecretTypeServiceAccountToken), Data: map[string][]byte{"token": []byte("t")}}},
				{From: ca},
			},
			want: []client.Object{
				&corev1.ConfigMap{ObjectMeta: meta("a-web", "ca"), Data: map[string]string{"ca.crt": "pem"}},
				&corev1.ConfigMap{ObjectMeta: meta("b-web", "ca"), Data: map[string]string{"ca.crt": "pem"}},
			},
			wantProblems: []string{
				tenancyv1alpha1.ReasonSourceNotFound + ": Secret infra/missing does not exist",
				tenancyv1alpha1.ReasonSourceNotMarked + ": Secret infra/plain is not labelled tenancy.bulkhead.dev/copy=source",
				tenancyv1alpha1.ReasonSourceInTenantNamespace + ": Secret acme-web/pull is in a namespace of tenant acme",
				tenancyv1alpha1.ReasonSourceForbiddenType + ": Secret infra/token is of type kubernetes.io/service-account-token",
				tenancyv1alpha1.ReasonSourceForbiddenType + ": inline Secret inline-token is of type kubernetes.io/service-account-token",
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := tr.DeepCopy()
			tr.Spec.Resources = c.resources
			plan := Desired(tr, []string{"a-web", "b-web"}, sources)
			if diff := cmp.Diff(c.want, plan.Copies); diff != "" {
				t.Errorf("copies (-want +got):\n%s", diff)
			}
			if len(plan.Problems) != len(c.wantProblems) {
				t.Fatalf("problems %v, want %d", plan.Problems, len(c.wantProblems))
			}
			for i, p := range plan.Problems {
				if got := p.Reason + ": " + p.Message; !strings.HasPrefix(got, c.wantProblems[i]) {
					t.Errorf("problem %d: %q, want it to start with %q", i, got, c.wantProblems[i])
				}
			}
		})
	}
}

func TestUnmarkedProblemSaysHowToMark(t *testing.T) {
	tr := &tenancyv1alpha1.TenantResource{Spec: tenancyv1alpha1.TenantResourceSpec{Resources: []tenancyv1alpha1.CopiedResource{
		{From: ref(tenancyv1alpha1.CopiedConfigMap, "infra", "ca")},
	}}}
	plan := Desired(tr, []string{"a-web"}, map[tenancyv1alpha1.SourceReference]Source{ref(tenancyv1alpha1.CopiedConfigMap, "infra", "ca"): {Unmarked: true}})
	want := "kubectl label configmap -n infra ca tenancy.bulkhead.dev/copy=source"
	if len(plan.Problems) != 1 || !strings.Contains(plan.Problems[0].Message, want) {
		t.Errorf("problems %v, want one containing %q", plan.Problems, want)
	}
}

func TestCompare(t *testing.T) {
	tr := &tenancyv1alpha1.TenantResource{ObjectMeta: metav1.ObjectMeta{Name: "shared", UID: "tr-uid"}}
	want := place(tr, &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a": []byte("1")}}, "a-web", "s")
	wantCM := place(tr, &corev1.ConfigMap{Data: map[string]string{"a": "1"}}, "a-web", "c")
	edit := func(obj client.Object, f func(client.Object)) client.Object {
		out := obj.DeepCopyObject().(client.Object)
		out.SetUID("copy-uid")
		out.SetResourceVersion("7")
		f(out)
		return out
	}
	for _, c := range []struct {
		name       string
		want, have client.Object
		change     Change
	}{
		{name: "as wanted, with what the API server sets", want: want, have: edit(want, func(client.Object) {}), change: Unchanged},
		{name: "a key added at the source", want: want, have: edit(want, func(o client.Object) { o.(*corev1.Secret).Data = map[string][]byte{} }), change: Update},
		{name: "a key removed at the source", want: want, have: edit(want, func(o client.Object) { o.(*corev1.Secret).Data["b"] = []byte("2") }), change: Update},
		{name: "a value changed", want: want, have: edit(want, func(o client.Object) { o.(*corev1.Secret).Data["a"] = []byte("2") }), change: Update},
		{name: "an annotation someone added", want: want, have: edit(want, func(o client.Object) { o.SetAnnotations(map[string]string{"x": "y"}) }), change: Update},
		{name: "a label lost", want: want, have: edit(want, func(o client.Object) { o.SetLabels(nil) }), change: Update},
		{name: "owned by an earlier TenantResource of the same name", want: want, have: edit(want, func(o client.Object) { o.SetOwnerReferences(nil) }), change: Update},
		{name: "a Secret of another type is replaced", want: want, have: edit(want, func(o client.Object) { o.(*corev1.Secret).Type = corev1.SecretTypeTLS }), change: Replace},
		{name: "ConfigMap as wanted", want: wantCM, have: edit(wantCM, func(client.Object) {}), change: Unchanged},
		{name: "ConfigMap binaryData added", want: wantCM, have: edit(wantCM, func(o client.Object) { o.(*corev1.ConfigMap).BinaryData = map[string][]byte{"b": {1}} }), change: Update},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Compare(c.want, c.have); got != c.change {
				t.Errorf("Compare = %d, want %d", got, c.change)
			}
			if c.change == Update {
				mended := Mended(c.want, c.have)
				if got := Compare(c.want, mended); got != Unchanged {
					t.Errorf("the mended copy still differs (%d)", got)
				}
				if mended.GetUID() != "copy-uid" || mended.GetResourceVersion() != "7" {
					t.Errorf("the mended copy lost what the API server set: uid %q, resourceVersion %q", mended.GetUID(), mended.GetResourceVersion())
				}
			}
		})
	}
}

func TestIsCopyOf(t *testing.T) {
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   bool
	}{
		{name: "a copy of this TenantResource", labels: CopyLabels("shared"), want: true},
		{name: "a copy of another", labels: CopyLabels("other")},
		{name: "a tenant's object labelled like a copy, without managed-by (which tenants cannot set)", labels: map[string]string{
			tenancyv1alpha1.CopyLabel: tenancyv1alpha1.CopyCopy, tenancyv1alpha1.TenantResourceLabel: "shared",
		}},
		{name: "a source", labels: map[string]string{tenancyv1alpha1.CopyLabel: tenancyv1alpha1.CopySource}},
	} {
		t.Run(c.name, func(t *testing.T) {
			obj := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Labels: c.labels}}
			if got := IsCopyOf(obj, "shared"); got != c.want {
				t.Errorf("IsCopyOf = %v, want %v", got, c.want)
			}
		})
	}
}
