package render

import (
	"strconv"
	"strings"
)

// Class says how Bulkhead treats a field.
type Class int

// The classes of fields.
const (
	// Allowed fields are harmless as they are; the reason says why (for
	// example: they select only pods of the same namespace).
	Allowed Class = iota + 1
	// CheckedBy fields are judged by a Bulkhead rule (Field.Rule).
	CheckedBy
	// DefaultedBy fields are filled in by a Bulkhead rule when the tenant
	// leaves them unset, and Kubernetes or the rule keeps them consistent.
	DefaultedBy
	// PodSecurity fields are judged by a Pod Security Admission check
	// (Field.Rule) at a level (Field.Scope). Soft tenants run at baseline,
	// Hard ones at restricted: a restricted check binds Hard tenants only.
	PodSecurity
	// RefusedIn fields are refused by a rule (Field.Rule) in one profile
	// (Field.Scope, Soft or Hard).
	RefusedIn
	// RefusedAlways fields are refused by a rule (Field.Rule) in every
	// profile.
	RefusedAlways
	// OwnedByKubernetes fields are decided by Kubernetes itself whatever
	// a tenant writes: its validation refuses any value, or the API server
	// overwrites or ignores it.
	OwnedByKubernetes
	// Gap fields can reach outside the tenant and nothing checks them. The
	// reason is the risk; each is known and listed until it is closed.
	Gap
)

var classNames = map[Class]string{
	Allowed:           "Allowed",
	CheckedBy:         "CheckedBy",
	DefaultedBy:       "DefaultedBy",
	PodSecurity:       "PodSecurity",
	RefusedIn:         "RefusedIn",
	RefusedAlways:     "RefusedAlways",
	OwnedByKubernetes: "OwnedByKubernetes",
	Gap:               "Gap",
}

func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Field is one entry of the inventory.
type Field struct {
	// Kind is the Go type the path starts from, such as PodSpec.
	Kind string
	// Path is the field's JSON path from Kind.
	Path string
	// Class says how Bulkhead treats the field.
	Class Class
	// Rule is the Bulkhead rule (CheckedBy, DefaultedBy, RefusedIn,
	// RefusedAlways), or the Pod Security check (PodSecurity).
	Rule string
	// Scope is the Pod Security level of the check (PodSecurity), or the
	// profile (RefusedIn).
	Scope string
	// Reason says why the class fits: what the field could do, and why
	// that is harmless or how the rule stops it. For a Gap, the risk.
	Reason string
}

// Classification is the class with its rule and scope, as a person reads
// it: "CheckedBy(nodes.nodeName)", "PodSecurity(hostPorts, baseline)".
func (f Field) Classification() string {
	switch {
	case f.Rule != "" && f.Scope != "":
		return f.Class.String() + "(" + f.Rule + ", " + f.Scope + ")"
	case f.Rule != "":
		return f.Class.String() + "(" + f.Rule + ")"
	}
	return f.Class.String()
}

// The kinds the inventory classifies, by Go type name.
const (
	KindPodSpec                   = "PodSpec"
	KindObjectMeta                = "ObjectMeta"
	KindNamespace                 = "Namespace"
	KindServiceSpec               = "ServiceSpec"
	KindIngressSpec               = "IngressSpec"
	KindPersistentVolumeClaimSpec = "PersistentVolumeClaimSpec"
	KindRoleBinding               = "RoleBinding"
	KindNetworkPolicySpec         = "NetworkPolicySpec"
	KindDeploymentSpec            = "DeploymentSpec"
	KindStatefulSetSpec           = "StatefulSetSpec"
	KindDaemonSetSpec             = "DaemonSetSpec"
	KindReplicaSetSpec            = "ReplicaSetSpec"
	KindReplicationControllerSpec = "ReplicationControllerSpec"
	KindJobSpec                   = "JobSpec"
	KindCronJobSpec               = "CronJobSpec"
)

// Pod Security levels, as Field.Scope of PodSecurity fields.
const (
	levelBaseline   = "baseline"
	levelRestricted = "restricted"
)

