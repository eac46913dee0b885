package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

func TestDevicesParams(t *testing.T) {
	// example.com/accel is declared by two classes: a tenant may request
	// it only if it may use both, since the scheduler could pick either.
	extended := map[string][]string{
		"example.com/gpu":   {"gpu"},
		"example.com/fpga":  {"fpga"},
		"example.com/accel": {"gpu", "fpga"},
	}
	for _, tc := range []struct {
		name      string
		isolation tenancyv1alpha1.IsolationLevel
		classes   []string
		want      tenancyv1alpha1.DeviceRules
	}{
		{name: "Soft with no list allows any class", isolation: tenancyv1alpha1.IsolationSoft,
			want: tenancyv1alpha1.DeviceRules{AnyClass: true, Classes: []string{}, DeniedExtendedResources: []string{}}},
		{name: "Hard with no list allows none", isolation: tenancyv1alpha1.IsolationHard,
			want: tenancyv1alpha1.DeviceRules{Classes: []string{}, DeniedExtendedResources: []string{"example.com/accel", "example.com/fpga", "example.com/gpu"}}},
		{name: "a list in Soft is the list", isolation: tenancyv1alpha1.IsolationSoft, classes: []string{"gpu"},
			want: tenancyv1alpha1.DeviceRules{Classes: []string{"gpu"}, DeniedExtendedResources: []string{"example.com/accel", "example.com/fpga"}}},
		{name: "both classes of a shared name", isolation: tenancyv1alpha1.IsolationHard, classes: []string{"gpu", "fpga"},
			want: tenancyv1alpha1.DeviceRules{Classes: []string{"gpu", "fpga"}, DeniedExtendedResources: []string{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tenancyv1alpha1.TenantSpec{Isolation: tc.isolation, Devices: tenancyv1alpha1.DevicesSpec{Classes: tc.classes}}
			var got tenancyv1alpha1.DeviceRules
			devicesParams(&got, &spec, extended)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("devicesParams (-want +got):\n%s", diff)
			}
		})
	}
}
