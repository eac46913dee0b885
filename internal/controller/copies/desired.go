package copies

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// This file is the pure core: which namespaces are selected, what each copy
// holds, whether a copy in the cluster matches it. No client.

// Selection is what a TenantResource's selectors pick.
type Selection struct {
	// Tenants is how many Tenants the tenantSelector matches.
	Tenants int
	// Namespaces are the selected namespaces, sorted.
	Namespaces []string
}

// Select picks the namespaces of the Tenants tr selects. A Tenant being
// deleted is leaving, and so is a namespace being deleted (nothing can be
// created in it); a namespace belongs to the tenant its tenant label names.
func Select(tr *tenancyv1alpha1.TenantResource, tenants []tenancyv1alpha1.Tenant, namespaces []corev1.Namespace) (Selection, error) {
	tenantSel, err := metav1.LabelSelectorAsSelector(&tr.Spec.TenantSelector)
	if err != nil {
		return Selection{}, fmt.Errorf("spec.tenantSelector: %w", err)
	}
	nsSel := labels.Everything()
	if tr.Spec.NamespaceSelector != nil {
		if nsSel, err = metav1.LabelSelectorAsSelector(tr.Spec.NamespaceSelector); err != nil {
			return Selection{}, fmt.Errorf("spec.namespaceSelector: %w", err)
		}
	}
	selected := map[string]bool{}
	for i := range tenants {
		t := &tenants[i]
		if t.DeletionTimestamp.IsZero() && tenantSel.Matches(labels.Set(t.Labels)) {
			selected[t.Name] = true
		}
	}
	out := Selection{Tenants: len(selected)}
	for i := range namespaces {
		ns := &namespaces[i]
		if selected[ns.Labels[tenancyv1alpha1.TenantLabel]] && ns.DeletionTimestamp.IsZero() && nsSel.Matches(labels.Set(ns.Labels)) {
			out.Namespaces = append(out.Namespaces, ns.Name)
		}
	}
	slices.Sort(out.Namespaces)
	return out, nil
}

// Source is what the controller found of a referenced source.
type Source struct {
	// Object is the source (a *corev1.Secret or *corev1.ConfigMap) when it
	// exists and is marked; nil otherwise.
	Object client.Object
	// Unmarked says the source exists but lacks the copy-source label.
	Unmarked bool
	// InTenant names the tenant whose namespace holds the source: what a
	// tenant can write is never copied into other tenants.
	InTenant string
}

// Problem is a resource that gives no copies, and why.
type Problem struct {
	// Reason is one of the TenantResource Ready reasons.
	Reason string
	// Message says what is wrong and how to fix it.
	Message string
}

// Plan is every copy a TenantResource asks for, and the resources that
// give none.
type Plan struct {
	// Copies are the copies wanted, in every selected namespace.
	Copies []client.Object
	// Problems are the resources whose source gives no copy, in spec order.
	Problems []Problem
}

// IsReference reports whether r copies a source object.
func IsReference(r *tenancyv1alpha1.CopiedResource) bool {
	return r.From.Name != ""
}

// KindOf is the kind of r's copies.
func KindOf(r *tenancyv1alpha1.CopiedResource) tenancyv1alpha1.CopiedKind {
	switch {
	case IsReference(r):
		return r.From.Kind
	case r.ConfigMap != nil:
		return tenancyv1alpha1.CopiedConfigMap
	default:
		return tenancyv1alpha1.CopiedSecret
	}
}

// NameOf is the name of r's copies: its name, or its source's.
func NameOf(r *tenancyv1alpha1.CopiedResource) string {
	if r.Name != "" {
		return r.Name
	}
	return r.From.Name
}

