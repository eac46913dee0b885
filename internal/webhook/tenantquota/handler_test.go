package tenantquota

import (
	"encoding/json"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

func claim(size string) runtime.RawExtension {
	c := &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
	}}
	raw, _ := json.Marshal(c)
	return runtime.RawExtension{Raw: raw}
}

func TestMeasure(t *testing.T) {
	pvc := metav1.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaim"}
	for _, tc := range []struct {
		name     string
		req      admissionv1.AdmissionRequest
		wantName string
		want     corev1.ResourceList
	}{
		{"a new claim is one claim and its size",
			admissionv1.AdmissionRequest{Operation: admissionv1.Create, Kind: pvc, Name: "data", Object: claim("5Gi")},
			"data", corev1.ResourceList{"persistentvolumeclaims": resource.MustParse("1"), "requests.storage": resource.MustParse("5Gi")}},
		{"an expansion is its increase, under a name of its own",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, Kind: pvc, Name: "data", Object: claim("8Gi"), OldObject: claim("5Gi")},
			"data@resize", corev1.ResourceList{"requests.storage": resource.MustParse("3Gi")}},
		{"an update that does not grow adds nothing",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, Kind: pvc, Name: "data", Object: claim("5Gi"), OldObject: claim("5Gi")}, "", nil},
		{"a pod update adds nothing",
			admissionv1.AdmissionRequest{Operation: admissionv1.Update, Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Name: "p"}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, name, amount, err := measure(admission.Request{AdmissionRequest: tc.req})
			if err != nil {
				t.Fatal(err)
			}
			if name != tc.wantName || (tc.want == nil) != (kind == "") || !equality.Semantic.DeepEqual(amount, tc.want) {
				t.Fatalf("measure = %q %q %v, want %q %v", kind, name, amount, tc.wantName, tc.want)
			}
		})
	}
}
