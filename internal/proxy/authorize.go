package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"

	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/bulkhead-dev/bulkhead/internal/tenantview"
)

// AuthorizationWebhook answers the API server's SubjectAccessReviews with
// tenantview.Authorize. It answers only callers whose client certificate
// (verified by the TLS handshake) names one of Callers: the API server's.
type AuthorizationWebhook struct {
	Index   func() *tenantview.Index
	Callers []string
}

func (a *AuthorizationWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || !slices.Contains(a.Callers, r.TLS.VerifiedChains[0][0].Subject.CommonName) {
		http.Error(w, "only the API server may ask", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST a SubjectAccessReview", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	review := &authorizationv1.SubjectAccessReview{}
	if err := json.Unmarshal(body, review); err != nil {
		http.Error(w, "not a SubjectAccessReview: "+err.Error(), http.StatusBadRequest)
		return
	}
	review.Status = tenantview.Authorize(a.Index(), review.Spec)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}