// Desired is the plan of tr for the selected namespaces, given what was
// found of its referenced sources (keyed by reference; a reference missing
// from sources counts as not found).
func Desired(tr *tenancyv1alpha1.TenantResource, namespaces []string, sources map[tenancyv1alpha1.SourceReference]Source) Plan {
	var plan Plan
	for i := range tr.Spec.Resources {
		r := &tr.Spec.Resources[i]
		content, problem := contentOf(r, sources)
		if problem != nil {
			plan.Problems = append(plan.Problems, *problem)
			continue
		}
		for _, ns := range namespaces {
			plan.Copies = append(plan.Copies, place(tr, content, ns, NameOf(r)))
		}
	}
	return plan
}

// contentOf is the object r's copies are made from, without metadata: the
// data and type of a Secret, the data of a ConfigMap. Nothing else of a
// source is taken: its labels, annotations and namespace stay where it is.
func contentOf(r *tenancyv1alpha1.CopiedResource, sources map[tenancyv1alpha1.SourceReference]Source) (client.Object, *Problem) {
	if !IsReference(r) {
		if r.ConfigMap != nil {
			return &corev1.ConfigMap{Data: maps.Clone(r.ConfigMap.Data), BinaryData: cloneBytes(r.ConfigMap.BinaryData)}, nil
		}
		typ := corev1.SecretType(r.Secret.Type)
		if typ == "" {
			typ = corev1.SecretTypeOpaque
		}
		if typ == corev1.SecretTypeServiceAccountToken {
			return nil, &Problem{Reason: tenancyv1alpha1.ReasonSourceForbiddenType, Message: fmt.Sprintf(
				"inline Secret %s is of type %s, which is never copied into tenants; use another type", r.Name, typ)}
		}
		return &corev1.Secret{Type: typ, Data: cloneBytes(r.Secret.Data)}, nil
	}
	ref := r.From
	what := fmt.Sprintf("%s %s/%s", ref.Kind, ref.Namespace, ref.Name)
	src := sources[ref]
	switch {
	case src.InTenant != "":
		return nil, &Problem{Reason: tenancyv1alpha1.ReasonSourceInTenantNamespace, Message: fmt.Sprintf(
			"%s is in a namespace of tenant %s, which can change or replace it, so it is never copied; keep sources in a namespace no tenant owns",
			what, src.InTenant)}
	case src.Unmarked:
		return nil, &Problem{Reason: tenancyv1alpha1.ReasonSourceNotMarked, Message: fmt.Sprintf(
			"%s is not labelled %s=%s, so it is not copied; a cluster admin who means it to be copied labels it: kubectl label %s -n %s %s %s=%s",
			what, tenancyv1alpha1.CopyLabel, tenancyv1alpha1.CopySource, kubectlKind(ref.Kind), ref.Namespace, ref.Name, tenancyv1alpha1.CopyLabel, tenancyv1alpha1.CopySource)}
	case src.Object == nil:
		return nil, &Problem{Reason: tenancyv1alpha1.ReasonSourceNotFound, Message: what + " does not exist; its copies are removed until it does"}
	}
	switch s := src.Object.(type) {
	case *corev1.Secret:
		if s.Type == corev1.SecretTypeServiceAccountToken {
			return nil, &Problem{Reason: tenancyv1alpha1.ReasonSourceForbiddenType, Message: fmt.Sprintf(
				"%s is of type %s: copying it would hand tenants a token of a service account of %s; it is never copied", what, s.Type, ref.Namespace)}
		}
		return &corev1.Secret{Type: s.Type, Data: cloneBytes(s.Data)}, nil
	case *corev1.ConfigMap:
		return &corev1.ConfigMap{Data: maps.Clone(s.Data), BinaryData: cloneBytes(s.BinaryData)}, nil
	}
	return nil, &Problem{Reason: tenancyv1alpha1.ReasonSourceNotFound, Message: what + " could not be read as a " + string(ref.Kind)}
}

func kubectlKind(k tenancyv1alpha1.CopiedKind) string {
	if k == tenancyv1alpha1.CopiedSecret {
		return "secret"
	}
	return "configmap"
}

