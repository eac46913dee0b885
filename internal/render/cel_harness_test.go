package render_test

// The harness of the CEL tests: it compiles Bulkhead's admission policies
// with the API server's own compilers (k8s.io/apiserver at the pinned
// version) and runs them on requests the way the API server's admission
// plugins do, with no API server. Each step names the API server code it
// stands for, so that a reader can check the harness against it.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/generic"
	"k8s.io/apiserver/pkg/admission/plugin/policy/matching"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating/patch"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/common"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/apiserver/pkg/cel/library"
	"k8s.io/apiserver/pkg/cel/mutation"
	"k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// tenantPolicyCRD is the CRD that types params for every policy with
// paramKind TenantPolicy.
var tenantPolicyCRD = filepath.Join("..", "..", "config", "crd", "bases", "tenancy.bulkhead.dev_tenantpolicies.yaml")

// ruleName finds the rule a validation names in its message.
var ruleName = regexp.MustCompile(`\[rule ([^\]]+)\]`)

// tenantPolicyType is the CEL type of a TenantPolicy, built from the CRD's
// structural schema as the API server types custom resources.
func tenantPolicyType(t testing.TB) *apiservercel.DeclType {
	t.Helper()
	raw, err := os.ReadFile(tenantPolicyCRD)
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(raw, crd); err != nil {
		t.Fatalf("reading %s: %v", tenantPolicyCRD, err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != tenancyv1alpha1.GroupVersion.Version {
			continue
		}
		props := &apiextensions.JSONSchemaProps{}
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, props, nil); err != nil {
			t.Fatal(err)
		}
		s, err := structuralschema.NewStructural(props)
		if err != nil {
			t.Fatalf("structural schema of TenantPolicy: %v", err)
		}
		return model.SchemaDeclType(s, true).MaybeAssignTypeName("TenantPolicy")
	}
	t.Fatalf("%s has no version %s", tenantPolicyCRD, tenancyv1alpha1.GroupVersion.Version)
	return nil
}

// typedExpression is one CEL expression of a policy, where it sits and what
// it must return.
type typedExpression struct {
	field   string
	name    string // a variable's name
	expr    string
	returns []*cel.Type
}

func (e typedExpression) GetExpression() string    { return e.expr }
func (e typedExpression) ReturnTypes() []*cel.Type { return e.returns }
func (e typedExpression) GetName() string          { return e.name }
func returning(ts ...*cel.Type) []*cel.Type        { return ts }
func expr(field, e string, ts ...*cel.Type) typedExpression {
	return typedExpression{field: field, expr: e, returns: ts}
}

// typedCompiler compiles like plugincel's compiler, in the API server's
// environment for policies (the versioned base environment, its request and
// namespaceObject types, strict cost), with params typed from the
// TenantPolicy CRD as the API server's type checker does. object and
// oldObject stay dynamic, as the admission plugins compile them. It records
// every error.
//
// Cost is not estimated here: with objects bounded only by the largest
// request, the estimate of any comprehension over a pod's containers is
// beyond every limit, and the API server does not estimate the cost of
// admission policies either. It enforces cost as they run, per expression
// (the base environment's cost limit) and per policy
// (celconfig.RuntimeCELCostBudget); the evaluation tests run them the same
// way, so an expression over budget fails there.
type typedCompiler struct {
	composited *plugincel.CompositedCompiler
	errs       []string
}