// Inventory is the field inventory: every field a tenant writes, with what
// Bulkhead does about it, in a stable order (by kind, then as listed here).
//
// The contract: every field of the Go API types below, down to the leaves,
// has exactly one entry here, and every entry names a field that exists. A
// test walks the types with reflection and fails on a field missing from
// the inventory (a Kubernetes upgrade that adds a field fails the build
// instead of silently opening a way out), on an entry whose field is gone,
// on a rule that no compiled policy or webhook enforces, on a Pod Security
// check that does not exist at the level claimed, and on any Gap that is
// not in its list of known gaps.
//
// The types walked are the ones a tenant writes whose fields can name
// another namespace, node, class, host, address or image:
//
//   - PodSpec, from "spec" (pods, and every workload template);
//   - ObjectMeta, from "metadata", of the namespaced objects a tenant
//     creates (templates' metadata included);
//   - Namespace, as an owner creates it (metadata and spec);
//   - ServiceSpec, IngressSpec, PersistentVolumeClaimSpec and
//     NetworkPolicySpec, from "spec";
//   - RoleBinding (subjects and roleRef; its metadata is ObjectMeta's);
//   - the workload specs (DeploymentSpec, StatefulSetSpec, DaemonSetSpec,
//     ReplicaSetSpec, ReplicationControllerSpec, JobSpec, CronJobSpec),
//     from "spec": their own fields only, since a template's pod spec is
//     PodSpec's, a template's metadata ObjectMeta's, a StatefulSet's claim
//     templates PersistentVolumeClaimSpec's and a CronJob's job template
//     JobSpec's.
//
// A pod's ephemeral volume claim template is, likewise, ObjectMeta's and
// PersistentVolumeClaimSpec's: the claim it becomes is judged as a claim.
//
// A path is JSON: "spec.volumes[].image.reference", where [] stands for
// every element of a list. Maps, lists of scalars, quantities, label
// selectors and times are leaves. An entry on a struct covers everything
// under it, which only a refusing class may do (RefusedAlways,
// OwnedByKubernetes, or a baseline Pod Security check): a new field under
// an allowed struct must be seen.
func Inventory() []Field {
	var out []Field
	podSpecInventory(fieldSet{KindPodSpec, &out})
	objectMetaInventory(fieldSet{KindObjectMeta, &out})
	namespaceInventory(fieldSet{KindNamespace, &out})
	serviceInventory(fieldSet{KindServiceSpec, &out})
	ingressInventory(fieldSet{KindIngressSpec, &out})
	claimInventory(fieldSet{KindPersistentVolumeClaimSpec, &out})
	roleBindingInventory(fieldSet{KindRoleBinding, &out})
	networkPolicyInventory(fieldSet{KindNetworkPolicySpec, &out})
	workloadInventory(&out)
	return out
}

// fieldSet adds the entries of one kind.
type fieldSet struct {
	kind string
	out  *[]Field
}

func (s fieldSet) add(c Class, rule, scope, reason string, paths []string) {
	for _, p := range paths {
		*s.out = append(*s.out, Field{Kind: s.kind, Path: p, Class: c, Rule: rule, Scope: scope, Reason: reason})
	}
}

func (s fieldSet) allowed(reason string, paths ...string) { s.add(Allowed, "", "", reason, paths) }
func (s fieldSet) checked(rule, reason string, paths ...string) {
	s.add(CheckedBy, rule, "", reason, paths)
}
func (s fieldSet) defaulted(rule, reason string, paths ...string) {
	s.add(DefaultedBy, rule, "", reason, paths)
}
func (s fieldSet) podSecurity(check, level, reason string, paths ...string) {
	s.add(PodSecurity, check, level, reason, paths)
}
func (s fieldSet) refusedAlways(rule, reason string, paths ...string) {
	s.add(RefusedAlways, rule, "", reason, paths)
}
func (s fieldSet) kubernetes(reason string, paths ...string) {
	s.add(OwnedByKubernetes, "", "", reason, paths)
}
func (s fieldSet) gap(reason string, paths ...string) { s.add(Gap, "", "", reason, paths) }

// under is the paths of fields below prefix.
func under(prefix string, fields ...string) []string {
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		out = append(out, prefix+"."+f)
	}
	return out
}

