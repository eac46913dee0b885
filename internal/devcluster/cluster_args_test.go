package devcluster

import (
	"reflect"
	"testing"
)

func TestMergeArgsReplacesByName(t *testing.T) {
	base := []string{"--enable-admission-plugins=NodeRestriction", "--audit-log-path=/x", "--secure-port=6443"}
	got := mergeArgs(base, []string{"--audit-log-path=", "--enable-admission-plugins=", "--runtime-config=api/all=true"})
	want := []string{"--secure-port=6443", "--audit-log-path=", "--enable-admission-plugins=", "--runtime-config=api/all=true"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mergeArgs = %q, want %q", got, want)
	}
}