func newTypedCompiler(t testing.TB, params *apiservercel.DeclType, patchTypes bool) *typedCompiler {
	t.Helper()
	request, namespace := plugincel.BuildRequestType(), plugincel.BuildNamespaceType()
	opts := []cel.EnvOption{
		cel.Variable(plugincel.ObjectVarName, cel.DynType),
		cel.Variable(plugincel.OldObjectVarName, cel.DynType),
		cel.Variable(plugincel.NamespaceVarName, namespace.CelType()),
		cel.Variable(plugincel.RequestVarName, request.CelType()),
		cel.Variable(plugincel.AuthorizerVarName, library.AuthorizerType),
		cel.Variable(plugincel.RequestResourceAuthorizerVarName, library.ResourceCheckType),
	}
	decls := []*apiservercel.DeclType{namespace, request}
	if params != nil {
		opts = append(opts, cel.Variable(plugincel.ParamsVarName, params.CelType()))
		decls = append(decls, params)
	}
	set, err := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()).Extend(
		environment.VersionedOptions{IntroducedVersion: version.MajorMinor(1, 0), EnvOptions: opts, DeclTypes: decls},
		environment.StrictCostOpt,
	)
	if err != nil {
		t.Fatal(err)
	}
	if patchTypes {
		// What plugincel adds for mutations: the Object and JSONPatch types.
		set, err = set.Extend(environment.VersionedOptions{
			IntroducedVersion: version.MajorMinor(1, 0),
			EnvOptions: []cel.EnvOption{
				common.ResolverEnvOption(&mutation.DynamicTypeResolver{}),
				environment.UnversionedLib(library.JSONPatch),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	composited, err := plugincel.NewCompositedCompilerForTypeChecking(set)
	if err != nil {
		t.Fatal(err)
	}
	c := &typedCompiler{composited: composited}
	composited.Compiler = c
	return c
}

// CompileCELExpression implements plugincel.Compiler.
func (c *typedCompiler) CompileCELExpression(accessor plugincel.ExpressionAccessor, _ plugincel.OptionalVariableDeclarations, mode environment.Type) plugincel.CompilationResult {
	e := accessor.(typedExpression)
	fail := func(format string, args ...any) plugincel.CompilationResult {
		c.errs = append(c.errs, e.field+": "+fmt.Sprintf(format, args...))
		return plugincel.CompilationResult{ExpressionAccessor: accessor, Error: &apiservercel.Error{Type: apiservercel.ErrorTypeInvalid, Detail: "see above"}}
	}
	env, err := c.composited.Env(mode)
	if err != nil {
		return fail("environment: %v", err)
	}
	ast, issues := env.Compile(e.expr)
	if issues != nil && issues.Err() != nil {
		return fail("%v", issues.Err())
	}
	ok := false
	for _, want := range e.returns {
		if ast.OutputType().IsExactType(want) || cel.AnyType.IsExactType(want) {
			ok = true
		}
	}
	if !ok {
		return fail("returns %v, want one of %v", ast.OutputType(), e.returns)
	}
	return plugincel.CompilationResult{ExpressionAccessor: accessor, OutputType: ast.OutputType()}
}

// compileTyped type-checks every expression of policy (validating or
// mutating) and returns the errors, each prefixed with its field path.
func compileTyped(t testing.TB, params *apiservercel.DeclType, policy client.Object) []string {
	t.Helper()
	str, boolean := returning(cel.StringType), returning(cel.BoolType)
	var variables []admissionregistrationv1.Variable
	var exprs []typedExpression
	var withParams, patchTypes bool
	switch p := policy.(type) {
	case *admissionregistrationv1.ValidatingAdmissionPolicy:
		withParams, variables = p.Spec.ParamKind != nil, p.Spec.Variables
		for i, m := range p.Spec.MatchConditions {
			exprs = append(exprs, expr(fmt.Sprintf("spec.matchConditions[%d]", i), m.Expression, boolean...))
		}
		for i, v := range p.Spec.Validations {
			exprs = append(exprs, expr(fmt.Sprintf("spec.validations[%d].expression", i), v.Expression, boolean...))
			if v.MessageExpression != "" {
				exprs = append(exprs, expr(fmt.Sprintf("spec.validations[%d].messageExpression", i), v.MessageExpression, str...))
			}
		}
		for i, a := range p.Spec.AuditAnnotations {
			exprs = append(exprs, expr(fmt.Sprintf("spec.auditAnnotations[%d].valueExpression", i), a.ValueExpression, cel.StringType, cel.NullType))
		}
	case *admissionregistrationv1.MutatingAdmissionPolicy:
		withParams, variables, patchTypes = p.Spec.ParamKind != nil, p.Spec.Variables, true
		for i, m := range p.Spec.MatchConditions {
			exprs = append(exprs, expr(fmt.Sprintf("spec.matchConditions[%d]", i), m.Expression, boolean...))
		}
		for i, m := range p.Spec.Mutations {
			switch {
			case m.ApplyConfiguration != nil:
				exprs = append(exprs, expr(fmt.Sprintf("spec.mutations[%d].applyConfiguration", i), m.ApplyConfiguration.Expression, cel.ObjectType("Object")))
			case m.JSONPatch != nil:
				exprs = append(exprs, expr(fmt.Sprintf("spec.mutations[%d].jsonPatch", i), m.JSONPatch.Expression, cel.ListType(cel.ObjectType("JSONPatch"))))
			}
		}
	default:
		t.Fatalf("%T is not an admission policy", policy)
	}
	if !withParams {
		params = nil
	}
	c := newTypedCompiler(t, params, patchTypes)
	opts := plugincel.OptionalVariableDeclarations{HasParams: withParams, HasAuthorizer: true, HasPatchTypes: patchTypes}
	for i, v := range variables {
		e := expr(fmt.Sprintf("spec.variables[%d] (%s)", i, v.Name), v.Expression, cel.AnyType)
		e.name = v.Name
		c.composited.CompileAndStoreVariable(e, opts, environment.NewExpressions)
	}
	for _, e := range exprs {
		c.composited.CompileCELExpression(e, opts, environment.NewExpressions)
	}
	return c.errs
}

// compiledValidating is a validating policy as the ValidatingAdmissionPolicy
// plugin holds it: its validator, its binding, and the rule each validation
// names.
type compiledValidating struct {
	policy    *admissionregistrationv1.ValidatingAdmissionPolicy
	binding   *admissionregistrationv1.ValidatingAdmissionPolicyBinding
	validator validating.Validator
	rules     []string
}

// compiledMutating is a mutating policy as the MutatingAdmissionPolicy
// plugin holds it.
type compiledMutating struct {
	policy    *admissionregistrationv1.MutatingAdmissionPolicy
	binding   *admissionregistrationv1.MutatingAdmissionPolicyBinding
	evaluator mutating.PolicyEvaluator
}

// compileValidating is the ValidatingAdmissionPolicy plugin's compilePolicy,
// step for step, through its exported parts.
func compileValidating(p *admissionregistrationv1.ValidatingAdmissionPolicy, mode environment.Type) (validating.Validator, []error) {
	hasParams := p.Spec.ParamKind != nil
	opts := plugincel.OptionalVariableDeclarations{HasParams: hasParams, HasAuthorizer: true}
	messageOpts := plugincel.OptionalVariableDeclarations{HasParams: hasParams, HasAuthorizer: false}
	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		return nil, []error{err}
	}
	matcher, errs := compileShared(compiler, p.Spec.Variables, p.Spec.MatchConditions, p.Spec.FailurePolicy, p.Name, opts, mode)
	validations := make([]plugincel.ExpressionAccessor, len(p.Spec.Validations))
	messages := make([]plugincel.ExpressionAccessor, len(p.Spec.Validations))
	for i, v := range p.Spec.Validations {
		validations[i] = &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason}
		if v.MessageExpression != "" {
			messages[i] = &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
		}
	}
	audits := make([]plugincel.ExpressionAccessor, len(p.Spec.AuditAnnotations))
	for i, a := range p.Spec.AuditAnnotations {
		audits[i] = &validating.AuditAnnotationCondition{Key: a.Key, ValueExpression: a.ValueExpression}
	}
	validationFilter := compiler.CompileCondition(validations, opts, mode)
	auditFilter := compiler.CompileCondition(audits, opts, mode)
	messageFilter := compiler.CompileCondition(messages, messageOpts, mode)
	for _, f := range []plugincel.ConditionEvaluator{validationFilter, auditFilter, messageFilter} {
		errs = append(errs, f.CompilationErrors()...)
	}
	return validating.NewValidator(validationFilter, matcher, auditFilter, messageFilter, p.Spec.FailurePolicy, nil), errs
}

// compileShared compiles what both plugins compile alike: a policy's
// variables, stored in compiler for the expressions after them, and its
// matchConditions.
func compileShared(compiler *plugincel.CompositedCompiler, variables []admissionregistrationv1.Variable, matchConditions []admissionregistrationv1.MatchCondition,
	failurePolicy *admissionregistrationv1.FailurePolicyType, name string, opts plugincel.OptionalVariableDeclarations, mode environment.Type) (matchconditions.Matcher, []error) {
	var errs []error
	for _, v := range variables {
		if r := compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, opts, mode); r.Error != nil {
			errs = append(errs, fmt.Errorf("variable %s: %w", v.Name, r.Error))
		}
	}
	if len(matchConditions) == 0 {
		return nil, errs
	}
	accessors := make([]plugincel.ExpressionAccessor, len(matchConditions))
	for i := range matchConditions {
		accessors[i] = (*matchconditions.MatchCondition)(&matchConditions[i])
	}
	conds := compiler.CompileCondition(accessors, opts, mode)
	errs = append(errs, conds.CompilationErrors()...)
	return matchconditions.NewMatcher(conds, failurePolicy, "policy", "validate", name), errs
}