func podSpecInventory(s fieldSet) {
	// Where the pod runs.
	s.checked("nodes.nodeName", "binds the pod to a node directly, past the scheduler and the taints of node pools", "spec.nodeName")
	s.checked("nodes.selector", "the tenant's node pool selector is merged in and a conflicting value refused, so pods stay on the tenant's nodes", "spec.nodeSelector")
	s.checked("nodes.tolerations", "a toleration other than the tenant's (or a node condition's) would open another tenant's pool",
		under("spec.tolerations[]", "key", "operator", "value", "effect", "tolerationSeconds")...)
	na := "spec.affinity.nodeAffinity"
	s.allowed("only narrows placement: the scheduler and the kubelet AND it with the nodeSelector that nodes.selector enforces, and pools' taints still apply",
		append(under(na+".requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[]", "matchExpressions[].key", "matchExpressions[].operator", "matchExpressions[].values",
			"matchFields[].key", "matchFields[].operator", "matchFields[].values"),
			under(na+".preferredDuringSchedulingIgnoredDuringExecution[]", "weight", "preference.matchExpressions[].key", "preference.matchExpressions[].operator",
				"preference.matchExpressions[].values", "preference.matchFields[].key", "preference.matchFields[].operator", "preference.matchFields[].values")...)...)
	for _, kind := range []string{"podAffinity", "podAntiAffinity"} {
		base := "spec.affinity." + kind
		s.allowed("weighs a preference of the pod's own placement", base+".preferredDuringSchedulingIgnoredDuringExecution[].weight")
		for _, term := range []string{base + ".requiredDuringSchedulingIgnoredDuringExecution[]", base + ".preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm"} {
			s.checked("pods.affinity", "names the namespaces whose pods the term counts: beyond the tenant's own, one tenant would steer (anti-affinity: keep out) another's pods",
				term+".namespaces", term+".namespaceSelector")
			s.allowed("selects pods only within the namespaces the term names, which pods.affinity keeps to the tenant's own",
				term+".labelSelector", term+".matchLabelKeys", term+".mismatchLabelKeys")
			s.allowed("a node label that groups nodes into domains; it selects nothing", term+".topologyKey")
		}
	}
	s.allowed("spreads the pod among pods of its own namespace; it reaches no other pod",
		under("spec.topologySpreadConstraints[]", "maxSkew", "topologyKey", "whenUnsatisfiable", "labelSelector", "minDomains",
			"nodeAffinityPolicy", "nodeTaintsPolicy", "matchLabelKeys")...)
	s.checked("nodes.schedulerName", "another scheduler may ignore NoSchedule taints (the kubelet re-checks selectors, not those taints) and put the pod on another tenant's pool: only the schedulers the platform lists",
		"spec.schedulerName")
	s.allowed("gates only the pod's own scheduling", "spec.schedulingGates[].name")
	s.allowed("a PodGroup of the pod's own namespace: group scheduling of the tenant's own pods", "spec.schedulingGroup.podGroupName")
	s.checked("pods.priorityClasses", "a class outside the tenant's list (system-* above all) would preempt other tenants' pods", "spec.priorityClassName")
	s.checked("pods.priorityClasses", "Kubernetes' Priority admission refuses any value but the one of priorityClassName, which pods.priorityClasses checks",
		"spec.priority", "spec.preemptionPolicy")
	s.checked("pods.runtimeClass", "the runtime is the isolation boundary of the node (Hard: the sandbox class); it is defaulted and restricted", "spec.runtimeClassName")
	s.defaulted("pods.runtimeClass", "set with the runtime class Bulkhead defaults; Kubernetes' RuntimeClass admission refuses any other overhead", "spec.overhead")
	s.checked("pods.userNamespaces", "hostUsers: false is required in Hard (a user namespace); Soft may run without one", "spec.hostUsers")
	s.allowed("the kubelet refuses a pod whose OS is not its node's, so it cannot relax the Pod Security checks on Linux nodes", "spec.os.name")

	// Host namespaces, identity, DNS.
	s.podSecurity("hostNamespaces", levelBaseline, "sharing the node's network, PID or IPC namespace reaches the node and every pod on it",
		"spec.hostNetwork", "spec.hostPID", "spec.hostIPC")
	s.allowed("shares processes among the pod's own containers", "spec.shareProcessNamespace")
	s.allowed("a service account of the pod's own namespace: the API server refuses any other", "spec.serviceAccountName", "spec.serviceAccount")
	s.defaulted("pods.automountServiceAccountToken", "defaulted from the tenant's settings (and on its ServiceAccounts); the token is the pod's own service account's",
		"spec.automountServiceAccountToken")
	s.checked("pods.serviceLinks", "service links put every Service of the namespace in the environment; defaulted, and refused when Forbidden (the Hard default)", "spec.enableServiceLinks")
	s.allowed("Secrets of the pod's own namespace", "spec.imagePullSecrets[].name")
	s.allowed("the pod's own name in DNS, under a headless Service of its own namespace; hostnameOverride is seen by the pod only",
		"spec.hostname", "spec.subdomain", "spec.hostnameOverride", "spec.setHostnameAsFQDN")
	s.allowed("entries of the pod's own /etc/hosts: they reach only addresses the pod may reach anyway, under the same NetworkPolicies",
		"spec.hostAliases[].ip", "spec.hostAliases[].hostnames")
	s.gap("Default (the node's resolvers) and None (any nameserver) bypass cluster DNS, which a tenant-scoped DNS relies on pods to use",
		"spec.dnsPolicy")
	s.gap("names any resolver, past cluster DNS (and the tenant-scoped DNS to come); only egress NetworkPolicies stand in the way",
		"spec.dnsConfig.nameservers")
	s.allowed("search domains and resolver options of the pod's own resolv.conf: names resolve as they would anyway",
		"spec.dnsConfig.searches", "spec.dnsConfig.options[].name", "spec.dnsConfig.options[].value")

	// The pod's life.
	s.allowed("the pod's own lifecycle; a drain can still shorten a grace period",
		"spec.restartPolicy", "spec.terminationGracePeriodSeconds", "spec.activeDeadlineSeconds", "spec.readinessGates[].conditionType")
	s.checked("quota.tenant", "pod-level requests and limits, counted as Kubernetes counts them by the namespace ResourceQuota and the tenant-wide quota",
		"spec.resources.limits", "spec.resources.requests")
	s.allowed("refers to an entry of spec.resourceClaims of the same pod", "spec.resources.claims[].name", "spec.resources.claims[].request")
	s.allowed("ResourceClaims and templates of the pod's own namespace; what a claim may allocate is the claim's, and DRA admin access needs a namespace label tenants cannot set (namespaces.labels)",
		"spec.resourceClaims[].name", "spec.resourceClaims[].resourceClaimName", "spec.resourceClaims[].resourceClaimTemplateName")

	podSecurityContextInventory(s)
	volumeInventory(s)
	containerInventory(s, "spec.containers[]", false, false)
	containerInventory(s, "spec.initContainers[]", true, false)
	containerInventory(s, "spec.ephemeralContainers[]", false, true)
}

