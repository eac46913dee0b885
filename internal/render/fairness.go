package render

import (
	"slices"
	"sort"
	"strings"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// ConcernFairness renders each tenant's place in API Priority and Fairness.
const ConcernFairness Concern = "fairness"

// API Priority and Fairness. The API server matches a request against the
// FlowSchemas in order of matchingPrecedence (lowest first) and the first
// that matches sends it to its priority level. Bulkhead's FlowSchemas live
// in the band [FairnessBandStart, FairnessBandEnd]: after every built-in
// schema that serves the control plane itself (in Kubernetes 1.36: exempt
// 1, probes 2, system-leader-election 100, system-node-high 400,
// system-nodes 500, kube-controller-manager and kube-scheduler 800,
// kube-system-service-accounts 900) and before the catch-alls that would
// otherwise take tenants' requests (service-accounts 9000, global-default
// 9900, catch-all 10000). A tenant's schema can therefore never take a
// request of the control plane, whatever its subjects say.
const (
	FairnessBandStart int32 = 1000
	FairnessBandEnd   int32 = 8999
	// AdminsFlowSchema, at AdminsPrecedence, sends the cluster-admin groups
	// to the level they would reach without Bulkhead, ahead of every
	// tenant: an admin who is also in a group a tenant names is never
	// queued behind that tenant.
	AdminsFlowSchema       = "bulkhead-cluster-admins"
	AdminsPrecedence int32 = 7900
	// TenantPrecedence is every tenant FlowSchema's. Schemas of equal
	// precedence are matched in name order, so a user in two tenants is
	// counted to the tenant whose name sorts first.
	TenantPrecedence int32 = 8000
	// TenantsPriorityLevel is the priority level tenants share: one, however
	// many tenants there are.
	TenantsPriorityLevel = "bulkhead-tenants"
	// adminsPriorityLevel is where the API server's own global-default
	// FlowSchema sends users: where admins go without Bulkhead.
	adminsPriorityLevel = "global-default"
)

// Fair queuing of the tenants' level. Each tenant is a flow, dealt a hand of
// fairnessHandSize queues out of fairnessQueues (shuffle sharding): with 128
// queues and hands of 6, two tenants share all six queues with odds below
// one in ten million, so one flooding tenant almost never shares every
// queue of another.
const (
	fairnessQueues           int32 = 128
	fairnessHandSize         int32 = 6
	fairnessQueueLengthLimit int32 = 50
	// sharedLendablePercent of the tenants' level may be lent to other
	// levels while tenants are quiet; a dedicated level lends nothing (its
	// capacity is guaranteed). sharedBorrowingLimitPercent caps what the
	// tenants together borrow from idle levels at their own nominal limit
	// again, so that tenants never crowd out the control plane's levels.
	sharedLendablePercent       int32 = 50
	sharedBorrowingLimitPercent int32 = 100
)

// FairnessFlowSchemaName is the name of the tenant's FlowSchema, and of its
// priority level when it has one of its own.
func FairnessFlowSchemaName(tenant string) string { return "bulkhead-tenant-" + tenant }

// FairnessShares is what the Tenant asks of API Priority and Fairness:
// off (fairness off for it), or the shares of a level of its own (0: the
// shared level).
func FairnessShares(spec tenancyv1alpha1.TenantSpec) (shares int32, off bool) {
	if spec.APIFairness.Shares == nil {
		return 0, false
	}
	if *spec.APIFairness.Shares == 0 {
		return 0, true
	}
	return *spec.APIFairness.Shares, false
}

// SharedPriorityLevel is the priority level every tenant without shares of
// its own is a flow of. Its nominal shares (Settings.TenantPriorityShares)
// are the tenants' part of the API server's concurrency, together.
func SharedPriorityLevel(s Settings) *flowcontrolv1.PriorityLevelConfiguration {
	return priorityLevel(
		metav1.ObjectMeta{Name: TenantsPriorityLevel, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
		s.TenantPriorityShares, sharedLendablePercent, ptr.To(sharedBorrowingLimitPercent))
}

// AdminsFlowSchemaFor is the FlowSchema that keeps the cluster-admin groups
// out of every tenant's schema; nil when there is no admin group to keep
// out (system:masters is exempt from fairness already, ahead of any schema).
func AdminsFlowSchemaFor(s Settings) *flowcontrolv1.FlowSchema {
	var subjects []flowcontrolv1.Subject
	for _, g := range s.AdminGroups {
		if g == "system:masters" {
			continue
		}
		subjects = append(subjects, groupSubject(g))
	}
	if len(subjects) == 0 {
		return nil
	}
	return flowSchema(
		metav1.ObjectMeta{Name: AdminsFlowSchema, Labels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
		adminsPriorityLevel, AdminsPrecedence, subjects,
		// As global-default: one flow per user.
		&flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType})
}

// Fairness renders the tenant's FlowSchema, and its own priority level when
// dedicated (it asks for shares and is within the cluster's cap, see
// DedicatedLevels). Nothing when fairness is off for the tenant, or when it
// has no subject a FlowSchema may match (see FairnessSubjects).
func Fairness(sc *Scope, dedicated bool) []client.Object {
	shares, off := FairnessShares(sc.Spec)
	if off {
		return nil
	}
	subjects := FairnessSubjects(sc)
	if len(subjects) == 0 {
		return nil
	}
	name := FairnessFlowSchemaName(sc.Tenant.Name)
	level := TenantsPriorityLevel
	var out []client.Object
	if dedicated && shares > 0 {
		level = name
		out = append(out, priorityLevel(objectMeta(sc.Tenant, ConcernFairness, "", name), shares, 0, nil))
	}
	// No distinguisher: the whole tenant is one flow, however many users
	// and service accounts it spreads its requests over.
	fs := flowSchema(objectMeta(sc.Tenant, ConcernFairness, "", name), level, TenantPrecedence, subjects, nil)
	return append(out, fs)
}

// FairnessSubjects are whom the tenant's FlowSchema matches: its owners,
// members and viewers, and every service account of its namespaces, sorted.
// Left out are subjects that would capture requests not the tenant's: any
// user or group named system:... (the API server's own identities and
// groups such as system:authenticated; service accounts are matched as
// service accounts), the cluster-admin groups, and service accounts of
// system namespaces or of Bulkhead's.
func FairnessSubjects(sc *Scope) []flowcontrolv1.Subject {
	s := sc.Settings
	seen := map[string]bool{}
	var out []flowcontrolv1.Subject
	add := func(sub flowcontrolv1.Subject) {
		if key := subjectKey(sub); !seen[key] {
			seen[key] = true
			out = append(out, sub)
		}
	}
	for _, list := range [][]tenancyv1alpha1.Subject{sc.Spec.Owners, sc.Spec.Members, sc.Spec.Viewers} {
		for _, sub := range list {
			switch sub.Kind {
			case tenancyv1alpha1.SubjectUser:
				if !strings.HasPrefix(sub.Name, "system:") {
					add(flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindUser, User: &flowcontrolv1.UserSubject{Name: sub.Name}})
				}
			case tenancyv1alpha1.SubjectGroup:
				if !strings.HasPrefix(sub.Name, "system:") && !slices.Contains(s.AdminGroups, sub.Name) {
					add(groupSubject(sub.Name))
				}
			case tenancyv1alpha1.SubjectServiceAccount:
				if sub.Namespace != s.ManagerNamespace && !s.IsSystemNamespace(sub.Namespace) {
					add(serviceAccountSubject(sub.Namespace, sub.Name))
				}
			}
		}
	}
	for _, ns := range sc.Namespaces {
		if ns != s.ManagerNamespace && !s.IsSystemNamespace(ns) {
			add(serviceAccountSubject(ns, "*"))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return subjectKey(out[i]) < subjectKey(out[j]) })
	return out
}

// DedicatedLevels picks, among the tenants asking for a priority level of
// their own, those that get one: the max oldest (by creation, then name),
// so that the answer depends only on what the API server holds and a new
// tenant can never take an older one's level away.
func DedicatedLevels(tenants []tenancyv1alpha1.Tenant, maxLevels int) map[string]bool {
	var asking []tenancyv1alpha1.Tenant
	for _, t := range tenants {
		if shares, off := FairnessShares(t.Spec); shares > 0 && !off && t.DeletionTimestamp.IsZero() {
			asking = append(asking, t)
		}
	}
	sort.SliceStable(asking, func(i, j int) bool {
		a, b := asking[i].CreationTimestamp, asking[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return asking[i].Name < asking[j].Name
	})
	out := map[string]bool{}
	for i := 0; i < len(asking) && i < maxLevels; i++ {
		out[asking[i].Name] = true
	}
	return out
}

func priorityLevel(meta metav1.ObjectMeta, shares, lendable int32, borrowing *int32) *flowcontrolv1.PriorityLevelConfiguration {
	return &flowcontrolv1.PriorityLevelConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: flowcontrolv1.SchemeGroupVersion.String(), Kind: "PriorityLevelConfiguration"},
		ObjectMeta: meta,
		Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
			Type: flowcontrolv1.PriorityLevelEnablementLimited,
			Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
				NominalConcurrencyShares: ptr.To(shares),
				LendablePercent:          ptr.To(lendable),
				BorrowingLimitPercent:    borrowing,
				LimitResponse: flowcontrolv1.LimitResponse{
					Type: flowcontrolv1.LimitResponseTypeQueue,
					Queuing: &flowcontrolv1.QueuingConfiguration{
						Queues: fairnessQueues, HandSize: fairnessHandSize, QueueLengthLimit: fairnessQueueLengthLimit,
					},
				},
			},
		},
	}
}

