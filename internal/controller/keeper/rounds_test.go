package keeper

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

var testHosts = []string{"localhost"}

func testScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = tenancyv1alpha1.AddToScheme(scheme)
	return scheme
}

func testKeeper(c client.Client) *Keeper {
	return &Keeper{
		Client: c, Recorder: events.NewFakeRecorder(1000), Settings: render.DefaultSettings(),
		Endpoint: bwebhook.Endpoint{URL: "https://localhost:9443"},
		Secret:   client.ObjectKey{Namespace: "bulkhead-system", Name: SecretName}, Hosts: testHosts,
	}
}

func managed() map[string]string {
	return map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}
}

// mutatingDiscoveryFails stands for an API server whose discovery cannot
// say whether MutatingAdmissionPolicy is served; other kinds map as usual.
type mutatingDiscoveryFails struct{ meta.RESTMapper }

func (m mutatingDiscoveryFails) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	if gk.Kind == "MutatingAdmissionPolicy" {
		return nil, errors.New("the server is currently unable to handle the request")
	}
	return m.RESTMapper.RESTMapping(gk, versions...)
}

// TestDiscoveryFailureKeepsWhatDoesNotDependOnIt: while discovery fails,
// a deleted validating policy, ClusterRole or validating webhook
// configuration is restored all the same, and a retired validating policy
// pruned; the mutating webhook configuration, which depends on the answer,
// is left as it is; and the round fails, to be retried.
func TestDiscoveryFailureKeepsWhatDoesNotDependOnIt(t *testing.T) {
	ctx := context.Background()
	otherMutating := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: bwebhook.ConfigurationName, Labels: managed()}}
	retired := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "bulkhead-retired", Labels: managed()}}
	c := fake.NewClientBuilder().WithScheme(testScheme()).
		WithRESTMapper(mutatingDiscoveryFails{meta.NewDefaultRESTMapper(nil)}).
		WithObjects(otherMutating, retired).Build()
	k := testKeeper(c)

	_, err := k.Reconcile(ctx, ctrl.Request{})
	if err == nil || !strings.Contains(err.Error(), "unable to handle the request") {
		t.Fatalf("Reconcile error = %v, want the discovery failure, so that the round is retried", err)
	}
	for _, obj := range render.ValidatingPolicies(k.Settings) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object)); err != nil {
			t.Errorf("%T %s not kept: %v", obj, obj.GetName(), err)
		}
	}
	for _, role := range render.ClusterRoles(k.Settings) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(role), &rbacv1.ClusterRole{}); err != nil {
			t.Errorf("ClusterRole %s not kept: %v", role.Name, err)
		}
	}
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := c.Get(ctx, client.ObjectKey{Name: bwebhook.ConfigurationName}, validating); err != nil || len(validating.Webhooks) == 0 {
		t.Errorf("the validating webhook configuration not kept: %v", err)
	}
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := c.Get(ctx, client.ObjectKey{Name: bwebhook.ConfigurationName}, mutating); err != nil || len(mutating.Webhooks) != 0 {
		t.Errorf("the mutating webhook configuration was written (%d webhooks, %v); it depends on the answer", len(mutating.Webhooks), err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(retired), &admissionregistrationv1.ValidatingAdmissionPolicy{}); !apierrors.IsNotFound(err) {
		t.Errorf("the retired validating policy was not pruned: %v", err)
	}
}

// TestPruneSparesWhatIsNotItsOwn: labelled as Bulkhead's is not enough to
// be pruned. A policy binding carrying a tenant label is a tenant's;
// ClusterRoles and webhook configurations are never pruned (people bind to
// ClusterRoles, and their names never change). Only a retired shared policy
// or binding goes.
func TestPruneSparesWhatIsNotItsOwn(t *testing.T) {
	ctx := context.Background()
	tenantBinding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-extra", Labels: render.ManagedLabels("acme", render.ConcernAdmission)},
		Spec:       admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: render.PodsPolicy},
	}
	foreignRole := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses-role", Labels: managed()}}
	foreignConfig := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses-webhooks", Labels: managed()}}
	retiredBinding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bulkhead-retired", Labels: managed()},
		Spec:       admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "bulkhead-retired"},
	}
	c := fake.NewClientBuilder().WithScheme(testScheme()).WithObjects(tenantBinding, foreignRole, foreignConfig, retiredBinding).Build()

	if _, err := testKeeper(c).Reconcile(ctx, ctrl.Request{}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{tenantBinding, foreignRole, foreignConfig} {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object)); err != nil {
			t.Errorf("%T %s was pruned: %v", obj, obj.GetName(), err)
		}
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(retiredBinding), &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}); !apierrors.IsNotFound(err) {
		t.Errorf("the retired binding was not pruned: %v", err)
	}
}

