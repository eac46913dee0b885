package ssa

import (
	"reflect"

	"k8s.io/apimachinery/pkg/api/resource"
)

// isSubset reports whether every field of want is present with the same value
// in got: maps recursively, lists element by element with equal length. It
// lets a controller skip applying an object that the API server already holds
// as rendered, whatever defaults and other managers added around it.
func isSubset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return len(w) == 0 && got == nil
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				if isEmpty(wv) {
					continue
				}
				return false
			}
			if !isSubset(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return len(w) == 0 && got == nil
		}
		if len(w) != len(g) {
			return false
		}
		for i := range w {
			if !isSubset(w[i], g[i]) {
				return false
			}
		}
		return true
	case string:
		g, ok := got.(string)
		if !ok {
			return false
		}
		if w == g {
			return true
		}
		// Quantities may be written in another form ("1000m" and "1").
		wq, err1 := resource.ParseQuantity(w)
		gq, err2 := resource.ParseQuantity(g)
		return err1 == nil && err2 == nil && wq.Cmp(gq) == 0
	default:
		return reflect.DeepEqual(want, got) || (isEmpty(want) && got == nil)
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
