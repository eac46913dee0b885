package setup

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/bulkhead-dev/bulkhead/internal/pki"
	bwebhook "github.com/bulkhead-dev/bulkhead/internal/webhook"
)

// TestWebhookServerVerifiesCallersUnlessOptedOut: the webhook server
// requires client certificates unless the options opt out in so many words;
// saying nothing, or both, stops the manager.
func TestWebhookServerVerifiesCallersUnlessOptedOut(t *testing.T) {
	ca, err := pki.NewCA("callers", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		o          Options
		wantErr    bool
		wantVerify bool
	}{
		{"nothing said", Options{}, true, false},
		{"a CA", Options{WebhookClientAuth: bwebhook.ClientAuth{CA: ca.CertPEM}}, false, true},
		{"a CA and names", Options{WebhookClientAuth: bwebhook.ClientAuth{CA: ca.CertPEM, Names: []string{"kube-apiserver"}}}, false, true},
		{"a file without a certificate", Options{WebhookClientAuth: bwebhook.ClientAuth{CA: []byte("not a certificate")}}, true, false},
		{"explicit opt-out", Options{InsecureWebhookAnyClient: true}, false, false},
		{"a CA and the opt-out", Options{WebhookClientAuth: bwebhook.ClientAuth{CA: ca.CertPEM}, InsecureWebhookAnyClient: true}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, guard, err := webhookServerOptions(tc.o)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			cfg := &tls.Config{}
			for _, f := range opts.TLSOpts {
				f(cfg)
			}
			verifies := cfg.ClientAuth == tls.RequireAndVerifyClientCert && cfg.ClientCAs != nil
			if verifies != tc.wantVerify || (guard != nil) != tc.wantVerify {
				t.Errorf("server requires verified client certificates: %v, guard %v; want %v", verifies, guard != nil, tc.wantVerify)
			}
			if opts.Port == 0 {
				t.Error("the webhook port is left to a default the readiness check does not know")
			}
		})
	}
}
