package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterPostureName is the name of the one ClusterPosture.
const ClusterPostureName = "cluster"

// PostureCheckStatus is a posture check's outcome.
// +kubebuilder:validation:Enum=PASS;FAIL;WARN;N/A;ERROR
type PostureCheckStatus string

// PostureCheck is one posture check's answer.
type PostureCheck struct {
	// id names the check, such as encryption-at-rest.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	ID string `json:"id,omitempty"`
	// check says what is checked.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Check string `json:"check,omitempty"`
	// status is PASS, FAIL (unsafe), WARN (one step from unsafe), N/A or
	// ERROR (the probe could not tell).
	// +required
	Status PostureCheckStatus `json:"status,omitempty"`
	// probe is what was done to find out.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Probe string `json:"probe,omitempty"`
	// evidence is what the probe saw.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Evidence string `json:"evidence,omitempty"`
	// fix says what to do, when the status is not PASS.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Fix string `json:"fix,omitempty"`
}

// ClusterPostureStatus is the latest posture of the cluster.
type ClusterPostureStatus struct {
	// conditions hold Safe: True when no check fails or errs.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// checks are the latest answers, one per check.
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=32
	Checks []PostureCheck `json:"checks,omitempty"`
	// lastCheckTime is when the checks last ran.
	// +optional
	LastCheckTime metav1.Time `json:"lastCheckTime,omitempty,omitzero"`
}

// ClusterPosture is whether the cluster is configured safely for tenants,
// as the manager last checked it (the checks of kubectl bulkhead posture
// that the manager can run as itself). There is one, named cluster; the
// manager keeps it current. It has no spec.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'cluster'",message="the one ClusterPosture is named cluster"
// +kubebuilder:printcolumn:name="Safe",type=string,JSONPath=`.status.conditions[?(@.type=="Safe")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Safe")].reason`
// +kubebuilder:printcolumn:name="Checked",type=date,JSONPath=`.status.lastCheckTime`
type ClusterPosture struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// status is the latest posture.
	// +optional
	Status ClusterPostureStatus `json:"status,omitempty,omitzero"`
}

// ClusterPostureList is a list of ClusterPostures.
// +kubebuilder:object:root=true
type ClusterPostureList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the postures.
	Items []ClusterPosture `json:"items"`
}

func init() {
	register(&ClusterPosture{}, &ClusterPostureList{})
}
