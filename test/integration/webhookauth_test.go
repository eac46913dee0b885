package integration

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/pki"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// TestWebhookAcceptsOnlyTheAPIServer posts a forged AdmissionReview, a pod
// create that charges a tenant's tenant-wide quota, straight to the
// manager's quota webhook, as anyone who can reach its port could. Without
// a client certificate, with one from another CA, or with one of the
// cluster's CA for someone else (the admin), the TLS handshake is refused
// before any handler runs, and the usage and reservations in the tenant's
// quota ledger do not move. With the API server's own certificate the same request is
// answered and charged: the refusals are not the test failing to reach the
// server.
func TestWebhookAcceptsOnlyTheAPIServer(t *testing.T) {
	ctx := context.Background()
	tn := testutil.Tenant("wa").Owner("wa-owner").
		TenantQuota(corev1.ResourceList{corev1.ResourcePods: resource.MustParse("5")}).Obj()
	env.TenantWithNamespace(t, tn, "wa-a")
	counted := func() (*tenancyv1alpha1.TenantQuotaLedger, error) {
		got := &tenancyv1alpha1.TenantQuotaLedger{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: tn.Name}, got); err != nil {
			return nil, err
		}
		if _, ok := got.Status.Usage[corev1.ResourcePods]; !ok {
			return nil, fmt.Errorf("tenant-wide usage not counted yet: %v", got.Status.Usage)
		}
		return got, nil
	}
	testenv.Eventually(t, "tenant-wide usage counted", func() error { _, err := counted(); return err })
	before, err := counted()
	if err != nil {
		t.Fatal(err)
	}

	url, serverCA := quotaWebhookEndpoint(t)
	forged := testutil.Pod("wa-a", "forged", "registry.example.com/app:1")
	body, err := json.Marshal(testutil.PodCreateReview(forged, "wa-owner"))
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := pki.NewCA("not-the-cluster-ca", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherCert, otherKey, err := otherCA.Issue(pki.Leaf{CommonName: devcluster.WebhookClientName, Lifetime: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		cert, key []byte
		alert     string
	}{
		{"no client certificate", nil, nil, "certificate required"},
		{"certificate of another CA, with the API server's name", otherCert, otherKey, "unknown certificate authority"},
		{"certificate of the cluster's CA for the admin", env.Config().CertData, env.Config().KeyData, "bad certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := postReview(t, url, serverCA, tc.cert, tc.key, body)
			if resp != nil {
				t.Fatalf("a forged review was answered: HTTP %d %s", resp.StatusCode, resp.body)
			}
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "remote error" || !strings.Contains(err.Error(), "tls: "+tc.alert) {
				t.Fatalf("got %v; want the server to refuse the TLS handshake with %q", err, tc.alert)
			}
		})
	}
	after, err := counted()
	if err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(before.Status.Usage, after.Status.Usage) || !equality.Semantic.DeepEqual(before.Status.Reservations, after.Status.Reservations) {
		t.Fatalf("refused requests changed the tenant's quota ledger: usage %v -> %v, reservations %v -> %v",
			before.Status.Usage, after.Status.Usage, before.Status.Reservations, after.Status.Reservations)
	}

	t.Run("the API server's certificate", func(t *testing.T) {
		resp, err := postReview(t, url, serverCA, env.Cluster.WebhookClientCert, env.Cluster.WebhookClientKey, body)
		if err != nil {
			t.Fatalf("the API server's certificate was refused: %v", err)
		}
		review := &admissionv1.AdmissionReview{}
		if err := json.Unmarshal(resp.body, review); err != nil || review.Response == nil {
			t.Fatalf("HTTP %d, not an AdmissionReview: %s (%v)", resp.StatusCode, resp.body, err)
		}
		if !review.Response.Allowed {
			t.Fatalf("the review was refused: %+v", review.Response.Result)
		}
		charged, err := counted()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range charged.Status.Reservations {
			if r.Kind == "Pod" && r.Namespace == "wa-a" && r.Name == "forged" {
				return
			}
		}
		t.Fatalf("an answered review charged nothing, so the refusals above prove nothing: reservations %v", charged.Status.Reservations)
	})
}

// quotaWebhookEndpoint reads where the API server calls the tenant-quota
// webhook, and the CA that signs its serving certificate, from the
// configuration the manager wrote.
func quotaWebhookEndpoint(t *testing.T) (url string, ca *x509.CertPool) {
	t.Helper()
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: bwebhook.ConfigurationName}, cfg); err != nil {
		t.Fatal(err)
	}
	for _, w := range cfg.Webhooks {
		if w.Name == "quota.tenancy.bulkhead.dev" && w.ClientConfig.URL != nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(w.ClientConfig.CABundle) {
				t.Fatalf("webhook %s has no CA bundle", w.Name)
			}
			return *w.ClientConfig.URL, pool
		}
	}
	t.Fatalf("no URL for the quota webhook in %v", cfg.Webhooks)
	return "", nil
}

type answer struct {
	StatusCode int
	body       []byte
}

// postReview posts body to url over TLS, verifying the server with
// serverCA, and presenting cert (when not nil) as testutil.HTTPSClient does.
func postReview(t *testing.T, url string, serverCA *x509.CertPool, cert, key, body []byte) (*answer, error) {
	t.Helper()
	c, err := testutil.HTTPSClient(serverCA, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &answer{StatusCode: resp.StatusCode, body: data}, nil
}