func flowSchema(meta metav1.ObjectMeta, level string, precedence int32, subjects []flowcontrolv1.Subject, dist *flowcontrolv1.FlowDistinguisherMethod) *flowcontrolv1.FlowSchema {
	return &flowcontrolv1.FlowSchema{
		TypeMeta:   metav1.TypeMeta{APIVersion: flowcontrolv1.SchemeGroupVersion.String(), Kind: "FlowSchema"},
		ObjectMeta: meta,
		Spec: flowcontrolv1.FlowSchemaSpec{
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: level},
			MatchingPrecedence:         precedence,
			DistinguisherMethod:        dist,
			Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
				Subjects: subjects,
				ResourceRules: []flowcontrolv1.ResourcePolicyRule{{
					Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"},
					ClusterScope: true, Namespaces: []string{"*"},
				}},
				NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
			}},
		},
	}
}

func groupSubject(name string) flowcontrolv1.Subject {
	return flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindGroup, Group: &flowcontrolv1.GroupSubject{Name: name}}
}

func serviceAccountSubject(namespace, name string) flowcontrolv1.Subject {
	return flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindServiceAccount, ServiceAccount: &flowcontrolv1.ServiceAccountSubject{Namespace: namespace, Name: name}}
}

func subjectKey(s flowcontrolv1.Subject) string {
	switch {
	case s.User != nil:
		return "User " + s.User.Name
	case s.Group != nil:
		return "Group " + s.Group.Name
	case s.ServiceAccount != nil:
		return "ServiceAccount " + s.ServiceAccount.Namespace + "/" + s.ServiceAccount.Name
	}
	return ""
}