// compileMutating is the MutatingAdmissionPolicy plugin's compilePolicy,
// step for step, through its exported parts.
func compileMutating(p *admissionregistrationv1.MutatingAdmissionPolicy, mode environment.Type) (mutating.PolicyEvaluator, []error) {
	opts := plugincel.OptionalVariableDeclarations{HasParams: p.Spec.ParamKind != nil, HasAuthorizer: true}
	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		return mutating.PolicyEvaluator{}, []error{err}
	}
	matcher, errs := compileShared(compiler, p.Spec.Variables, p.Spec.MatchConditions, p.Spec.FailurePolicy, p.Name, opts, mode)
	patchOpts := opts
	patchOpts.HasPatchTypes = true
	var patchers []patch.Patcher
	for _, m := range p.Spec.Mutations {
		var e plugincel.MutatingEvaluator
		switch {
		case m.PatchType == admissionregistrationv1.PatchTypeJSONPatch && m.JSONPatch != nil:
			e = compiler.CompileMutatingEvaluator(&patch.JSONPatchCondition{Expression: m.JSONPatch.Expression}, patchOpts, mode)
			patchers = append(patchers, patch.NewJSONPatcher(e))
		case m.PatchType == admissionregistrationv1.PatchTypeApplyConfiguration && m.ApplyConfiguration != nil:
			e = compiler.CompileMutatingEvaluator(&patch.ApplyConfigurationCondition{Expression: m.ApplyConfiguration.Expression}, patchOpts, mode)
			patchers = append(patchers, patch.NewApplyConfigurationPatcher(e))
		default:
			errs = append(errs, fmt.Errorf("mutation of patchType %q has no expression", m.PatchType))
			continue
		}
		errs = append(errs, e.CompilationErrors()...)
	}
	return mutating.PolicyEvaluator{Matcher: matcher, Mutators: patchers, CompositedCompiler: compiler}, errs
}

