package proxy

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// TestAuthenticate: a client certificate names the caller; a token is
// reviewed once per TTL, good or bad; nothing else authenticates.
func TestAuthenticate(t *testing.T) {
	reviews := 0
	scheme := runtime.NewScheme()
	_ = addAuthentication(scheme)
	reviewer := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.CreateOption) error {
			reviews++
			tr := obj.(*authenticationv1.TokenReview)
			if tr.Spec.Token == "good" {
				tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{
					Username: "system:serviceaccount:acme-web:ci", UID: "u1", Groups: []string{"system:serviceaccounts"},
				}}
			}
			return nil
		},
	}).Build()
	a := &Authenticator{Reviewer: reviewer, TTL: time.Minute, MaxEntries: 10}
	req := func(auth string, cert string) (*Identity, error) {
		r := httptest.NewRequest("GET", "/api", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if cert != "" {
			r.TLS = tlsState(cert)
		}
		return a.Authenticate(r)
	}
	if id, err := req("Bearer good", "alice"); err != nil || id.User != "alice" {
		t.Errorf("a client certificate: %+v, %v", id, err)
	}
	if reviews != 0 {
		t.Errorf("a client certificate cost %d token reviews", reviews)
	}
	for i := 0; i < 3; i++ {
		if id, err := req("Bearer good", ""); err != nil || id.User != "system:serviceaccount:acme-web:ci" || id.UID != "u1" {
			t.Errorf("a good token: %+v, %v", id, err)
		}
		if _, err := req("Bearer bad", ""); err == nil {
			t.Error("a bad token authenticated")
		}
	}
	if reviews != 2 {
		t.Errorf("%d token reviews for two tokens asked three times each; want 2 (cached)", reviews)
	}
	for _, auth := range []string{"", "Basic YWxpY2U6cA==", "Bearer ", "bearer good"} {
		if _, err := req(auth, ""); err == nil {
			t.Errorf("Authorization %q authenticated", auth)
		}
	}
}
