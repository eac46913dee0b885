package discovery

import (
	"errors"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// failingMapper stands for a server whose discovery cannot be read.
type failingMapper struct{ meta.RESTMapper }

func (failingMapper) RESTMapping(schema.GroupKind, ...string) (*meta.RESTMapping, error) {
	return nil, errors.New("discovery unavailable")
}

func TestMutatingPoliciesServed(t *testing.T) {
	gv := admissionregistrationv1.SchemeGroupVersion
	serving := meta.NewDefaultRESTMapper([]schema.GroupVersion{gv})
	serving.Add(gv.WithKind("MutatingAdmissionPolicy"), meta.RESTScopeRoot)
	without := meta.NewDefaultRESTMapper([]schema.GroupVersion{gv})
	without.Add(gv.WithKind("ValidatingAdmissionPolicy"), meta.RESTScopeRoot)

	for _, tc := range []struct {
		name    string
		mapper  meta.RESTMapper
		want    bool
		wantErr bool
	}{
		{"served", serving, true, false},
		{"not served is an answer, not an error", without, false, false},
		{"discovery failing is an error", failingMapper{}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MutatingPoliciesServed(tc.mapper)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("MutatingPoliciesServed = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