// celPolicies compiles every policy Policies renders with the settings, for
// evaluation (StoredExpressions, as the plugins run them). It fails the test
// on any compile error.
func celPolicies(t testing.TB, s render.Settings) ([]*compiledValidating, []*compiledMutating) {
	t.Helper()
	objs := render.Policies(s)
	// A policy may have several bindings (the freeze policy has two): the
	// API server judges a request once per binding that matches it.
	vbindings := map[string][]*admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	mbindings := map[string]*admissionregistrationv1.MutatingAdmissionPolicyBinding{}
	for _, o := range objs {
		switch b := o.(type) {
		case *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
			vbindings[b.Spec.PolicyName] = append(vbindings[b.Spec.PolicyName], b)
		case *admissionregistrationv1.MutatingAdmissionPolicyBinding:
			mbindings[b.Spec.PolicyName] = b
		}
	}
	var vs []*compiledValidating
	var ms []*compiledMutating
	for _, o := range objs {
		switch p := o.(type) {
		case *admissionregistrationv1.ValidatingAdmissionPolicy:
			v, errs := compileValidating(p, environment.StoredExpressions)
			if len(errs) > 0 {
				t.Fatalf("ValidatingAdmissionPolicy %s does not compile: %v", p.Name, errs)
			}
			if len(vbindings[p.Name]) == 0 {
				t.Fatalf("ValidatingAdmissionPolicy %s has no binding", p.Name)
			}
			var rules []string
			for i, val := range p.Spec.Validations {
				m := ruleName.FindStringSubmatch(val.MessageExpression + " " + val.Message)
				if m == nil {
					t.Fatalf("%s spec.validations[%d] names no [rule ...] in its message", p.Name, i)
				}
				rules = append(rules, m[1])
			}
			for _, b := range vbindings[p.Name] {
				c := &compiledValidating{policy: p.DeepCopy(), binding: b.DeepCopy(), validator: v, rules: rules}
				c.policy.Spec.MatchConstraints = defaultMatch(c.policy.Spec.MatchConstraints)
				c.binding.Spec.MatchResources = defaultMatch(c.binding.Spec.MatchResources)
				vs = append(vs, c)
			}
		case *admissionregistrationv1.MutatingAdmissionPolicy:
			e, errs := compileMutating(p, environment.StoredExpressions)
			if len(errs) > 0 {
				t.Fatalf("MutatingAdmissionPolicy %s does not compile: %v", p.Name, errs)
			}
			c := &compiledMutating{policy: p.DeepCopy(), binding: mbindings[p.Name].DeepCopy(), evaluator: e}
			if c.binding == nil {
				t.Fatalf("MutatingAdmissionPolicy %s has no binding", p.Name)
			}
			c.policy.Spec.MatchConstraints = defaultMatch(c.policy.Spec.MatchConstraints)
			c.binding.Spec.MatchResources = defaultMatch(c.binding.Spec.MatchResources)
			ms = append(ms, c)
		}
	}
	return vs, ms
}

