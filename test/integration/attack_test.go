package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// Attacks on counts of any kind and on TenantResource copies, by a hostile
// tenant (and a careless admin). Each shows a defence.

// countHeld counts the objects of list's kind in namespaces, as an admin sees them.
func countHeld(t *testing.T, list client.ObjectList, namespaces ...string) int {
	t.Helper()
	n := 0
	for _, ns := range namespaces {
		if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		switch l := list.(type) {
		case *corev1.ConfigMapList:
			n += len(l.Items)
		case *corev1.EventList:
			n += len(l.Items)
		case *coordinationv1.LeaseList:
			n += len(l.Items)
		default:
			t.Fatalf("countHeld: %T", list)
		}
	}
	return n
}

// waitCounted waits until the ledger of tenant holds want of key, with no
// reservation pending.
func waitCounted(t *testing.T, tenant string, key corev1.ResourceName, want int64) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("tenant %s counted %d %s", tenant, want, key), func() error {
		l := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: tenant}, l); err != nil {
			return err
		}
		q, ok := l.Status.Usage[key]
		if !ok || q.Value() != want || len(l.Status.Reservations) != 0 {
			return fmt.Errorf("usage %v, %d reservations", l.Status.Usage, len(l.Status.Reservations))
		}
		return nil
	})
}

