package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ClassifiedBy sends GET path with hc to the API server at host and names
// the FlowSchema its Priority and Fairness filter classified the request
// with: the response carries the schema's UID, which r's list of
// FlowSchemas turns into a name. It asks the API server itself, so that a
// test of fairness checks what the server does, not what Bulkhead wrote.
func ClassifiedBy(ctx context.Context, hc *http.Client, host, path string, r client.Reader) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, host+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	uid := types.UID(resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID"))
	if uid == "" {
		return "", fmt.Errorf("GET %s: %s, and no FlowSchema named in the response", path, resp.Status)
	}
	list := &flowcontrolv1.FlowSchemaList{}
	if err := r.List(ctx, list); err != nil {
		return "", err
	}
	for _, fs := range list.Items {
		if fs.UID == uid {
			return fs.Name, nil
		}
	}
	return "", fmt.Errorf("GET %s: no FlowSchema has UID %s", path, uid)
}