func podSecurityContextInventory(s fieldSet) {
	sc := "spec.securityContext"
	securityContextCommon(s, sc)
	s.allowed("groups of the pod's own processes and volumes: only host files would care, and host paths are refused",
		sc+".supplementalGroups", sc+".supplementalGroupsPolicy", sc+".fsGroup", sc+".fsGroupChangePolicy", sc+".seLinuxChangePolicy")
	s.podSecurity("sysctls", levelBaseline, "only sysctls namespaced to the pod (and isolated from the node) may be named; their values affect the pod alone",
		sc+".sysctls[].name", sc+".sysctls[].value")
}

// securityContextCommon are the fields pod and container security
// contexts share.
func securityContextCommon(s fieldSet, sc string) {
	s.podSecurity("seLinuxOptions", levelBaseline, "a custom SELinux user, role or type could leave the container's confinement",
		sc+".seLinuxOptions.user", sc+".seLinuxOptions.role", sc+".seLinuxOptions.type")
	s.allowed("the MCS level separates the pod's own processes and volumes; baseline allows any", sc+".seLinuxOptions.level")
	s.podSecurity("windowsHostProcess", levelBaseline, "a Windows host process runs on the node itself", sc+".windowsOptions.hostProcess")
	s.allowed("a user inside the Windows container", sc+".windowsOptions.runAsUserName")
	s.gap("on Windows nodes, runs the container as an Active Directory group-managed service account; only the optional gMSA webhook checks who may",
		sc+".windowsOptions.gmsaCredentialSpecName", sc+".windowsOptions.gmsaCredentialSpec")
	s.podSecurity("runAsUser", levelRestricted, "root in the container: refused in Hard unless in a user namespace; baseline (Soft) allows it, as root without added capabilities or privilege does not reach the node",
		sc+".runAsUser")
	s.podSecurity("runAsNonRoot", levelRestricted, "hardening inside the container: required in Hard, free in Soft", sc+".runAsNonRoot")
	s.allowed("a group inside the container: only host files would care, and host paths are refused", sc+".runAsGroup")
	s.podSecurity("seccompProfile_baseline", levelBaseline, "Unconfined is refused; RuntimeDefault and profiles an admin installed on the node are allowed",
		sc+".seccompProfile.type", sc+".seccompProfile.localhostProfile")
	s.podSecurity("appArmorProfile", levelBaseline, "Unconfined is refused; RuntimeDefault and profiles an admin installed on the node are allowed",
		sc+".appArmorProfile.type", sc+".appArmorProfile.localhostProfile")
}

func volumeInventory(s fieldSet) {
	v := "spec.volumes[]"
	s.allowed("the volume's name within the pod", v+".name")
	s.podSecurity("hostPathVolumes", levelBaseline, "a path of the node's file system; refused in every profile (Soft is baseline, Hard restricted)", v+".hostPath")
	for _, source := range []string{"nfs", "iscsi", "glusterfs", "rbd", "cephfs", "fc", "flexVolume", "cinder", "flocker", "gcePersistentDisk",
		"awsElasticBlockStore", "azureFile", "azureDisk", "vsphereVolume", "quobyte", "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos", "gitRepo"} {
		s.refusedAlways("pods.volumes", "the kubelet mounts (or clones) it from the node's network and identity, past NetworkPolicies; only the allowed sources may be used", v+"."+source)
	}
	s.allowed("node-local scratch space, counted against the pod's ephemeral storage or memory", v+".emptyDir.medium", v+".emptyDir.sizeLimit")
	s.allowed("a Secret of the pod's own namespace",
		under(v+".secret", "secretName", "items[].key", "items[].path", "items[].mode", "defaultMode", "optional")...)
	s.allowed("a ConfigMap of the pod's own namespace",
		under(v+".configMap", "name", "items[].key", "items[].path", "items[].mode", "defaultMode", "optional")...)
	s.allowed("a claim of the pod's own namespace; the claim itself is judged by the storage rules", v+".persistentVolumeClaim.claimName", v+".persistentVolumeClaim.readOnly")
	downward := []string{"items[].path", "items[].fieldRef.apiVersion", "items[].fieldRef.fieldPath", "items[].resourceFieldRef.containerName",
		"items[].resourceFieldRef.resource", "items[].resourceFieldRef.divisor", "items[].mode"}
	s.allowed("the pod's own fields", append(under(v+".downwardAPI", downward...), v+".downwardAPI.defaultMode")...)
	p := v + ".projected"
	s.allowed("file modes of the pod's own volume", p+".defaultMode")
	s.allowed("a Secret of the pod's own namespace", under(p+".sources[].secret", "name", "items[].key", "items[].path", "items[].mode", "optional")...)
	s.allowed("a ConfigMap of the pod's own namespace", under(p+".sources[].configMap", "name", "items[].key", "items[].path", "items[].mode", "optional")...)
	s.allowed("the pod's own fields", under(p+".sources[].downwardAPI", downward...)...)
	s.allowed("a token of the pod's own service account, for an audience of its choosing: whoever accepts it sees the tenant's identity, as with serviceaccounts/token",
		under(p+".sources[].serviceAccountToken", "audience", "expirationSeconds", "path")...)
	s.allowed("public trust anchors the cluster publishes to every pod",
		under(p+".sources[].clusterTrustBundle", "name", "signerName", "labelSelector", "optional", "path")...)
	s.allowed("the kubelet asks the named signer for a certificate of the pod's verified identity (namespace, service account, pod, node); what is issued is the signer's policy, and userAnnotations reach it marked unverified",
		under(p+".sources[].podCertificate", "signerName", "keyType", "maxExpirationSeconds", "credentialBundlePath", "keyPath", "certificateChainPath", "userAnnotations")...)
	s.checked("pods.volumes", "drivers such as SMB or NFS mount a server given in volumeAttributes from the node's network, past NetworkPolicies: only the drivers the platform lists (--inline-csi-drivers)",
		v+".csi.driver")
	s.allowed("interpreted by a driver the platform listed as safe for tenants", v+".csi.volumeAttributes")
	s.allowed("how the driver mounts the pod's own volume; the secret is of the pod's own namespace",
		v+".csi.readOnly", v+".csi.fsType", v+".csi.nodePublishSecretRef.name")
	s.checked("pods.images.registries", "an image volume pulls an image like a container does: it must come from an allowed registry", v+".image.reference")
	s.checked("pods.images.pullPolicy", "an image volume pulls like a container does: the tenant's pull policy applies (Always keeps the node's cache from serving another tenant's private image)",
		v+".image.pullPolicy")
}