// place is a copy of content in namespace ns under name: Bulkhead's
// labels, and tr as its controller, so that the garbage collector removes
// it should the TenantResource go without Bulkhead.
func place(tr *tenancyv1alpha1.TenantResource, content client.Object, ns, name string) client.Object {
	obj := content.DeepCopyObject().(client.Object)
	obj.SetNamespace(ns)
	obj.SetName(name)
	obj.SetLabels(CopyLabels(tr.Name))
	obj.SetOwnerReferences([]metav1.OwnerReference{OwnerRef(tr)})
	return obj
}

// CopyLabels are the labels of every copy made for the TenantResource name.
func CopyLabels(name string) map[string]string {
	return map[string]string{
		tenancyv1alpha1.ManagedByLabel:      tenancyv1alpha1.ManagedByValue,
		tenancyv1alpha1.CopyLabel:           tenancyv1alpha1.CopyCopy,
		tenancyv1alpha1.TenantResourceLabel: name,
	}
}

// OwnerRef is the controller reference every copy carries (blocking the
// owner's deletion until the garbage collector has removed the copy).
func OwnerRef(tr *tenancyv1alpha1.TenantResource) metav1.OwnerReference {
	return *metav1.NewControllerRef(tr, tenancyv1alpha1.GroupVersion.WithKind("TenantResource"))
}

// IsCopyOf reports whether obj is a copy Bulkhead made for the
// TenantResource name. The managed-by label is proof enough: the
// managed-objects rule refuses it on any object a tenant writes.
func IsCopyOf(obj client.Object, name string) bool {
	l := obj.GetLabels()
	return l[tenancyv1alpha1.ManagedByLabel] == tenancyv1alpha1.ManagedByValue &&
		l[tenancyv1alpha1.CopyLabel] == tenancyv1alpha1.CopyCopy && l[tenancyv1alpha1.TenantResourceLabel] == name
}

// Change is what bringing a copy in the cluster to the wanted one takes.
type Change int

const (
	// Unchanged means the copy is as wanted.
	Unchanged Change = iota
	// Update means the copy's content or metadata differ; a patch mends it.
	Update
	// Replace means the copy is a Secret of another type, which the API server
	// never changes in place: delete it and create it anew.
	Replace
)

// Compare says what it takes to turn have, a copy in the cluster, into want.
func Compare(want, have client.Object) Change {
	if ws, ok := want.(*corev1.Secret); ok {
		hs, ok := have.(*corev1.Secret)
		if !ok || hs.Type != ws.Type {
			return Replace
		}
	}
	if !equality.Semantic.DeepEqual(want.GetLabels(), have.GetLabels()) ||
		len(have.GetAnnotations()) != 0 ||
		!equality.Semantic.DeepEqual(want.GetOwnerReferences(), have.GetOwnerReferences()) {
		return Update
	}
	switch w := want.(type) {
	case *corev1.Secret:
		if !equality.Semantic.DeepEqual(w.Data, have.(*corev1.Secret).Data) {
			return Update
		}
	case *corev1.ConfigMap:
		h, ok := have.(*corev1.ConfigMap)
		if !ok || !equality.Semantic.DeepEqual(w.Data, h.Data) || !equality.Semantic.DeepEqual(w.BinaryData, h.BinaryData) {
			return Update
		}
	}
	return Unchanged
}

// Mended is have with want's content and metadata, ready to be patched
// over have: what the copy should be, keeping what the API server set.
func Mended(want, have client.Object) client.Object {
	out := have.DeepCopyObject().(client.Object)
	out.SetLabels(want.GetLabels())
	out.SetAnnotations(nil)
	out.SetOwnerReferences(want.GetOwnerReferences())
	switch w := want.(type) {
	case *corev1.Secret:
		o := out.(*corev1.Secret)
		o.Data = w.Data
	case *corev1.ConfigMap:
		o := out.(*corev1.ConfigMap)
		o.Data, o.BinaryData = w.Data, w.BinaryData
	}
	return out
}

func cloneBytes(in map[string][]byte) map[string][]byte {
	if in == nil {
		return nil
	}
	out := make(map[string][]byte, len(in))
	for k, v := range in {
		out[k] = slices.Clone(v)
	}
	return out
}
