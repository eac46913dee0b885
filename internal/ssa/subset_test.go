package ssa

import "testing"

func TestIsSubset(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want, got any
		subset    bool
	}{
		{"equal scalars", "a", "a", true},
		{"different scalars", "a", "b", false},
		{"extra fields the server added are fine", map[string]any{"a": "1"}, map[string]any{"a": "1", "b": "2"}, true},
		{"a missing field is drift", map[string]any{"a": "1", "b": "2"}, map[string]any{"a": "1"}, false},
		{"nested change is drift", map[string]any{"spec": map[string]any{"x": "1"}}, map[string]any{"spec": map[string]any{"x": "2"}}, false},
		{"an empty wanted map matches absence", map[string]any{"podSelector": map[string]any{}}, map[string]any{}, true},
		{"a list with an extra element is drift", map[string]any{"l": []any{"a"}}, map[string]any{"l": []any{"a", "b"}}, false},
		{"a list element changed is drift", map[string]any{"l": []any{map[string]any{"k": "a"}}}, map[string]any{"l": []any{map[string]any{"k": "b"}}}, false},
		{"list elements may carry server defaults", map[string]any{"l": []any{map[string]any{"k": "a"}}}, map[string]any{"l": []any{map[string]any{"k": "a", "d": "x"}}}, true},
		{"equal quantities in other forms", map[string]any{"cpu": "1000m"}, map[string]any{"cpu": "1"}, true},
		{"different quantities", map[string]any{"cpu": "1"}, map[string]any{"cpu": "2"}, false},
		{"numbers", map[string]any{"port": int64(53)}, map[string]any{"port": int64(53)}, true},
		{"type change is drift", map[string]any{"a": "1"}, map[string]any{"a": int64(1)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isSubset(tc.want, tc.got); got != tc.subset {
				t.Errorf("isSubset = %v, want %v", got, tc.subset)
			}
		})
	}
}