// containerInventory classifies one list of containers. Ephemeral
// containers share the type of the others, but Kubernetes refuses most of
// what would give them ports, probes, hooks or resources.
func containerInventory(s fieldSet, c string, isInit, ephemeral bool) {
	s.allowed("the container's name within the pod", c+".name")
	s.checked("pods.images.registries", "every image must come from an allowed registry", c+".image")
	s.checked("pods.images.pullPolicy", "the tenant's pull policy applies (Always keeps the node's cache from serving another tenant's private image)", c+".imagePullPolicy")
	s.allowed("what runs inside the container",
		c+".command", c+".args", c+".workingDir", c+".stdin", c+".stdinOnce", c+".tty", c+".terminationMessagePath", c+".terminationMessagePolicy")
	s.allowed("environment from the pod's own fields, ConfigMaps, Secrets and volumes, all of its own namespace",
		append(under(c+".env[]", "name", "value", "valueFrom.fieldRef.apiVersion", "valueFrom.fieldRef.fieldPath",
			"valueFrom.resourceFieldRef.containerName", "valueFrom.resourceFieldRef.resource", "valueFrom.resourceFieldRef.divisor",
			"valueFrom.configMapKeyRef.name", "valueFrom.configMapKeyRef.key", "valueFrom.configMapKeyRef.optional",
			"valueFrom.secretKeyRef.name", "valueFrom.secretKeyRef.key", "valueFrom.secretKeyRef.optional",
			"valueFrom.fileKeyRef.volumeName", "valueFrom.fileKeyRef.path", "valueFrom.fileKeyRef.key", "valueFrom.fileKeyRef.optional"),
			under(c+".envFrom[]", "prefix", "configMapRef.name", "configMapRef.optional", "secretRef.name", "secretRef.optional")...)...)
	s.allowed("mounts of the pod's own volumes", under(c+".volumeMounts[]", "name", "readOnly", "recursiveReadOnly", "mountPath")...)
	s.podSecurity("privileged", levelBaseline, "Bidirectional propagation is valid only in privileged containers, which are refused; HostToContainer shows only mounts under the pod's own volume",
		c+".volumeMounts[].mountPropagation")
	s.allowed("block devices of the pod's own claims", c+".volumeDevices[].name", c+".volumeDevices[].devicePath")
	s.allowed("how the container's own resources are resized", c+".resizePolicy[].resourceName", c+".resizePolicy[].restartPolicy")

	sc := c + ".securityContext"
	securityContextCommon(s, sc)
	s.podSecurity("privileged", levelBaseline, "a privileged container is root on the node", sc+".privileged")
	s.podSecurity("capabilities_baseline", levelBaseline, "capabilities beyond the runtime's default set (NET_RAW, SYS_ADMIN...) reach the node's kernel and network",
		sc+".capabilities.add")
	s.podSecurity("capabilities_restricted", levelRestricted, "hardening inside the container: Hard must drop ALL; Soft keeps the runtime's default set", sc+".capabilities.drop")
	s.podSecurity("allowPrivilegeEscalation", levelRestricted, "hardening inside the container (setuid binaries): refused in Hard; in Soft capabilities and privileged are still refused",
		sc+".allowPrivilegeEscalation")
	s.podSecurity("procMount", levelBaseline, "an unmasked /proc is refused unless the pod runs in a user namespace", sc+".procMount")
	s.allowed("hardening inside the container", sc+".readOnlyRootFilesystem")

	if ephemeral {
		s.allowed("a container of the same pod, whose namespaces the debugger joins", c+".targetContainerName")
		s.kubernetes("Kubernetes refuses ports, probes, lifecycle hooks, resources, restart policies and subPath mounts on ephemeral containers",
			c+".ports", c+".livenessProbe", c+".readinessProbe", c+".startupProbe", c+".lifecycle", c+".resources",
			c+".restartPolicy", c+".restartPolicyRules", c+".volumeMounts[].subPath", c+".volumeMounts[].subPathExpr")
		return
	}
	s.allowed("paths within the pod's own volumes", c+".volumeMounts[].subPath", c+".volumeMounts[].subPathExpr")
	s.allowed("a port of the pod's own IP", c+".ports[].name", c+".ports[].containerPort", c+".ports[].protocol")
	s.podSecurity("hostPorts", levelBaseline, "a port of the node's address (hostIP only says which), reachable past NetworkPolicies",
		c+".ports[].hostPort", c+".ports[].hostIP")
	s.checked("quota.tenant", "counted as Kubernetes counts it by the namespace ResourceQuota and the tenant-wide quota",
		c+".resources.limits", c+".resources.requests")
	s.allowed("refers to an entry of the pod's spec.resourceClaims", c+".resources.claims[].name", c+".resources.claims[].request")
	if isInit {
		s.checked("quota.tenant", "Always makes an init container a sidecar, whose requests add to the pod's for its whole life; quota counts it as Kubernetes does",
			c+".restartPolicy")
	} else {
		s.allowed("restarts of the container itself", c+".restartPolicy")
	}
	s.allowed("restarts of the container itself", c+".restartPolicyRules[].action", c+".restartPolicyRules[].exitCodes.operator", c+".restartPolicyRules[].exitCodes.values")
	for _, probe := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
		p := c + "." + probe
		handlerInventory(s, p)
		s.allowed("a gRPC check of the pod's own IP", p+".grpc.port", p+".grpc.service")
		s.allowed("timing of the pod's own probe",
			under(p, "initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold", "terminationGracePeriodSeconds")...)
	}
	for _, hook := range []string{"postStart", "preStop"} {
		h := c + ".lifecycle." + hook
		handlerInventory(s, h)
		s.allowed("the container's own shutdown or start pause", h+".sleep.seconds")
	}
	s.allowed("the signal the container itself is stopped with", c+".lifecycle.stopSignal")
}