// celRequest is one admission request, and the world it is judged in.
type celRequest struct {
	op          admission.Operation
	object      runtime.Object // nil on DELETE
	oldObject   runtime.Object // nil on CREATE
	resource    string         // the resource, when not the object's kind's (a subresource's parent; "group/resource" in another group)
	subresource string
	namespace   *corev1.Namespace
	params      *tenancyv1alpha1.TenantPolicy // the namespace's TenantPolicy; nil when missing
	user        user.Info
}

var (
	celScheme  = newCELScheme()
	celObjects = admission.NewObjectInterfacesFromScheme(celScheme)
)

// newCELScheme holds Kubernetes' types and the Gateway API's.
func newCELScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(gatewayv1.Install(s))
	return s
}

// attributes are the request's admission attributes, as the API server
// hands them to its admission plugins.
func (r celRequest) attributes(t testing.TB) *admission.VersionedAttributes {
	t.Helper()
	obj := r.object
	if obj == nil {
		obj = r.oldObject
	}
	gvk, err := apiutil.GVKForObject(obj, celScheme)
	if err != nil {
		t.Fatal(err)
	}
	gvr, _ := meta.UnsafeGuessKindToResource(gvk)
	if strings.HasSuffix(gvk.Kind, "ay") || strings.HasSuffix(gvk.Kind, "ey") {
		// The guess makes "gatewaies" of a Gateway.
		gvr.Resource = strings.ToLower(gvk.Kind) + "s"
	}
	if r.resource != "" {
		// "group/resource" names a resource of another group than the
		// object's kind (a Deployment's autoscaling/v1 Scale).
		if group, resource, ok := strings.Cut(r.resource, "/"); ok {
			gvr.Group, gvr.Resource = group, resource
			gvr.Version = "v1"
		} else {
			gvr.Resource = r.resource
		}
	}
	if gvk.Group == "authentication.k8s.io" {
		// A TokenRequest is posted to serviceaccounts/token, a core resource.
		gvr.Group, gvr.Version = "", "v1"
	}
	accessor, err := meta.Accessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	// Objects reach admission converted to the version asked for, their
	// kind set.
	object, oldObject := withKind(r.object, gvk), withKind(r.oldObject, gvk)
	attr := admission.NewAttributesRecord(object, oldObject, gvk, r.namespace.Name, accessor.GetName(), gvr, r.subresource, r.op, nil, false, r.user)
	return &admission.VersionedAttributes{Attributes: attr, VersionedKind: gvk, VersionedObject: object, VersionedOldObject: oldObject}
}

func withKind(obj runtime.Object, gvk schema.GroupVersionKind) runtime.Object {
	if obj == nil {
		return nil
	}
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj
}

// paramsObject is the TenantPolicy as the API server's informer hands it to
// a policy: unstructured, as read back from JSON.
func (r celRequest) paramsObject(t testing.TB) runtime.Object {
	t.Helper()
	if r.params == nil {
		return nil
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r.params)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: u}
}

// matcher is the policy plugins' matcher, over a namespace lister holding
// the request's namespace.
func (r celRequest) matcher(t testing.TB) generic.PolicyMatcher {
	t.Helper()
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	if err := indexer.Add(r.namespace); err != nil {
		t.Fatal(err)
	}
	return generic.NewPolicyMatcher(matching.NewMatcher(corelisters.NewNamespaceLister(indexer), nil))
}

// celDenial is one validation that refused a request.
type celDenial struct {
	policy  string
	index   int
	rule    string
	message string
}

