package tenantquota

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func TestCountedResource(t *testing.T) {
	for _, tc := range []struct {
		name corev1.ResourceName
		want schema.GroupResource
		ok   bool
	}{
		{"count/widgets.example.com", schema.GroupResource{Group: "example.com", Resource: "widgets"}, true},
		{"count/deployments.apps", schema.GroupResource{Group: "apps", Resource: "deployments"}, true},
		{"count/configmaps", schema.GroupResource{Resource: "configmaps"}, true},
		// Charged by the pod and claim rules under their own names.
		{"count/pods", schema.GroupResource{}, false},
		{"count/persistentvolumeclaims", schema.GroupResource{}, false},
		// A custom resource called pods is another kind.
		{"count/pods.example.com", schema.GroupResource{Group: "example.com", Resource: "pods"}, true},
		{"pods", schema.GroupResource{}, false},
		{"requests.cpu", schema.GroupResource{}, false},
		{"count/", schema.GroupResource{}, false},
		{"count/.example.com", schema.GroupResource{}, false},
	} {
		gr, ok := CountedResource(tc.name)
		if gr != tc.want || ok != tc.ok {
			t.Errorf("CountedResource(%q) = %v %v, want %v %v", tc.name, gr, ok, tc.want, tc.ok)
		}
		if ok && CountName(gr) != tc.name {
			t.Errorf("CountName(%v) = %q, want %q back", gr, CountName(gr), tc.name)
		}
	}
}

func TestCountedResourcesAreTheUnionSorted(t *testing.T) {
	a := Limits(testutil.Quantities("pods", "10", "count/widgets.example.com", "5", "count/configmaps", "3"))
	b := Limits(testutil.Quantities("count/widgets.example.com", "1", "count/deployments.apps", "2", "count/pods", "4"))
	got := CountedResources(a, nil, b)
	want := []schema.GroupResource{{Resource: "configmaps"}, {Group: "apps", Resource: "deployments"}, {Group: "example.com", Resource: "widgets"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("CountedResources = %v, want %v", got, want)
	}
}

// TestCountAliases: count/pods limits pods as pods does, so a pod is
// charged once against both, and a limit on either is enforced.
func TestCountAliases(t *testing.T) {
	hard := Limits(testutil.Quantities("count/pods", "2", "count/persistentvolumeclaims", "1"))
	add := Relevant(hard, testutil.Quantities("pods", "1", "requests.cpu", "1"))
	if !reflect.DeepEqual(add, corev1.ResourceList(testutil.Quantities("pods", "1"))) {
		t.Fatalf("Relevant = %v, want pods 1", add)
	}
	if over := Exceeds(hard, testutil.Quantities("pods", "2"), add); len(over) != 1 {
		t.Fatalf("a third pod under count/pods=2: Exceeds = %q, want one limit passed", over)
	}
	if !Counted(hard, testutil.Quantities("pods", "0", "persistentvolumeclaims", "0")) {
		t.Fatal("the usage of pods and claims counts for count/pods and count/persistentvolumeclaims")
	}
}