// handlerInventory classifies what probes and lifecycle hooks share: the
// kubelet runs them from the node, so a host of the tenant's choosing
// would make the node connect anywhere.
func handlerInventory(s fieldSet, h string) {
	s.allowed("runs inside the container", h+".exec.command")
	s.allowed("the kubelet calls the pod's own IP", under(h+".httpGet", "path", "port", "scheme", "httpHeaders[].name", "httpHeaders[].value")...)
	s.allowed("the kubelet connects to the pod's own IP", h+".tcpSocket.port")
	s.podSecurity("hostProbesAndHostLifecycle", levelBaseline, "the kubelet would connect from the node's network to any host, past NetworkPolicies",
		h+".httpGet.host", h+".tcpSocket.host")
}

// objectMetaCommon are the metadata fields every object shares, namespaced
// or not.
func objectMetaCommon(s fieldSet, what string) {
	s.kubernetes("set by the API server; what a client writes is ignored or overwritten",
		"metadata.selfLink", "metadata.uid", "metadata.generation", "metadata.creationTimestamp", "metadata.deletionTimestamp", "metadata.deletionGracePeriodSeconds")
	s.allowed("optimistic concurrency on "+what, "metadata.resourceVersion")
	s.allowed("field ownership bookkeeping of "+what,
		under("metadata.managedFields[]", "manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1", "subresource")...)
	s.allowed("holds "+what+" in deletion until removed", "metadata.finalizers")
	s.allowed("deletes "+what+" when its owner goes: the garbage collector never touches the owner",
		under("metadata.ownerReferences[]", "apiVersion", "kind", "name", "uid", "controller")...)
	s.gap("on "+what+" owned by a cluster-scoped object (a Node, a Tenant), together with a finalizer nobody removes, stalls a foreground deletion of that owner; OwnerReferencesPermissionEnforcement, off by default, would check it",
		"metadata.ownerReferences[].blockOwnerDeletion")
}

func objectMetaInventory(s fieldSet) {
	objectMetaCommon(s, "the tenant's own object")
	s.allowed("names the object within its own namespace", "metadata.name", "metadata.generateName")
	s.kubernetes("must be the namespace of the request: the API server refuses any other", "metadata.namespace")
	s.checked("managed-objects", "Bulkhead's managed-by label may not be put on tenant objects of the kinds Bulkhead renders; other labels select only within the namespace",
		"metadata.labels")
	s.gap("controllers read annotations and act in their own identity: ingress controllers' snippet annotations (which can read every namespace's Secrets) and cloud load balancer annotations (subnets, security groups, internal or public); "+
		"Bulkhead checks only kubernetes.io/ingress.class (ingress.classes), the beta storage class annotation (storage.classes) and, through Pod Security, AppArmor's",
		"metadata.annotations")
}

func namespaceInventory(s fieldSet) {
	objectMetaCommon(s, "the tenant's own namespace")
	s.checked("namespaces.names", "a namespace name belongs to the tenant with the longest matching prefix: another's would squat its names",
		"metadata.name", "metadata.generateName")
	s.kubernetes("a namespace is cluster-scoped: the API server clears it", "metadata.namespace")
	s.checked("namespaces.labels", "other tenants' network allowlists, Pod Security and DRA admin access read namespace labels: reserved ones are set by Bulkhead only",
		"metadata.labels")
	s.checked("namespaces.annotations", "the PodNodeSelector and PodTolerationRestriction admission plugins, where enabled, read scheduler.alpha.kubernetes.io/ annotations of the namespace: reserved annotations are set by admins only",
		"metadata.annotations")
	s.allowed("holds the tenant's own namespace in deletion", "spec.finalizers")
	s.kubernetes("written through namespaces/status, which tenants may only read; ignored on create and update", "status")
}

