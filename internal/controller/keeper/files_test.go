package keeper

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// TestCertificateFiles follows one replica: it starts on a placeholder
// (nothing issued yet) and is not ready, then serves the Secret's
// certificate once the leader issues it, and follows a renewal.
func TestCertificateFiles(t *testing.T) {
	ctx := context.Background()
	hosts := []string{"localhost"}
	key := client.ObjectKey{Namespace: "bulkhead-system", Name: SecretName}
	dir := t.TempDir()
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).Build()

	files, err := WriteInitialFiles(ctx, c, key, dir, hosts)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := leafOf(readFiles(t, dir)); !ok {
		t.Fatal("no usable placeholder for the webhook server to start with")
	}
	if files.Checker(nil) == nil {
		t.Error("ready on a placeholder certificate that the API server does not trust")
	}

	files.Reader = c
	for i, step := range []string{"issued", "renewed"} {
		data := mustIssue(t, hosts)
		secret := servingSecret(key, data)
		if i == 0 {
			err = c.Create(ctx, secret)
		} else {
			err = c.Update(ctx, secret)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := files.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := readFiles(t, dir); !bytes.Equal(got["tls.crt"], data["tls.crt"]) || !bytes.Equal(got["tls.key"], data["tls.key"]) {
			t.Errorf("%s: the files do not hold the Secret's certificate", step)
		}
		if err := files.Checker(nil); err != nil {
			t.Errorf("%s: not ready: %v", step, err)
		}
	}

	// A replica starting where the Secret exists serves it at once.
	other := t.TempDir()
	started, err := WriteInitialFiles(ctx, c, key, other, hosts)
	if err != nil {
		t.Fatal(err)
	}
	if err := started.Checker(nil); err != nil {
		t.Errorf("a replica starting after issuance is not ready: %v", err)
	}
	if !bytes.Equal(readFiles(t, other)["tls.crt"], readFiles(t, dir)["tls.crt"]) {
		t.Error("a replica starting after issuance does not serve the Secret's certificate")
	}
}

func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range certFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	return out
}

func TestCondition(t *testing.T) {
	ok := condition(nil)
	if ok.Status != metav1.ConditionTrue || ok.Reason != "Applied" {
		t.Errorf("no failures: %s %s, want True Applied", ok.Status, ok.Reason)
	}
	var many []failure
	for _, name := range []string{"bulkhead-pods", "bulkhead-services", "bulkhead-storage", "bulkhead-rbac", "bulkhead-managed"} {
		many = append(many, failure{kind: "ValidatingAdmissionPolicy", name: name, err: apierrors.NewForbidden(
			schema.GroupResource{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies"}, name, errors.New("permission denied"))})
	}
	failed := condition(many)
	if failed.Status != metav1.ConditionFalse || failed.Reason != "ApplyFailed" {
		t.Errorf("failures: %s %s, want False ApplyFailed", failed.Status, failed.Reason)
	}
	for _, want := range []string{"could not keep 5", "ValidatingAdmissionPolicy bulkhead-pods: validatingadmissionpolicies.admissionregistration.k8s.io \"bulkhead-pods\" is forbidden: permission denied", "and 2 more", "config/rbac", "Warning Events"} {
		if !bytes.Contains([]byte(failed.Message), []byte(want)) {
			t.Errorf("message %q lacks %q", failed.Message, want)
		}
	}
}

// TestUnservableSecret: a certificate in the Secret that a replica may not
// serve (expired, or for other hosts) is neither copied nor counted as
// ready; a replica already serving the Secret's earlier certificate keeps
// it until the keeper replaces the Secret.
func TestUnservableSecret(t *testing.T) {
	ctx := context.Background()
	hosts := []string{"localhost"}
	key := client.ObjectKey{Namespace: "bulkhead-system", Name: SecretName}
	for _, tc := range []struct {
		name string
		data map[string][]byte
	}{
		{"expired", mustIssueAt(t, hosts, time.Now().Add(-servingLifetime-time.Hour))},
		{"for other hosts", mustIssue(t, []string{"bulkhead-webhook.elsewhere.svc"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(servingSecret(key, tc.data)).Build()
			dir := t.TempDir()
			files, err := WriteInitialFiles(ctx, c, key, dir, hosts)
			if err != nil {
				t.Fatal(err)
			}
			if files.Checker(nil) == nil {
				t.Error("ready on a certificate it may not serve")
			}
			if bytes.Equal(readFiles(t, dir)["tls.crt"], tc.data["tls.crt"]) {
				t.Error("wrote a certificate it may not serve, instead of a placeholder")
			}

			// A replica serving an earlier certificate from the Secret.
			serving := mustIssue(t, hosts)
			if _, err := writeIfChanged(dir, serving); err != nil {
				t.Fatal(err)
			}
			files.fromSecret.Store(true)
			files.Reader = c
			if _, err := files.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(readFiles(t, dir)["tls.crt"], serving["tls.crt"]) {
				t.Error("replaced the certificate served by one it may not serve")
			}
			if err := files.Checker(nil); err != nil {
				t.Errorf("no longer ready while serving a usable certificate: %v", err)
			}
		})
	}
}
