package v1alpha1

// Labels and annotations that Bulkhead writes and tenants cannot forge.
const (
	// TenantLabel on a namespace names the tenant that owns it. Only the
	// namespace webhook (for owners) and cluster admins may set or change it.
	TenantLabel = "tenancy.bulkhead.dev/tenant"
	// TenantQuotaLabel on a namespace says its tenant has a tenant-wide quota:
	// the quota webhook sees only namespaces carrying it.
	TenantQuotaLabel = "tenancy.bulkhead.dev/tenant-quota"
	// RetainedLabel on a namespace names the tenant it was retained from
	// (namespaces.deletionPolicy Retain): the namespace is locked until a
	// cluster admin adopts it into a tenant (sets TenantLabel) or releases
	// it (removes this label).
	RetainedLabel = "tenancy.bulkhead.dev/retained"
	// FrozenLabel on a tenant namespace freezes it as a Frozen Tenant
	// does, whatever the Tenant says: the admission policies read it, so a
	// cluster admin can freeze namespaces while Bulkhead is down. Its
	// value says who froze them (a DNS-label-like name). Tenants cannot set
	// or remove it.
	FrozenLabel = "tenancy.bulkhead.dev/frozen"
	// StateLabel on a tenant namespace is "Frozen" while its Tenant's
	// spec.state is: the freeze policy's binding selects it, so that the
	// policy costs nothing in the namespaces of active tenants.
	StateLabel = "tenancy.bulkhead.dev/state"
	// FrozenByAnnotation on a Tenant records who set its state to Frozen;
	// Bulkhead's mutating policy writes it from the request.
	FrozenByAnnotation = "tenancy.bulkhead.dev/frozen-by"
	// TokensRevokedAnnotation on a retained namespace records that Bulkhead
	// deleted its ServiceAccounts, and with them every token minted for them.
	TokensRevokedAnnotation = "tenancy.bulkhead.dev/tokens-revoked"
	// ConcernLabel on a managed object names the controller that owns it.
	ConcernLabel = "tenancy.bulkhead.dev/concern"
	// ManagedByLabel marks every object Bulkhead renders.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of ManagedByLabel.
	ManagedByValue = "bulkhead"
)

// Condition types: Ready, and one per concern, each owned by one controller.
const (
	ConditionReady           = "Ready"
	ConditionNamespacesReady = "NamespacesReady"
	ConditionRBACReady       = "RBACReady"
	ConditionQuotaReady      = "QuotaReady"
	ConditionNetworkReady    = "NetworkReady"
	ConditionAdmissionReady  = "AdmissionReady"
	ConditionFairnessReady   = "FairnessReady"
	// ConditionFrozen is True while the tenant is frozen (spec.state
	// Frozen), and says by whom.
	ConditionFrozen = "Frozen"
)

// ConditionClusterObjectsReady says, on every Tenant, whether the
// cluster-wide objects its isolation rests on (the shared admission
// policies, the tenant ClusterRoles, the webhook configurations and their
// certificate) are in place. The cluster-wide keeper owns it; its reasons
// are ReasonApplied and ReasonApplyFailed.
const ConditionClusterObjectsReady = "ClusterObjectsReady"

// Condition reasons, written for the person reading `kubectl describe tenant`.
const (
	// ReasonApplied: every object of the concern matches the Tenant.
	ReasonApplied = "Applied"
	// ReasonApplyFailed: the API server refused an object; the message says which and why.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonNoNamespaces: the tenant has no namespaces yet; owners create them with kubectl create namespace.
	ReasonNoNamespaces = "NoNamespaces"
	// ReasonOverLimit: the tenant has more namespaces than namespaces.max (an admin adopted them).
	ReasonOverLimit = "OverLimit"
	// ReasonAllReady: every concern is Ready.
	ReasonAllReady = "AllReady"
	// ReasonNotReady: at least one concern is not Ready; the message lists them.
	ReasonNotReady = "ConcernsNotReady"
	// ReasonProgressing: a concern has not yet observed the latest generation.
	ReasonProgressing = "Progressing"
	// ReasonWaiting: the concern waits for another's objects (a namespace's
	// TenantPolicy waits for its NetworkPolicies); the message says which.
	ReasonWaiting = "WaitingForProtections"
	// ReasonLevelCapReached: the tenant asks for a priority level of its
	// own (apiFairness.shares) but the cluster's cap of dedicated levels is
	// taken by older tenants; it is a flow of the shared level meanwhile.
	ReasonLevelCapReached = "PriorityLevelCapReached"
	// ReasonFrozen: spec.state is Frozen; the message says by whom and how to unfreeze.
	ReasonFrozen = "FrozenByAdmin"
	// ReasonActive: spec.state is Active.
	ReasonActive = "Active"
	// ReasonDisabled: the concern is turned off by the Tenant (such as network.isolation: Off).
	ReasonDisabled = "Disabled"
)