// validate runs every validating policy whose constraints and binding match
// the request, as the ValidatingAdmissionPolicy plugin's dispatcher does
// (parameterNotFoundAction Deny included), and returns the denials.
func validate(t testing.TB, policies []*compiledValidating, r celRequest) []celDenial {
	t.Helper()
	attr := r.attributes(t)
	m := r.matcher(t)
	var out []celDenial
	for _, p := range policies {
		ok, gvr, _, err := m.DefinitionMatches(attr, celObjects, validating.NewValidatingAdmissionPolicyAccessor(p.policy))
		if err != nil {
			t.Fatalf("matching %s: %v", p.policy.Name, err)
		}
		if !ok {
			continue
		}
		if ok, err = m.BindingMatches(attr, celObjects, validating.NewValidatingAdmissionPolicyBindingAccessor(p.binding)); err != nil {
			t.Fatalf("matching the binding of %s: %v", p.policy.Name, err)
		} else if !ok {
			continue
		}
		params := runtime.Object(nil)
		if p.binding.Spec.ParamRef != nil {
			if r.params == nil {
				out = append(out, celDenial{policy: p.policy.Name, index: -1, message: "no params found for policy binding " + p.binding.Name})
				continue
			}
			params = r.paramsObject(t)
		}
		res := p.validator.Validate(context.Background(), gvr, attr, params, r.namespace, celconfig.RuntimeCELCostBudget, nil)
		for i, d := range res.Decisions {
			if d.Evaluation == validating.EvalError {
				t.Errorf("%s: evaluation error (validation %d): %s", p.policy.Name, i, d.Message)
				continue
			}
			if d.Action != validating.ActionDeny {
				continue
			}
			// Decisions are one per validation, in order, whenever the
			// policy's expressions evaluate.
			out = append(out, celDenial{policy: p.policy.Name, index: i, rule: p.rules[i], message: d.Message})
		}
	}
	return out
}

// mutate runs every mutating policy that matches the request, in order, as
// the MutatingAdmissionPolicy plugin's dispatcher does, and returns the
// object they made.
func mutate(t testing.TB, policies []*compiledMutating, r celRequest) runtime.Object {
	t.Helper()
	attr := r.attributes(t)
	m := r.matcher(t)
	for _, p := range policies {
		ok, gvr, _, err := m.DefinitionMatches(attr, celObjects, mutating.NewMutatingAdmissionPolicyAccessor(p.policy))
		if err != nil {
			t.Fatalf("matching %s: %v", p.policy.Name, err)
		}
		if !ok {
			continue
		}
		if ok, err = m.BindingMatches(attr, celObjects, mutating.NewMutatingAdmissionPolicyBindingAccessor(p.binding)); err != nil || !ok {
			if err != nil {
				t.Fatalf("matching the binding of %s: %v", p.policy.Name, err)
			}
			continue
		}
		params := r.paramsObject(t)
		if p.binding.Spec.ParamRef != nil && params == nil {
			t.Fatalf("%s: no params", p.policy.Name)
		}
		vars := plugincel.OptionalVariableBindings{VersionedParams: params}
		if p.evaluator.Matcher != nil {
			if res := p.evaluator.Matcher.Match(context.Background(), attr, params, nil); res.Error != nil {
				t.Fatalf("%s: match conditions: %v", p.policy.Name, res.Error)
			} else if !res.Matches {
				continue
			}
		}
		converter := applyconfigurations.NewTypeConverter(celScheme)
		ctx := p.evaluator.CompositedCompiler.CreateContext(context.Background())
		for i, patcher := range p.evaluator.Mutators {
			out, err := patcher.Patch(ctx, patch.Request{
				MatchedResource: gvr, VersionedAttributes: attr, ObjectInterfaces: celObjects,
				OptionalVariables: vars, Namespace: r.namespace, TypeConverter: converter,
			}, celconfig.RuntimeCELCostBudget)
			if err != nil {
				t.Fatalf("%s spec.mutations[%d]: %v", p.policy.Name, i, err)
			}
			// As the dispatcher: back to the typed object, then on to the
			// next mutation.
			if u, ok := out.(*unstructured.Unstructured); ok {
				typed, err := celScheme.New(attr.VersionedKind)
				if err != nil {
					t.Fatal(err)
				}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
					t.Fatal(err)
				}
				out = typed
			}
			attr.VersionedObject = out
			attr.Dirty = true
		}
	}
	return attr.VersionedObject
}

