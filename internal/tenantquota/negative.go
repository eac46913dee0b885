package tenantquota

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

var quantityType = reflect.TypeOf(resource.Quantity{})

// NegativeQuantities lists the paths (such as
// spec.containers[1].resources.requests[cpu]) of every quantity below zero
// in obj, a Kubernetes object or part of one, sorted.
//
// The API server refuses negative requests, limits, overhead and claim
// sizes in real objects, so only a forged admission request carries them;
// but a negative part can hide inside a positive sum (a container asking
// -3 cpus beside one asking 4 makes a pod "asking" 1), so the whole object
// is searched, not only what it adds up to. The search walks every field
// by reflection rather than a list of known fields, so that a field the
// API adds later is searched too.
func NegativeQuantities(obj any) []string {
	var out []string
	walkNegative(reflect.ValueOf(obj), "", &out)
	sort.Strings(out)
	return out
}

func walkNegative(v reflect.Value, path string, out *[]string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkNegative(v.Elem(), path, out)
		}
		return
	}
	if v.Type() == quantityType {
		if q := v.Interface().(resource.Quantity); q.Sign() < 0 {
			*out = append(*out, path)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
				continue
			case f.Anonymous && name == "":
				walkNegative(v.Field(i), path, out) // inlined, as TypeMeta
				continue
			case name == "":
				name = f.Name
			}
			walkNegative(v.Field(i), join(path, name), out)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // raw bytes (managed fields, embedded objects) hold no typed quantity
		}
		for i := 0; i < v.Len(); i++ {
			walkNegative(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			walkNegative(iter.Value(), fmt.Sprintf("%s[%v]", path, iter.Key()), out)
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// NegativeNames lists, sorted, the names whose quantity in list is below zero.
func NegativeNames(list corev1.ResourceList) []string {
	var out []string
	for name, q := range list {
		if q.Sign() < 0 {
			out = append(out, string(name))
		}
	}
	sort.Strings(out)
	return out
}
