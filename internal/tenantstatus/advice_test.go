package tenantstatus

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestFailureMessageSaysWhatToDo(t *testing.T) {
	np := schema.GroupResource{Group: "networking.k8s.io", Resource: "networkpolicies"}
	forbidden := apierrors.NewForbidden(np, "bulkhead-ingress", errors.New("no RBAC"))
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: "networking.k8s.io", Kind: "NetworkPolicy"}, "bulkhead-egress",
		field.ErrorList{field.Invalid(field.NewPath("spec", "egress").Index(0), "x", "bad CIDR")})
	conflict := apierrors.NewConflict(np, "bulkhead-ingress", errors.New("changed"))
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"forbidden", forbidden, "config/rbac"},
		{"wrapped forbidden", fmt.Errorf("applying NetworkPolicy a/b: %w", forbidden), "config/rbac"},
		{"invalid", invalid, "change the Tenant field"},
		{"not found", apierrors.NewNotFound(np, "x"), "config/crd"},
		{"conflict", conflict, "retries by itself"},
		{"timeout", apierrors.NewTimeoutError("slow", 1), "API server did not answer"},
		{"unknown", errors.New("boom"), "manager's logs"},
		{"quota", apierrors.NewForbidden(np, "bulkhead-ingress", errors.New("exceeded quota: np-count, requested: count/networkpolicies.networking.k8s.io=1")), "raise the quota"},
		{"terminating", apierrors.NewForbidden(np, "bulkhead-ingress", errors.New("unable to create new content in namespace acme-a because it is being terminated")), "being deleted"},
		{"third-party policy", apierrors.NewInvalid(schema.GroupKind{Group: "networking.k8s.io", Kind: "NetworkPolicy"}, "x",
			field.ErrorList{field.Forbidden(field.NewPath(""), "ValidatingAdmissionPolicy 'corp' with binding 'corp' denied request: no")}), "exempt the manager"},
		{"webhook", apierrors.NewForbidden(np, "x", errors.New(`admission webhook "corp.example.com" denied the request: no`)), "exempt the manager"},
		{"namespace gone", apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "acme-a"), "went away"},
		// A conflict joined with a refusal: the refusal needs a person.
		{"joined", errors.Join(conflict, forbidden), "config/rbac"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FailureMessage(tc.err)
			if !strings.HasPrefix(got, tc.err.Error()+". ") {
				t.Errorf("message %q does not start with the error", got)
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("message %q lacks %q", got, tc.want)
			}
		})
	}
}