// TestAttackCountRoutesAroundTheWebhook: every other way of making an
// object than a plain POST is charged as well: a generated name, a
// server-side apply that creates, a PUT that creates (Leases allow it), a
// dry run (which charges nothing, and so admits nothing real), and an Event
// created through the core API while the Tenant counts events.k8s.io's.
func TestAttackCountRoutesAroundTheWebhook(t *testing.T) {
	ctx := context.Background()
	l := testutil.Quantities
	tn := testutil.Tenant("atkr").Owner("atkr-owner").TenantQuota(l(
		"count/configmaps", "2",
		"count/leases.coordination.k8s.io", "1",
		"count/events.events.k8s.io", "1",
	)).Obj()
	owner := env.TenantWithNamespace(t, tn, "atkr-a")
	deleteLedgerAtEnd(t, "atkr")
	base := countOf(t, "atkr", "count/configmaps")
	waitCounted(t, "atkr", "count/configmaps", base)
	testenv.Eventually(t, "the quota webhook sent leases and events", func() error {
		got := strings.Join(quotaWebhookResources(t), " ")
		for _, want := range []string{"/configmaps", "coordination.k8s.io/leases", "events.k8s.io/events"} {
			if !strings.Contains(got, want) {
				return fmt.Errorf("quota webhook resources %s", got)
			}
		}
		return nil
	})

	// Dry runs, as many as the tenant likes: none is charged, none is stored.
	for i := range 4 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "atkr-a", Name: fmt.Sprintf("dry-%d", i)}}
		if err := owner.Create(ctx, cm, client.DryRunAll); err != nil && base < 2 {
			t.Fatalf("a dry run under the count: %v", err)
		}
	}
	// Generated names, then a server-side apply that creates: exactly up to
	// the count, never beyond it.
	made := int(base)
	var lastErr error
	for i := range 4 {
		var err error
		if i%2 == 0 {
			err = owner.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "atkr-a", GenerateName: "gen-"}})
		} else {
			apply := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"namespace":"atkr-a","name":"ssa-%d"},"data":{"k":"v"}}`, i)
			obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "atkr-a", Name: fmt.Sprintf("ssa-%d", i)}}
			err = owner.Patch(ctx, obj, client.RawPatch(types.ApplyPatchType, []byte(apply)), client.FieldOwner("attacker"), client.ForceOwnership)
		}
		if err == nil {
			made++
			continue
		}
		lastErr = err
		testenv.Rejected(t, err, "atkr", "quota.tenant")
	}
	if held := countHeld(t, &corev1.ConfigMapList{}, "atkr-a"); held != 2 || made != 2 {
		t.Fatalf("count/configmaps 2: %d admitted, %d held (last refusal %v)", made, held, lastErr)
	}

	// A PUT to a Lease that does not exist creates it: charged as a create.
	lease := func(name string) *coordinationv1.Lease {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "atkr-a", Name: name}}
	}
	if err := owner.Update(ctx, lease("put-1")); err != nil {
		t.Fatalf("the first Lease, created by a PUT: %v", err)
	}
	err := owner.Update(ctx, lease("put-2"))
	switch {
	case err == nil:
		t.Fatalf("a second Lease created by a PUT under count/leases.coordination.k8s.io 1")
	case apierrors.IsNotFound(err):
		// The API server does not create on update: nothing to charge.
	default:
		testenv.Rejected(t, err, "atkr", "quota.tenant")
	}
	if held := countHeld(t, &coordinationv1.LeaseList{}, "atkr-a"); held != 1 {
		t.Fatalf("count/leases.coordination.k8s.io 1: %d held", held)
	}

	// The Tenant counts events.k8s.io Events; the owner may only write
	// core ones, the same objects under another group.
	event := func(name string) *corev1.Event {
		return &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: "atkr-a", Name: name},
			InvolvedObject: corev1.ObjectReference{Kind: "ConfigMap", Namespace: "atkr-a", Name: "x", APIVersion: "v1"},
			Reason:         "Attack", Message: "flood", Type: corev1.EventTypeNormal,
			FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1,
			Source: corev1.EventSource{Component: "attacker"},
		}
	}
	if err := owner.Create(ctx, event("ev-1")); err != nil {
		t.Fatalf("the first core Event: %v", err)
	}
	err = owner.Create(ctx, event("ev-2"))
	if err == nil {
		t.Fatalf("a core Event beyond count/events.events.k8s.io 1 was admitted: the core group route is not charged")
	}
	testenv.Rejected(t, err, "atkr", "quota.tenant")
	if held := countHeld(t, &corev1.EventList{}, "atkr-a"); held != 1 {
		t.Fatalf("count/events.events.k8s.io 1: %d Events held", held)
	}
	waitCounted(t, "atkr", "count/events.events.k8s.io", 1)
}

// TestAttackCountTerminatingNamespace: objects in a namespace being
// deleted still exist (a finalizer the tenant put on them keeps them, and
// the namespace, there for as long as the tenant likes), but the recount
// only counts namespaces that are not being deleted. So a tenant fills its
// count in one namespace, deletes that namespace, and after the next
// recount fills it again elsewhere: the count caps nothing. Nor does
// namespaces.max: a namespace being deleted no longer counts against it
// either (internal/claims/namespaces.go), so the cycle repeats without end.
//
// The recount counts every namespace of the tenant, terminating ones
// included (concern.AllTenantNamespaces).
func TestAttackCountTerminatingNamespace(t *testing.T) {
	ctx := context.Background()
	tn := testutil.Tenant("atkt").Owner("atkt-owner").TenantQuota(testutil.Quantities("count/configmaps", "3")).Obj()
	owner := env.TenantWithNamespace(t, tn, "atkt-a")
	testenv.OwnerCreatesNamespace(t, owner, "atkt-b")
	testenv.Eventually(t, "the owner may create ConfigMaps in atkt-b", func() error {
		return testenv.CanI(owner, "create", "configmaps", "atkt-b")
	})
	deleteLedgerAtEnd(t, "atkt")
	base := countOf(t, "atkt", "count/configmaps")
	waitCounted(t, "atkt", "count/configmaps", base)
	free := 3 - int(base)
	if free <= 0 {
		t.Fatalf("the tenant starts with %d ConfigMaps", base)
	}
	const hold = "example.com/hold"
	fill := func(ns, round string) int {
		made := 0
		for i := range free + 1 {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", round, i), Finalizers: []string{hold}}}
			err := owner.Create(ctx, cm)
			if err == nil {
				made++
			} else {
				t.Logf("%s/%s: %v", ns, cm.Name, err)
			}
		}
		return made
	}
	t.Cleanup(func() {
		for _, ns := range []string{"atkt-a", "atkt-b"} {
			list := &corev1.ConfigMapList{}
			_ = env.Client.List(context.Background(), list, client.InNamespace(ns))
			for i := range list.Items {
				cm := &list.Items[i]
				cm.Finalizers = nil
				_ = env.Client.Update(context.Background(), cm)
			}
		}
	})
	if made := fill("atkt-b", "first"); made != free {
		t.Fatalf("first fill admitted %d, want %d", made, free)
	}
	waitCounted(t, "atkt", "count/configmaps", 3)
	// The owner deletes the full namespace: its ConfigMaps stay (their
	// finalizer holds them), and so does the namespace, terminating.
	if err := owner.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "atkt-b"}}); err != nil {
		t.Fatalf("the owner deletes its namespace: %v", err)
	}
	// Wait for the recount after the deletion: the count must not drop
	// while the ConfigMaps exist.
	time.Sleep(20 * time.Second)
	l := &tenancyv1alpha1.TenantQuotaLedger{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "atkt"}, l); err != nil {
		t.Fatal(err)
	}
	held := countHeld(t, &corev1.ConfigMapList{}, "atkt-a", "atkt-b")
	used := l.Status.Usage["count/configmaps"]
	if used.Value() < int64(held) {
		t.Errorf("the ledger counts %d ConfigMaps while the tenant's namespaces hold %d", used.Value(), held)
	}
	made := fill("atkt-a", "second")
	held = countHeld(t, &corev1.ConfigMapList{}, "atkt-a", "atkt-b")
	if held > 3 {
		t.Fatalf("count/configmaps 3, yet the tenant holds %d ConfigMaps (%d more admitted after deleting a full namespace)", held, made)
	}
}

// TestAttackCountBlocksControlPlane: a tenant at its count/configmaps
// limit, or a careless admin who sets it below the number of namespaces,
// refuses the control plane's kube-root-ca.crt in a new namespace (its
// creator is a kube-system service account, which the quota webhook
// charges like a ReplicaSet's pods). Without it, no pod that mounts a
// projected service account token starts in that namespace.
//
// The quota webhook keeps the control plane's kube-root-ca.crt and default
// ServiceAccount away (webhook namespaceBootstrap); the recount still
// counts them.
func TestAttackCountBlocksControlPlane(t *testing.T) {
	ctx := context.Background()
	tn := testutil.Tenant("atkc").Owner("atkc-owner").TenantQuota(testutil.Quantities("count/configmaps", "1")).Obj()
	owner := env.TenantWithNamespace(t, tn, "atkc-a")
	deleteLedgerAtEnd(t, "atkc")
	waitCounted(t, "atkc", "count/configmaps", countOf(t, "atkc", "count/configmaps"))
	_ = owner.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "atkc-a", Name: "fill"}})
	testenv.OwnerCreatesNamespace(t, owner, "atkc-b")
	publisher := env.As("system:serviceaccount:kube-system:root-ca-cert-publisher", "system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated")
	root := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "atkc-b", Name: "kube-root-ca.crt"}, Data: map[string]string{"ca.crt": "x"}}
	if err := publisher.Create(ctx, root); err != nil {
		t.Fatalf("the root CA publisher cannot create kube-root-ca.crt in the tenant's new namespace: %v", err)
	}
}

// TestAttackCopySourceClaimedByTenant: a TenantResource names a source
// whose namespace does not exist yet (the platform namespace is created
// after the TenantResource, or was deleted and is being recreated). A
// tenant whose namespaces need no prefix creates that namespace, puts a
// Secret of the source's name in it, marks it as a source itself, and
// Bulkhead copies the tenant's data into another tenant's namespaces: a
// registry credential or CA bundle of the attacker's choosing.
//
// Two defences: the tenant may not put the copy label on its Secret
// (policy bulkhead-copy-label, rule managed-objects), and a source in a
// tenant's namespace is never copied, even one an admin marked
// (SourceInTenantNamespace).
func TestAttackCopySourceClaimedByTenant(t *testing.T) {
	ctx := context.Background()
	const sel, platform = "claimed", "atk-platform"
	env.TenantWithNamespace(t, testutil.Tenant("atkv").Owner("atkv-owner").MetaLabel(copySelectLabel, sel).Obj(), "atkv-web")
	attacker := env.TenantWithNamespace(t, testutil.Tenant("atkx").Owner("atkx-owner").RequirePrefix(false).Obj(), "atkx-web")
	createTenantResource(t, testutil.TenantResource("atk-registry").Tenants(copySelectLabel, sel).From(tenancyv1alpha1.CopiedSecret, platform, "registry-pull").Obj())
	waitCopyReady(t, "atk-registry", tenancyv1alpha1.ReasonSourceNotFound, 0)

	testenv.OwnerCreatesNamespace(t, attacker, platform)
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: platform, Name: "registry-pull"}})
	})
	testenv.Eventually(t, "the attacker may create Secrets in "+platform, func() error {
		return testenv.CanI(attacker, "create", "secrets", platform)
	})
	evil := testutil.Secret(platform, "registry-pull", corev1.SecretTypeOpaque)
	evil.Labels = map[string]string{tenancyv1alpha1.CopyLabel: tenancyv1alpha1.CopySource}
	evil.Data = map[string][]byte{"owner": []byte("attacker")}
	testenv.Rejected(t, attacker.Create(ctx, evil.DeepCopy()), "atkx", "managed-objects")

	// Unmarked, it is not copied; marked by an admin (who did not notice
	// whose namespace it is), it is still not copied: the tenant owns it.
	evil.Labels = nil
	if err := attacker.Create(ctx, evil.DeepCopy()); err != nil {
		t.Fatalf("the attacker's Secret without the label: %v", err)
	}
	waitCopyReady(t, "atk-registry", tenancyv1alpha1.ReasonSourceInTenantNamespace, 0)
	if err := env.Client.Patch(ctx, evil.DeepCopy(), client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"`+tenancyv1alpha1.CopyLabel+`":"`+tenancyv1alpha1.CopySource+`"}}}`))); err != nil {
		t.Fatalf("an admin marks the Secret: %v", err)
	}
	waitCopyReady(t, "atk-registry", tenancyv1alpha1.ReasonSourceInTenantNamespace, 0)
	time.Sleep(2 * time.Second)
	err := env.Client.Get(ctx, client.ObjectKey{Namespace: "atkv-web", Name: "registry-pull"}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("the victim's namespace holds a copy of the attacker's Secret (or: %v)", err)
	}
}

