package tenantstatus

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// FailureMessage is the message of a condition that reports err, a failed
// write of what Bulkhead renders for a Tenant: the error, then what to do
// next, which depends on who refused the write. A condition that only says
// what went wrong leaves the reader to guess whether to wait, fix the
// Tenant, fix the cluster or report a bug.
func FailureMessage(err error) string {
	return fmt.Sprintf("%v. %s", err, NextStep(err))
}

// NextStep says what to do about err. The checks look at every error
// wrapped or joined in it, and the first that fits gives the advice: they are in order,
// so that a refusal that needs a person is not hidden behind a conflict that
// clears by itself.
func NextStep(err error) string {
	errs := leaves(err)
	for _, check := range []struct {
		is     func(error) bool
		advice string
	}{
		{says("exceeded quota"), "A ResourceQuota in the namespace refuses the object: raise the quota the message names (it limits what Bulkhead writes too) or remove it"},
		{says("because it is being terminated"), "The namespace is being deleted; this clears once it is gone"},
		{func(err error) bool {
			return says("admission webhook")(err) || says("ValidatingAdmissionPolicy")(err) || says("admission policy")(err)
		}, "An admission webhook or policy the message names refused Bulkhead's own write: it must exempt the manager's service account"},
		{apierrors.IsForbidden, "The manager's RBAC (config/rbac) lacks the verb the message names: reinstall config/rbac of this release"},
		{apierrors.IsInvalid, "The API server refused an object Bulkhead rendered from this Tenant: change the Tenant field the message points at, and report it as a Bulkhead bug, since the Tenant's validation should have refused it first"},
		{func(err error) bool { return apierrors.IsNotFound(err) && says("namespaces")(err) }, "The namespace went away meanwhile; this clears by itself"},
		{apierrors.IsNotFound, "An object or kind Bulkhead needs is missing: check that the CRDs in config/crd are installed and the cluster serves the API the message names"},
		{func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }, "Another writer changed the object at the same moment; Bulkhead retries by itself, and this clears within seconds"},
		{func(err error) bool {
			return apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err)
		}, "The API server did not answer in time; Bulkhead retries with backoff. If this stays, check the API server's health and the manager's logs"},
	} {
		for _, e := range errs {
			if check.is(e) {
				return check.advice
			}
		}
	}
	return "Bulkhead retries with backoff; if this stays, the manager's logs (bulkhead-system) say more"
}

// leaves are the innermost errors of err, through wrapping and errors.Join.
func leaves(err error) []error {
	switch u := err.(type) { //nolint:errorlint // it walks the wrapping itself, to reach every error
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range u.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			return leaves(inner)
		}
	}
	return []error{err}
}

// says matches an error whose message holds text.
func says(text string) func(error) bool {
	return func(err error) bool { return strings.Contains(err.Error(), text) }
}