// denialsText formats denials for a failure message.
func denialsText(ds []celDenial) string {
	if len(ds) == 0 {
		return "(admitted)"
	}
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "\n  %s[%d]: %s", d.policy, d.index, d.message)
	}
	return b.String()
}

// celWorld is what the evaluation tests judge requests in: the settings, the
// compiled policies, and a Hard and a Soft tenant with their namespaces and
// TenantPolicies rendered as the controller renders them.
type celWorld struct {
	validating []*compiledValidating
	mutating   []*compiledMutating
	namespaces map[string]*corev1.Namespace
	params     map[string]*tenancyv1alpha1.TenantPolicy
}

// newCELWorld renders the policies and the TenantPolicies of tenants, each
// with its namespaces; protected lists the namespaces whose NetworkPolicies
// are in place.
func newCELWorld(t testing.TB, s render.Settings, tenants map[*tenancyv1alpha1.Tenant][]string, protected ...string) *celWorld {
	t.Helper()
	w := &celWorld{namespaces: map[string]*corev1.Namespace{}, params: map[string]*tenancyv1alpha1.TenantPolicy{}}
	w.validating, w.mutating = celPolicies(t, s)
	in := render.PolicyInputs{Protected: map[string]bool{}, DeviceExtendedResources: celDeviceClasses}
	for _, ns := range protected {
		in.Protected[ns] = true
	}
	for tn, namespaces := range tenants {
		sc := render.NewScope(tn, namespaces, s)
		for _, obj := range render.TenantPolicies(sc, in) {
			p := obj.(*tenancyv1alpha1.TenantPolicy)
			w.params[p.Namespace] = p
			// The labels Bulkhead stamps, which bindings select.
			w.namespaces[p.Namespace] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace, Labels: render.Namespace(sc).Labels}}
		}
	}
	return w
}

// celDeviceClasses are the DeviceClasses of the test world that declare an
// extended resource name, by that name.
var celDeviceClasses = map[string][]string{"example.com/gpu": {"gpu"}, "example.com/fpga": {"fpga"}}

// celCase is one request and what the policies must make of it.
type celCase struct {
	name      string
	namespace string
	op        admission.Operation // CREATE when empty
	object    client.Object
	oldObject client.Object
	// resource and subresource, when the request is not for the object's
	// own resource (a TokenRequest, an ephemeral container).
	resource, subresource string
	user                  string   // bob, a member of the Hard tenant, when empty
	groups                []string // system:authenticated when empty
	// deny is the rule that must refuse the request, and fix a part of
	// the advice its message must give; an empty deny means admitted.
	deny, fix string
}

// run judges c as the API server would: the mutating policies first (on
// create), then every validating policy that matches.
func (w *celWorld) run(t *testing.T, c celCase) []celDenial {
	t.Helper()
	ns := w.namespaces[c.namespace]
	if ns == nil {
		t.Fatalf("no namespace %q in the test world", c.namespace)
	}
	r := celRequest{op: c.op, object: c.object, resource: c.resource, subresource: c.subresource, namespace: ns, params: w.params[c.namespace]}
	if c.oldObject != nil {
		r.oldObject = c.oldObject
	}
	if r.op == "" {
		r.op = admission.Create
	}
	name := c.user
	if name == "" {
		name = "bob"
	}
	groups := c.groups
	r.user = celUser(name, groups...)
	if r.op == admission.Create {
		r.object = mutate(t, w.mutating, r)
	}
	return validate(t, w.validating, r)
}

// celUser is an authenticated user in groups, system:authenticated alone
// when none are given.
func celUser(name string, groups ...string) user.Info {
	if len(groups) == 0 {
		groups = []string{"system:authenticated"}
	}
	return &user.DefaultInfo{Name: name, Groups: groups}
}

// admissionNamespace is a namespace in the test world's shape.
func admissionNamespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// defaultMatch fills in what the API server defaults in the match resources
// of a policy or binding it stores: empty selectors and the Equivalent
// match policy.
func defaultMatch(m *admissionregistrationv1.MatchResources) *admissionregistrationv1.MatchResources {
	if m == nil {
		m = &admissionregistrationv1.MatchResources{}
	}
	m = m.DeepCopy()
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	if m.MatchPolicy == nil {
		equivalent := admissionregistrationv1.Equivalent
		m.MatchPolicy = &equivalent
	}
	return m
}
