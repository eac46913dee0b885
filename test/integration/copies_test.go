package integration

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// copySelectLabel is the Tenant label the TenantResources of these tests
// select on; each test gives it a value of its own.
const copySelectLabel = "copies-test"

// copySourceNamespace creates, once, the platform namespace the sources live in.
func copySourceNamespace(t *testing.T) string {
	t.Helper()
	const ns = "copies-infra"
	env.Ensure(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	return ns
}

// markedSecret is a Secret of the platform marked as a source, with labels
// and annotations of its own that no copy may carry.
func markedSecret(ns, name string, typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
	s := testutil.Secret(ns, name, typ)
	s.Labels = map[string]string{tenancyv1alpha1.CopyLabel: tenancyv1alpha1.CopySource, "team": "platform"}
	s.Annotations = map[string]string{"platform.example.com/vault-path": "secret/infra/" + name}
	s.Data = data
	return s
}

// createTenantResource creates tr and deletes it when the test ends.
func createTenantResource(t *testing.T, tr *tenancyv1alpha1.TenantResource) {
	t.Helper()
	if err := env.Client.Create(context.Background(), tr); err != nil {
		t.Fatalf("creating TenantResource %s: %v", tr.Name, err)
	}
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), &tenancyv1alpha1.TenantResource{ObjectMeta: metav1.ObjectMeta{Name: tr.Name}})
	})
}

// waitCopyReady waits until TenantResource name's Ready condition, at its
// current generation, has reason and its status counts copies in place.
func waitCopyReady(t *testing.T, name, reason string, copies int32) *tenancyv1alpha1.TenantResource {
	t.Helper()
	tr := &tenancyv1alpha1.TenantResource{}
	testenv.Eventually(t, "TenantResource "+name+" "+reason, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, tr); err != nil {
			return err
		}
		c := meta.FindStatusCondition(tr.Status.Conditions, tenancyv1alpha1.ConditionReady)
		if c == nil || c.Reason != reason || c.ObservedGeneration != tr.Generation || tr.Status.Copies != copies {
			return fmt.Errorf("generation %d, copies %d, Ready %+v; want reason %s and %d copies", tr.Generation, tr.Status.Copies, c, reason, copies)
		}
		return nil
	})
	return tr
}

// secretCopy checks that namespace ns holds a copy of want's content under
// name, made by Bulkhead for TenantResource tr, and nothing of the source's
// metadata.
func secretCopy(ns, name, tr string, want *corev1.Secret) error {
	got := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, got); err != nil {
		return err
	}
	if got.Type != want.Type || len(got.Data) != len(want.Data) {
		return fmt.Errorf("copy %s/%s: type %s, %d keys; want %s, %d keys", ns, name, got.Type, len(got.Data), want.Type, len(want.Data))
	}
	for k, v := range want.Data {
		if !bytes.Equal(got.Data[k], v) {
			return fmt.Errorf("copy %s/%s: key %s is %q, want %q", ns, name, k, got.Data[k], v)
		}
	}
	if got.Labels[tenancyv1alpha1.ManagedByLabel] != tenancyv1alpha1.ManagedByValue || got.Labels[tenancyv1alpha1.TenantResourceLabel] != tr {
		return fmt.Errorf("copy %s/%s is not labelled as Bulkhead's copy for %s: %v", ns, name, tr, got.Labels)
	}
	if _, leaked := got.Labels["team"]; leaked || len(got.Annotations) != 0 {
		return fmt.Errorf("copy %s/%s carries the source's metadata: labels %v, annotations %v", ns, name, got.Labels, got.Annotations)
	}
	return nil
}

// absent checks that namespace ns holds no obj named name.
func absent(ns, name string, obj client.Object) error {
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%T %s/%s still exists", obj, ns, name)
}