// TestAttackCopiesHoldAgainstTheTenant: the tenant cannot pass its own
// objects off as copies, cannot get Bulkhead to delete or overwrite them by
// labelling them as copies, and cannot change or delete a copy through
// server-side apply, a JSON patch that drops the managed-by label, or a
// deletecollection.
func TestAttackCopiesHoldAgainstTheTenant(t *testing.T) {
	ctx := context.Background()
	const sel, name = "hold", "atk-ca"
	owner := env.TenantWithNamespace(t, testutil.Tenant("atkh").Owner("atkh-owner").MetaLabel(copySelectLabel, sel).Obj(), "atkh-web")

	// The tenant's own Secrets, labelled as copies of the TenantResource
	// before it exists: one under another name, one under the copy's name.
	decoy := func(n string) *corev1.Secret {
		s := testutil.Secret("atkh-web", n, corev1.SecretTypeOpaque)
		s.Labels = map[string]string{tenancyv1alpha1.CopyLabel: tenancyv1alpha1.CopyCopy, tenancyv1alpha1.TenantResourceLabel: name}
		s.Data = map[string][]byte{"mine": []byte("tenant")}
		return s
	}
	// The tenant may not label its own that way.
	testenv.Rejected(t, owner.Create(ctx, decoy("mine")), "atkh", "managed-objects")
	// Objects labelled so by someone else (an admin, before the rule) are
	// still not taken for copies.
	for _, n := range []string{"decoy", "squat"} {
		if err := env.Client.Create(ctx, decoy(n)); err != nil {
			t.Fatalf("creating Secret %s labelled as a copy: %v", n, err)
		}
	}
	// Passing one off as Bulkhead's is refused.
	forged := decoy("forged")
	forged.Labels[tenancyv1alpha1.ManagedByLabel] = tenancyv1alpha1.ManagedByValue
	testenv.Rejected(t, owner.Create(ctx, forged), "atkh", "managed-objects")

	tr := testutil.TenantResource(name).Tenants(copySelectLabel, sel).
		Secret("squat", "", map[string][]byte{"ca.crt": []byte("platform")}).
		Secret("real", "", map[string][]byte{"ca.crt": []byte("platform")}).Obj()
	createTenantResource(t, tr)
	waitCopyReady(t, name, tenancyv1alpha1.ReasonNameConflict, 1)
	// Neither decoy was deleted or overwritten.
	for _, n := range []string{"decoy", "squat"} {
		got := &corev1.Secret{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "atkh-web", Name: n}, got); err != nil {
			t.Fatalf("the tenant's Secret %s: %v", n, err)
		}
		if string(got.Data["mine"]) != "tenant" || got.Labels[tenancyv1alpha1.ManagedByLabel] != "" {
			t.Fatalf("the tenant's Secret %s was changed: %v %v", n, got.Labels, got.Data)
		}
	}
	time.Sleep(2 * time.Second)
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "atkh-web", Name: "decoy"}, &corev1.Secret{}); err != nil {
		t.Fatalf("the decoy after another round: %v", err)
	}

	cp := &corev1.Secret{}
	if err := owner.Get(ctx, client.ObjectKey{Namespace: "atkh-web", Name: "real"}, cp); err != nil {
		t.Fatal(err)
	}
	// A JSON patch that drops the label and changes the data at once.
	jp := `[{"op":"remove","path":"/metadata/labels/app.kubernetes.io~1managed-by"},{"op":"replace","path":"/data","value":{"ca.crt":"ZXZpbA=="}}]`
	testenv.Rejected(t, owner.Patch(ctx, cp.DeepCopy(), client.RawPatch(types.JSONPatchType, []byte(jp))), "atkh", "managed-objects")
	// A forced server-side apply.
	apply := `{"apiVersion":"v1","kind":"Secret","metadata":{"namespace":"atkh-web","name":"real","labels":{"app.kubernetes.io/managed-by":"me"}},"data":{"ca.crt":"ZXZpbA=="}}`
	testenv.Rejected(t, owner.Patch(ctx, cp.DeepCopy(), client.RawPatch(types.ApplyPatchType, []byte(apply)), client.FieldOwner("attacker"), client.ForceOwnership), "atkh", "managed-objects")
	// Taking the owner reference off, to orphan it from the garbage collector.
	mp := `{"metadata":{"ownerReferences":null,"finalizers":["example.com/hold"]}}`
	testenv.Rejected(t, owner.Patch(ctx, cp.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(mp))), "atkh", "managed-objects")
	// deletecollection of every Secret in the namespace.
	err := owner.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace("atkh-web"))
	t.Logf("deletecollection: %v", err)
	after := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "atkh-web", Name: "real"}, after); err != nil {
		t.Fatalf("the copy after a deletecollection: %v", err)
	}
	if after.UID != cp.UID || string(after.Data["ca.crt"]) != "platform" || !after.DeletionTimestamp.IsZero() {
		t.Fatalf("the copy was changed, replaced or deleted: uid %s→%s, data %q", cp.UID, after.UID, after.Data)
	}
}