// TestSecretCompareAndSwap follows two leaders overlapping during a lease
// handover: whichever writes the Secret second loses, stores nothing over
// the other's certificate, and takes it up at its next round.
func TestSecretCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	key := client.ObjectKey{Namespace: "bulkhead-system", Name: SecretName}
	for _, tc := range []struct {
		name     string
		existing map[string][]byte
	}{
		{"both issue the first certificate", nil},
		{"both renew an expired one", mustIssueAt(t, testHosts, time.Now().Add(-servingLifetime-time.Hour))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			theirs := mustIssue(t, testHosts)
			competitor := func(ctx context.Context, c client.WithWatch) {
				s := servingSecret(key, theirs)
				if tc.existing == nil {
					if err := c.Create(ctx, s); err != nil {
						t.Fatal(err)
					}
					return
				}
				cur := &corev1.Secret{}
				if err := c.Get(ctx, key, cur); err != nil {
					t.Fatal(err)
				}
				cur.Data = theirs
				if err := c.Update(ctx, cur); err != nil {
					t.Fatal(err)
				}
			}
			raced := false
			b := fake.NewClientBuilder().WithScheme(testScheme()).WithInterceptorFuncs(interceptor.Funcs{
				Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
					if _, ok := obj.(*corev1.Secret); ok && !raced {
						raced = true
						competitor(ctx, c)
					}
					return c.Create(ctx, obj, opts...)
				},
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					if _, ok := obj.(*corev1.Secret); ok && !raced {
						raced = true
						competitor(ctx, c)
					}
					return c.Update(ctx, obj, opts...)
				},
			})
			if tc.existing != nil {
				b = b.WithObjects(servingSecret(key, tc.existing))
			}
			c := b.Build()
			k := testKeeper(c)
			before := value(t, "bulkhead_cluster_object_writes_total", "Secret")

			result, err := k.Reconcile(ctx, ctrl.Request{})
			if err != nil {
				t.Fatalf("a lost race is not a failure: %v", err)
			}
			if result.RequeueAfter > 5*time.Second {
				t.Errorf("RequeueAfter = %v, want the winner's certificate read again at once", result.RequeueAfter)
			}
			if got := secretData(t, c, key); !bytes.Equal(got["tls.crt"], theirs["tls.crt"]) {
				t.Fatal("the other leader's certificate was overwritten")
			}
			if got := value(t, "bulkhead_cluster_object_writes_total", "Secret") - before; got != 0 {
				t.Errorf("bulkhead_cluster_object_writes_total{kind=Secret} rose by %v on a lost race", got)
			}
			if err := c.Get(ctx, client.ObjectKey{Name: bwebhook.ConfigurationName}, &admissionregistrationv1.ValidatingWebhookConfiguration{}); !apierrors.IsNotFound(err) {
				t.Errorf("the webhook configurations were written with a CA not stored: %v", err)
			}

			if _, err := k.Reconcile(ctx, ctrl.Request{}); err != nil {
				t.Fatal(err)
			}
			if got := secretData(t, c, key); !bytes.Equal(got["tls.crt"], theirs["tls.crt"]) {
				t.Error("the next round replaced the winner's valid certificate")
			}
			if !trusts(t, validatingBundle(t, c), theirs, testHosts, time.Now()) {
				t.Error("the webhook configuration does not trust the stored certificate")
			}
		})
	}
}

// TestRenewalKeepsTheOldCATrusted: the round that renews the certificate
// updates the Secret in place (keeping what others put on it) and writes
// configurations that trust both the certificate replicas serve until their
// files follow and the new one.
func TestRenewalKeepsTheOldCATrusted(t *testing.T) {
	ctx := context.Background()
	key := client.ObjectKey{Namespace: "bulkhead-system", Name: SecretName}
	old := mustIssueAt(t, testHosts, time.Now().Add(-(servingLifetime-renewBefore)-time.Hour))
	stored := servingSecret(key, old)
	stored.Annotations = map[string]string{"example.com/backup": "yes"}
	c := fake.NewClientBuilder().WithScheme(testScheme()).WithObjects(stored).Build()

	if _, err := testKeeper(c).Reconcile(ctx, ctrl.Request{}); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{}
	if err := c.Get(ctx, key, secret); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(secret.Data["tls.crt"], old["tls.crt"]) || !valid(secret.Data, testHosts, time.Now()) {
		t.Fatal("the certificate due for renewal was not renewed")
	}
	if secret.Annotations["example.com/backup"] != "yes" {
		t.Errorf("the renewal dropped another's annotation: %v", secret.Annotations)
	}
	bundle := validatingBundle(t, c)
	if !trusts(t, bundle, old, testHosts, time.Now()) || !trusts(t, bundle, secret.Data, testHosts, time.Now()) {
		t.Error("the webhook configuration does not trust both the old and the new certificate")
	}
}

func secretData(t *testing.T, c client.Client, key client.ObjectKey) map[string][]byte {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), key, s); err != nil {
		t.Fatal(err)
	}
	return s.Data
}

// validatingBundle is the CA bundle of every webhook of the validating
// configuration, which must be one.
func validatingBundle(t *testing.T, c client.Client) []byte {
	t.Helper()
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: bwebhook.ConfigurationName}, cfg); err != nil {
		t.Fatal(err)
	}
	var bundle []byte
	for i, w := range cfg.Webhooks {
		if i > 0 && !bytes.Equal(w.ClientConfig.CABundle, bundle) {
			t.Fatalf("webhook %s carries another CA bundle", w.Name)
		}
		bundle = w.ClientConfig.CABundle
	}
	if len(bundle) == 0 {
		t.Fatal("the validating webhook configuration carries no CA bundle")
	}
	return bundle
}