// TestCopiesFollowTheirSource: a marked Secret reaches every namespace of
// the selected tenants and no other, follows each change of the source
// within seconds, cannot be changed or deleted by the tenant, reaches a new
// namespace, and leaves a tenant no longer selected and every tenant when
// the source is deleted.
func TestCopiesFollowTheirSource(t *testing.T) {
	ctx := context.Background()
	src := copySourceNamespace(t)
	const gold = "follow"
	dev := env.TenantWithNamespace(t, testutil.Tenant("cpa").Owner("cpa-owner").MetaLabel(copySelectLabel, gold).Obj(), "cpa-web")
	env.TenantWithNamespace(t, testutil.Tenant("cpb").Owner("cpb-owner").MetaLabel(copySelectLabel, gold).Obj(), "cpb-web")
	env.TenantWithNamespace(t, testutil.Tenant("cpc").Owner("cpc-owner").MetaLabel(copySelectLabel, "other").Obj(), "cpc-web")

	source := markedSecret(src, "registry-pull", corev1.SecretTypeDockerConfigJson, map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)})
	if err := env.Client.Create(ctx, source); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), source) })
	createTenantResource(t, testutil.TenantResource("registry-pull").Tenants(copySelectLabel, gold).From(tenancyv1alpha1.CopiedSecret, src, source.Name).Obj())

	tr := waitCopyReady(t, "registry-pull", tenancyv1alpha1.ReasonCopied, 2)
	if tr.Status.Tenants != 2 || tr.Status.Namespaces != 2 {
		t.Errorf("status counts %d tenants, %d namespaces; want 2 and 2", tr.Status.Tenants, tr.Status.Namespaces)
	}
	for _, ns := range []string{"cpa-web", "cpb-web"} {
		if err := secretCopy(ns, source.Name, "registry-pull", source); err != nil {
			t.Error(err)
		}
	}
	if err := absent("cpc-web", source.Name, &corev1.Secret{}); err != nil {
		t.Errorf("a tenant the selector does not pick: %v", err)
	}

	// A change of the source reaches the copies from the watch, within seconds.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(source), source); err != nil {
			return err
		}
		source.Data = map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.example.com":{}}}`)}
		return env.Client.Update(ctx, source)
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := secretCopy("cpa-web", source.Name, "registry-pull", source)
		if err == nil {
			err = secretCopy("cpb-web", source.Name, "registry-pull", source)
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the source's change did not reach the copies within 5s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The tenant owner may neither change nor delete the copy.
	cp := &corev1.Secret{}
	if err := dev.Get(ctx, client.ObjectKey{Namespace: "cpa-web", Name: source.Name}, cp); err != nil {
		t.Fatalf("the tenant owner reads the copy: %v", err)
	}
	cp.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{"evil.example.com":{}}}`)
	testenv.Rejected(t, dev.Update(ctx, cp), "cpa", "managed-objects")
	testenv.Rejected(t, dev.Delete(ctx, cp), "cpa", "managed-objects")
	unlabelled := cp.DeepCopy()
	delete(unlabelled.Labels, tenancyv1alpha1.ManagedByLabel)
	testenv.Rejected(t, dev.Patch(ctx, unlabelled, client.MergeFrom(cp)), "cpa", "managed-objects")

	// A new namespace of a selected tenant gets the copy.
	testenv.OwnerCreatesNamespace(t, dev, "cpa-api")
	testenv.Eventually(t, "the copy in a new namespace", func() error {
		return secretCopy("cpa-api", source.Name, "registry-pull", source)
	})

	// A tenant whose label no longer matches loses its copies.
	env.UpdateTenant(t, "cpb", func(tn *tenancyv1alpha1.Tenant) { delete(tn.Labels, copySelectLabel) })
	testenv.Eventually(t, "the copy gone from a tenant no longer selected", func() error {
		return absent("cpb-web", source.Name, &corev1.Secret{})
	})
	waitCopyReady(t, "registry-pull", tenancyv1alpha1.ReasonCopied, 2)

	// The source deleted: every copy goes, and the status says why.
	if err := env.Client.Delete(ctx, source); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the copies gone with their source", func() error {
		for _, ns := range []string{"cpa-web", "cpa-api"} {
			if err := absent(ns, source.Name, &corev1.Secret{}); err != nil {
				return err
			}
		}
		return nil
	})
	tr = waitCopyReady(t, "registry-pull", tenancyv1alpha1.ReasonSourceNotFound, 0)
	if c := meta.FindStatusCondition(tr.Status.Conditions, tenancyv1alpha1.ConditionReady); c.Status != metav1.ConditionFalse ||
		!strings.Contains(c.Message, "Secret "+src+"/"+source.Name+" does not exist") {
		t.Errorf("Ready = %+v; want False naming the missing source", c)
	}
}

// TestCopiesGoWithTheTenantResource: an inline ConfigMap is copied into the
// namespaces the namespace selector picks, and deleting the
// TenantResource deletes every copy.
func TestCopiesGoWithTheTenantResource(t *testing.T) {
	ctx := context.Background()
	const sel = "inline"
	dev := env.TenantWithNamespace(t, testutil.Tenant("cpd").Owner("cpd-owner").MetaLabel(copySelectLabel, sel).Obj(), "cpd-web")
	if err := testenv.CreateNamespaceAs(dev, "cpd-batch", map[string]string{"workload": "batch"}); err != nil {
		t.Fatalf("the owner creates a labelled namespace: %v", err)
	}
	testenv.Eventually(t, "the owner may read ConfigMaps in cpd-batch", func() error {
		return testenv.CanI(dev, "get", "configmaps", "cpd-batch")
	})
	tr := testutil.TenantResource("cpd-settings").Tenants(copySelectLabel, sel).Namespaces("workload", "batch").
		ConfigMap("platform-settings", map[string]string{"region": "eu-west", "proxy": "http://proxy.infra:3128"}).Obj()
	createTenantResource(t, tr)
	waitCopyReady(t, tr.Name, tenancyv1alpha1.ReasonCopied, 1)

	cm := &corev1.ConfigMap{}
	if err := dev.Get(ctx, client.ObjectKey{Namespace: "cpd-batch", Name: "platform-settings"}, cm); err != nil {
		t.Fatalf("the owner reads the inline ConfigMap's copy: %v", err)
	}
	if cm.Data["region"] != "eu-west" || cm.Labels[tenancyv1alpha1.ManagedByLabel] != tenancyv1alpha1.ManagedByValue {
		t.Errorf("copy %v, labels %v; want the inline data, labelled as Bulkhead's", cm.Data, cm.Labels)
	}
	if err := absent("cpd-web", "platform-settings", &corev1.ConfigMap{}); err != nil {
		t.Errorf("a namespace the namespace selector does not pick: %v", err)
	}
	cm.Data["region"] = "us-east"
	testenv.Rejected(t, dev.Update(ctx, cm), "cpd", "managed-objects")

	if err := env.Client.Delete(ctx, tr); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the copy gone with its TenantResource", func() error {
		return absent("cpd-batch", "platform-settings", &corev1.ConfigMap{})
	})
	testenv.Eventually(t, "the TenantResource gone", func() error {
		return testenv.Gone(env.Client.Get(ctx, client.ObjectKey{Name: tr.Name}, &tenancyv1alpha1.TenantResource{}), "TenantResource "+tr.Name)
	})
}

// TestCopiesLeaveTenantsOwnObjects: a Secret the tenant made under a
// copy's name is never overwritten; the status says NameConflict and names
// it, and the copy arrives once the tenant's Secret is gone.
func TestCopiesLeaveTenantsOwnObjects(t *testing.T) {
	ctx := context.Background()
	src := copySourceNamespace(t)
	const sel = "conflict"
	dev := env.TenantWithNamespace(t, testutil.Tenant("cpe").Owner("cpe-owner").MetaLabel(copySelectLabel, sel).Obj(), "cpe-web")
	own := testutil.Secret("cpe-web", "shared-ca", corev1.SecretTypeOpaque)
	own.Data = map[string][]byte{"ca.crt": []byte("the tenant's own")}
	if err := dev.Create(ctx, own); err != nil {
		t.Fatalf("the owner creates its own Secret: %v", err)
	}
	source := markedSecret(src, "shared-ca", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": []byte("the platform's")})
	if err := env.Client.Create(ctx, source); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), source) })
	createTenantResource(t, testutil.TenantResource("cpe-ca").Tenants(copySelectLabel, sel).From(tenancyv1alpha1.CopiedSecret, src, "shared-ca").Obj())

	tr := waitCopyReady(t, "cpe-ca", tenancyv1alpha1.ReasonNameConflict, 0)
	c := meta.FindStatusCondition(tr.Status.Conditions, tenancyv1alpha1.ConditionReady)
	if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "Secret cpe-web/shared-ca (the tenant's own)") {
		t.Errorf("Ready = %+v; want False naming the tenant's Secret", c)
	}
	want := []tenancyv1alpha1.CopyConflict{{Kind: tenancyv1alpha1.CopiedSecret, Namespace: "cpe-web", Name: "shared-ca", HeldBy: "tenant"}}
	if fmt.Sprint(tr.Status.Conflicts) != fmt.Sprint(want) {
		t.Errorf("status.conflicts %v, want %v", tr.Status.Conflicts, want)
	}
	got := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(own), got); err != nil {
		t.Fatal(err)
	}
	if string(got.Data["ca.crt"]) != "the tenant's own" || got.Labels[tenancyv1alpha1.ManagedByLabel] != "" {
		t.Errorf("the tenant's Secret was changed: data %q, labels %v", got.Data, got.Labels)
	}

	// The tenant frees the name: the copy arrives at the next check.
	if err := dev.Delete(ctx, own); err != nil {
		t.Fatalf("the owner deletes its own Secret: %v", err)
	}
	testenv.Eventually(t, "the copy once the name is free", func() error {
		return secretCopy("cpe-web", "shared-ca", "cpe-ca", source)
	})
	waitCopyReady(t, "cpe-ca", tenancyv1alpha1.ReasonCopied, 1)
}

// TestCopiesRefuseTokensAndUnmarkedSources: a service account token is
// never copied, whatever its label; an unmarked source is not copied until
// it is marked, and the status says how to mark it.
func TestCopiesRefuseTokensAndUnmarkedSources(t *testing.T) {
	ctx := context.Background()
	src := copySourceNamespace(t)
	const sel = "refused"
	env.TenantWithNamespace(t, testutil.Tenant("cpf").Owner("cpf-owner").MetaLabel(copySelectLabel, sel).Obj(), "cpf-web")

	token := markedSecret(src, "deployer-token", corev1.SecretTypeServiceAccountToken, nil)
	token.Annotations[corev1.ServiceAccountNameKey] = "deployer"
	if err := env.Client.Create(ctx, token); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), token) })
	createTenantResource(t, testutil.TenantResource("cpf-token").Tenants(copySelectLabel, sel).From(tenancyv1alpha1.CopiedSecret, src, token.Name).Obj())
	tr := waitCopyReady(t, "cpf-token", tenancyv1alpha1.ReasonSourceForbiddenType, 0)
	if c := meta.FindStatusCondition(tr.Status.Conditions, tenancyv1alpha1.ConditionReady); !strings.Contains(c.Message, "kubernetes.io/service-account-token") {
		t.Errorf("Ready message %q does not name the type", c.Message)
	}
	if err := absent("cpf-web", token.Name, &corev1.Secret{}); err != nil {
		t.Error(err)
	}
	// Inline, the schema refuses it at its field.
	inline := testutil.TenantResource("cpf-inline-token").Tenants(copySelectLabel, sel).
		Secret("token", string(corev1.SecretTypeServiceAccountToken), map[string][]byte{"token": []byte("t")}).Obj()
	testenv.ExpectDenied(t, env.Client.Create(ctx, inline), "spec.resources[0].secret.type", "never copied")

	plain := testutil.Secret(src, "unmarked-db", corev1.SecretTypeOpaque)
	plain.Data = map[string][]byte{"password": []byte("p")}
	if err := env.Client.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), plain) })
	createTenantResource(t, testutil.TenantResource("cpf-db").Tenants(copySelectLabel, sel).From(tenancyv1alpha1.CopiedSecret, src, plain.Name).Obj())
	tr = waitCopyReady(t, "cpf-db", tenancyv1alpha1.ReasonSourceNotMarked, 0)
	if c := meta.FindStatusCondition(tr.Status.Conditions, tenancyv1alpha1.ConditionReady); !strings.Contains(c.Message, "kubectl label secret -n "+src+" unmarked-db tenancy.bulkhead.dev/copy=source") {
		t.Errorf("Ready message %q does not say how to mark the source", c.Message)
	}
	if err := absent("cpf-web", plain.Name, &corev1.Secret{}); err != nil {
		t.Error(err)
	}
	// Marked, it is copied: the label's arrival is a watch event.
	patch := client.MergeFrom(plain.DeepCopy())
	plain.Labels = map[string]string{tenancyv1alpha1.CopyLabel: tenancyv1alpha1.CopySource}
	if err := env.Client.Patch(ctx, plain, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the copy once the source is marked", func() error {
		return secretCopy("cpf-web", plain.Name, "cpf-db", plain)
	})
	// Unmarked again, the copy goes.
	patch = client.MergeFrom(plain.DeepCopy())
	plain.Labels = nil
	if err := env.Client.Patch(ctx, plain, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the copy gone once the source is unmarked", func() error {
		return absent("cpf-web", plain.Name, &corev1.Secret{})
	})
}

// TestTenantResourceSpecIsValidated: malformed TenantResources are refused
// with the field to fix.
func TestTenantResourceSpecIsValidated(t *testing.T) {
	ctx := context.Background()
	both := testutil.TenantResource("cpv-both").ConfigMap("x", map[string]string{"a": "b"}).Obj()
	both.Spec.Resources[0].From = tenancyv1alpha1.SourceReference{Kind: tenancyv1alpha1.CopiedConfigMap, Namespace: "infra", Name: "x"}
	dup := testutil.TenantResource("cpv-dup").From(tenancyv1alpha1.CopiedSecret, "infra", "x").Secret("x", "", map[string][]byte{"a": []byte("b")}).Obj()
	noName := testutil.TenantResource("cpv-noname").ConfigMap("", map[string]string{"a": "b"}).Obj()
	for _, c := range []struct {
		tr   *tenancyv1alpha1.TenantResource
		want []string
	}{
		{both, []string{"spec.resources[0]", "exactly one of from, configMap or secret"}},
		{dup, []string{"spec.resources", "same name"}},
		{noName, []string{"spec.resources[0]", "needs a name"}},
		{testutil.TenantResource("cpv-empty").Obj(), []string{"spec.resources"}},
	} {
		testenv.ExpectDenied(t, env.Client.Create(ctx, c.tr), c.want...)
	}
}