// TestAttackCopyLabelReserved: a tenant may not put the copy label, with
// any value, on its own Secrets: each would be held whole in the manager's
// cache of marked objects, and wake the TenantResource its tenant-resource
// label names at each change.
func TestAttackCopyLabelReserved(t *testing.T) {
	ctx := context.Background()
	owner := env.TenantWithNamespace(t, testutil.Tenant("atkl").Owner("atkl-owner").Obj(), "atkl-web")
	for i, v := range []string{tenancyv1alpha1.CopySource, tenancyv1alpha1.CopyCopy, "anything"} {
		s := testutil.Secret("atkl-web", fmt.Sprintf("big-%d", i), corev1.SecretTypeOpaque)
		s.Labels = map[string]string{tenancyv1alpha1.CopyLabel: v, tenancyv1alpha1.TenantResourceLabel: "registry-pull"}
		s.Data = map[string][]byte{"blob": make([]byte, 900*1024)}
		testenv.Rejected(t, owner.Create(ctx, s), "atkl", "managed-objects")
	}
	// Nor added later, to a Secret it made without.
	plain := testutil.Secret("atkl-web", "plain", corev1.SecretTypeOpaque)
	if err := owner.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	testenv.Rejected(t, owner.Patch(ctx, plain, client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"`+tenancyv1alpha1.CopyLabel+`":"source"}}}`))), "atkl", "managed-objects")
}