func serviceInventory(s fieldSet) {
	s.checked("services.allowedTypes", "NodePort and LoadBalancer open the Service beyond the cluster; ExternalName is a DNS alias to any host", "spec.type")
	s.checked("services.allowedTypes", "read only for type ExternalName: an alias to any host, which ingress controllers may proxy to from their own network", "spec.externalName")
	s.refusedAlways("services.externalIPs", "lets a Service capture traffic meant for any address (CVE-2020-8554)", "spec.externalIPs")
	s.allowed("selects pods of the Service's own namespace", "spec.selector")
	s.allowed("ports of the Service itself", "spec.ports[].name", "spec.ports[].protocol", "spec.ports[].appProtocol", "spec.ports[].port", "spec.ports[].targetPort")
	s.gap("a port of every node, cluster-wide, taken first come: a tenant allowed NodePort or LoadBalancer can squat a port number others expect",
		"spec.ports[].nodePort", "spec.healthCheckNodePort")
	s.allowed("an address of the service range, taken first come; it routes only to the Service's own endpoints", "spec.clusterIP", "spec.clusterIPs")
	s.gap("asks the load balancer for a specific address: where the provider allows it, a tenant takes an address reserved for another tenant or the cluster", "spec.loadBalancerIP")
	s.gap("names any load balancer implementation of the cluster (an internal one exposes the Service on a private network) for a tenant allowed LoadBalancer", "spec.loadBalancerClass")
	s.allowed("who may reach the tenant's own load balancer, and how it spreads traffic to its own endpoints",
		"spec.loadBalancerSourceRanges", "spec.allocateLoadBalancerNodePorts", "spec.externalTrafficPolicy", "spec.internalTrafficPolicy",
		"spec.trafficDistribution", "spec.sessionAffinity", "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "spec.publishNotReadyAddresses",
		"spec.ipFamilies", "spec.ipFamilyPolicy")
}

func ingressInventory(s fieldSet) {
	s.checked("ingress.classes", "the class picks the controller, and with it who is exposed where", "spec.ingressClassName")
	s.refusedAlways("ingress.defaultBackend", "a catch-all backend serves every hostname nobody claimed on a shared class: an admin's decision", "spec.defaultBackend")
	s.checked("ingress.hostnames", "a hostname must match the tenant's patterns and be served for no other tenant; a rule without host is a catch-all (ingress.defaultBackend)",
		"spec.rules[].host", "spec.tls[].hosts")
	s.allowed("a Secret of the Ingress's own namespace", "spec.tls[].secretName")
	b := "spec.rules[].http.paths[]"
	s.allowed("paths within the tenant's own hostnames", b+".path", b+".pathType")
	s.allowed("a Service of the Ingress's own namespace", b+".backend.service.name", b+".backend.service.port.name", b+".backend.service.port.number")
	s.allowed("an object of the Ingress's own namespace, for the controller to interpret",
		b+".backend.resource.apiGroup", b+".backend.resource.kind", b+".backend.resource.name")
}

func claimInventory(s fieldSet) {
	s.checked("storage.classes", "the class picks the provisioner and where the data lives", "spec.storageClassName")
	s.checked("storage.volumeName", "a claim may name only a volume provisioned for its tenant", "spec.volumeName")
	s.checked("storage.selector", "binds any Available PersistentVolume of an allowed class whose labels match, one provisioned for another tenant but not pre-bound with a claimRef included: refused, dynamic provisioning ignores it anyway",
		"spec.selector")
	s.gap("names any VolumeAttributesClass (performance tiers an admin may reserve); storage.classes restricts StorageClasses only", "spec.volumeAttributesClassName")
	s.checked("storage.dataSource", "a source in another namespace would copy another tenant's data", "spec.dataSourceRef.namespace")
	s.allowed("clones a claim or restores a snapshot of the claim's own namespace (dataSourceRef.namespace aside)",
		"spec.dataSource.apiGroup", "spec.dataSource.kind", "spec.dataSource.name",
		"spec.dataSourceRef.apiGroup", "spec.dataSourceRef.kind", "spec.dataSourceRef.name")
	s.checked("quota.tenant", "storage requests, counted by the namespace ResourceQuota and the tenant-wide quota", "spec.resources.requests", "spec.resources.limits")
	s.allowed("how the tenant's own volume is mounted", "spec.accessModes", "spec.volumeMode")
}

func roleBindingInventory(s fieldSet) {
	s.checked("rbac.subjects", "in Hard, only the tenant's own identities and its namespaces' service accounts; in Soft an owner may share its namespace with anyone, never more than it holds",
		under("subjects[]", "kind", "apiGroup", "name", "namespace")...)
	s.checked("rbac.clusterRoles", "in Hard, only the allowed ClusterRoles; in every profile Kubernetes refuses to bind rights the owner lacks",
		"roleRef.apiGroup", "roleRef.kind", "roleRef.name")
}