// Finalizers, one per controller that leaves objects behind. Deletion: each
// controller removes the objects it rendered for the tenant, then its own
// finalizer; the namespaces controller also deletes or releases the
// namespaces per namespaces.deletionPolicy. The Tenant is gone when all are.
const (
	FinalizerNamespaces = "tenancy.bulkhead.dev/namespaces"
	FinalizerPrefix     = "tenancy.bulkhead.dev/"
)

// Finalizers are all of them, the namespaces controller's and each
// concern's (FinalizerPrefix and the concern's name). The first controller
// to see a new Tenant adds them all in one write, rather than one write per
// controller, each of which would wake every controller watching Tenants.
var Finalizers = []string{
	FinalizerNamespaces,
	FinalizerPrefix + "rbac",
	FinalizerPrefix + "quota",
	FinalizerPrefix + "network",
	FinalizerPrefix + "admission",
	FinalizerPrefix + "fairness",
}

// Labels of the objects a TenantResource copies into tenant namespaces.
const (
	// CopyLabel marks the Secrets and ConfigMaps that take part in copies:
	// CopySource on an object a TenantResource may copy (a cluster admin
	// sets it), CopyCopy on each copy Bulkhead writes. Bulkhead watches
	// only objects carrying the key, so it never holds every Secret of the
	// cluster in memory, and an object nobody marked can never be handed
	// to tenants by a mistyped reference.
	CopyLabel = "tenancy.bulkhead.dev/copy"
	// CopySource is CopyLabel's value on an object that may be copied.
	CopySource = "source"
	// CopyCopy is CopyLabel's value on a copy. A copy is never a source:
	// copies of copies would outlive the object they came from.
	CopyCopy = "copy"
	// TenantResourceLabel on a copy names the TenantResource it was copied for.
	TenantResourceLabel = "tenancy.bulkhead.dev/tenant-resource"
	// FinalizerCopies holds a TenantResource until its copies are deleted.
	FinalizerCopies = "tenancy.bulkhead.dev/copies"
)

// Reasons of a TenantResource's Ready condition, each saying what to do.
const (
	// ReasonCopied: every copy is in place.
	ReasonCopied = "Copied"
	// ReasonNothingSelected: no namespace matches the selectors, so there is nothing to copy.
	ReasonNothingSelected = "NothingSelected"
	// ReasonSourceNotFound: a referenced source does not exist; its copies are removed.
	ReasonSourceNotFound = "SourceNotFound"
	// ReasonSourceNotMarked: a referenced source exists but does not carry
	// CopyLabel=CopySource; nothing is copied from it until a cluster admin labels it.
	ReasonSourceNotMarked = "SourceNotMarked"
	// ReasonSourceInTenantNamespace: the source is in a tenant's namespace,
	// where the tenant could write what other tenants receive; it is never
	// copied.
	ReasonSourceInTenantNamespace = "SourceInTenantNamespace"
	// ReasonSourceForbiddenType: the source is a Secret of a type that is
	// never copied (a service account token would let tenants act as the
	// source namespace's service account).
	ReasonSourceForbiddenType = "SourceForbiddenType"
	// ReasonNameConflict: an object Bulkhead did not copy already holds a
	// copy's name in a tenant namespace; it is left alone.
	ReasonNameConflict = "NameConflict"
)