func networkPolicyInventory(s fieldSet) {
	s.allowed("selects pods of the policy's own namespace", "spec.podSelector")
	s.allowed("which directions the policy isolates: isolating only ever narrows", "spec.policyTypes")
	s.allowed("ports of the tenant's own pods, or of peers the rule's peers allow",
		"spec.ingress[].ports[].protocol", "spec.ingress[].ports[].port", "spec.ingress[].ports[].endPort")
	s.checked("network.dns", "port 53 beyond the tenant's own pods only to the cluster DNS: another resolver would answer other tenants' names",
		"spec.egress[].ports[].protocol", "spec.egress[].ports[].port", "spec.egress[].ports[].endPort")
	s.checked("network.ingress", "NetworkPolicies add up: peers may not reach beyond what the Tenant allows in (namespaces of other tenants, denied CIDRs)",
		under("spec.ingress[].from[]", "podSelector", "namespaceSelector", "ipBlock.cidr", "ipBlock.except")...)
	s.checked("network.egress", "NetworkPolicies add up: peers may not reach what the Tenant denies (denied CIDRs, the metadata address, other tenants)",
		under("spec.egress[].to[]", "podSelector", "namespaceSelector", "ipBlock.cidr", "ipBlock.except")...)
}

func workloadInventory(out *[]Field) {
	const own = "pacing of the tenant's own pods; each pod is admitted on its own, quota included"
	const selector = "selects pods of the workload's own namespace"

	d := fieldSet{KindDeploymentSpec, out}
	d.allowed(selector, "spec.selector")
	d.allowed(own, "spec.replicas", "spec.minReadySeconds", "spec.revisionHistoryLimit", "spec.paused", "spec.progressDeadlineSeconds",
		"spec.strategy.type", "spec.strategy.rollingUpdate.maxUnavailable", "spec.strategy.rollingUpdate.maxSurge")

	st := fieldSet{KindStatefulSetSpec, out}
	st.allowed(selector, "spec.selector")
	st.allowed("a headless Service of the StatefulSet's own namespace names its pods in DNS", "spec.serviceName")
	st.allowed(own, "spec.replicas", "spec.minReadySeconds", "spec.revisionHistoryLimit", "spec.podManagementPolicy", "spec.ordinals.start",
		"spec.updateStrategy.type", "spec.updateStrategy.rollingUpdate.partition", "spec.updateStrategy.rollingUpdate.maxUnavailable",
		"spec.persistentVolumeClaimRetentionPolicy.whenDeleted", "spec.persistentVolumeClaimRetentionPolicy.whenScaled")
	st.kubernetes("a claim template's status is ignored", "spec.volumeClaimTemplates[].status")

	ds := fieldSet{KindDaemonSetSpec, out}
	ds.allowed(selector, "spec.selector")
	ds.allowed(own+"; the template's nodeSelector (nodes.selector) keeps them on the tenant's nodes", "spec.minReadySeconds", "spec.revisionHistoryLimit",
		"spec.updateStrategy.type", "spec.updateStrategy.rollingUpdate.maxUnavailable", "spec.updateStrategy.rollingUpdate.maxSurge")

	rs := fieldSet{KindReplicaSetSpec, out}
	rs.allowed(selector, "spec.selector")
	rs.allowed(own, "spec.replicas", "spec.minReadySeconds")

	rc := fieldSet{KindReplicationControllerSpec, out}
	rc.allowed(selector, "spec.selector")
	rc.allowed(own, "spec.replicas", "spec.minReadySeconds")

	j := fieldSet{KindJobSpec, out}
	j.allowed(selector, "spec.selector", "spec.manualSelector")
	j.allowed(own, "spec.parallelism", "spec.completions", "spec.completionMode", "spec.activeDeadlineSeconds", "spec.backoffLimit",
		"spec.backoffLimitPerIndex", "spec.maxFailedIndexes", "spec.ttlSecondsAfterFinished", "spec.suspend", "spec.podReplacementPolicy",
		"spec.podFailurePolicy.rules[].action", "spec.podFailurePolicy.rules[].onExitCodes.containerName",
		"spec.podFailurePolicy.rules[].onExitCodes.operator", "spec.podFailurePolicy.rules[].onExitCodes.values",
		"spec.podFailurePolicy.rules[].onPodConditions[].type", "spec.podFailurePolicy.rules[].onPodConditions[].status",
		"spec.successPolicy.rules[].succeededIndexes", "spec.successPolicy.rules[].succeededCount")
	j.allowed("hands the Job to another controller than Kubernetes' own: it only stops the Job controller from running it", "spec.managedBy")

	cj := fieldSet{KindCronJobSpec, out}
	cj.allowed("when the tenant's own Jobs start, and how many are kept", "spec.schedule", "spec.timeZone", "spec.startingDeadlineSeconds",
		"spec.concurrencyPolicy", "spec.suspend", "spec.successfulJobsHistoryLimit", "spec.failedJobsHistoryLimit")
}

// String is one line of the inventory, as docs print it.
func (f Field) String() string {
	return strings.Join([]string{f.Kind, f.Path, f.Classification(), f.Reason}, "\t")
}
