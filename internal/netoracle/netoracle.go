package netoracle

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ExternalPrefix marks a Probe endpoint that is an address outside the
// cluster rather than a pod: "ip:169.254.169.254".
const ExternalPrefix = "ip:"

// Pod is a pod as NetworkPolicies see it.
type Pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
	// IP is required: ipBlock peers are matched against it.
	IP string
}

// Key is how probes and matrices name the pod: "namespace/name".
func (p Pod) Key() string {
	return p.Namespace + "/" + p.Name
}

// Namespace is a namespace as NetworkPolicies see it.
type Namespace struct {
	Name string
	// Labels of the namespace. kubernetes.io/metadata.name is added when
	// missing, as the API server does.
	Labels map[string]string
}

// Probe is one connection attempt.
type Probe struct {
	// From and To are pod keys ("namespace/name") or external addresses
	// (External("192.0.2.1")).
	From, To string
	Port     int
	// Protocol defaults to TCP, as in a NetworkPolicyPort.
	Protocol corev1.Protocol
}

// External is the probe endpoint for an address outside the cluster.
func External(ip string) string {
	return ExternalPrefix + ip
}

// MatrixKey is the key of a pair in the map Matrix returns.
func MatrixKey(from, to string) string {
	return from + "->" + to
}

// Allowed reports whether traffic From->To on Port/Protocol is allowed by the
// policies (egress of source AND ingress of destination), computed by
// cyclonus' matcher.
func Allowed(policies []networkingv1.NetworkPolicy, namespaces []Namespace, pods []Pod, p Probe) (bool, error) {
	v, err := Explain(policies, namespaces, pods, p)
	if err != nil {
		return false, err
	}
	return v.Allowed, nil
}

// Matrix returns, for every ordered pair of pods (a pod and itself included),
// whether the port/protocol is allowed, as a map keyed by MatrixKey
// ("ns/a->ns/b").
func Matrix(policies []networkingv1.NetworkPolicy, namespaces []Namespace, pods []Pod, port int, proto corev1.Protocol) (map[string]bool, error) {
	c, err := newCluster(policies, namespaces, pods)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(pods)*len(pods))
	for _, from := range pods {
		for _, to := range pods {
			v, err := c.probe(Probe{From: from.Key(), To: to.Key(), Port: port, Protocol: proto})
			if err != nil {
				return nil, err
			}
			out[MatrixKey(from.Key(), to.Key())] = v.Allowed
		}
	}
	return out, nil
}

// Verdict is the outcome of a probe and the policies behind it, so that a
// failing test can say why traffic was allowed or denied.
type Verdict struct {
	// Allowed is Egress.Allowed && Ingress.Allowed.
	Allowed bool
	// Egress is the source's side; always allowed for an external source.
	Egress Direction
	// Ingress is the destination's side; always allowed for an external destination.
	Ingress Direction
}

// Direction is the outcome on one side of a connection.
type Direction struct {
	Allowed bool
	// Policies lists, as "namespace/name", the policies that select the pod
	// for this direction; when none do, the pod is not isolated and traffic is
	// allowed.
	Policies []string
}

// String reads as "egress allowed by [a/x]; ingress denied by [b/y]".
func (v Verdict) String() string {
	return fmt.Sprintf("egress %s; ingress %s", v.Egress, v.Ingress)
}

// String reads as "allowed (not isolated)" or "denied by [ns/policy]".
func (d Direction) String() string {
	verb := "denied"
	if d.Allowed {
		verb = "allowed"
	}
	if len(d.Policies) == 0 {
		return verb + " (not isolated)"
	}
	return fmt.Sprintf("%s by %v", verb, d.Policies)
}

// Explain is Allowed with the policies that decided each direction.
func Explain(policies []networkingv1.NetworkPolicy, namespaces []Namespace, pods []Pod, p Probe) (Verdict, error) {
	c, err := newCluster(policies, namespaces, pods)
	if err != nil {
		return Verdict{}, err
	}
	return c.probe(p)
}

// cluster is the matcher's view of the policies and of every pod.
type cluster struct {
	policy *matcher.Policy
	peers  map[string]*matcher.TrafficPeer
}

func newCluster(policies []networkingv1.NetworkPolicy, namespaces []Namespace, pods []Pod) (*cluster, error) {
	nsLabels := make(map[string]map[string]string, len(namespaces))
	for _, ns := range namespaces {
		if _, dup := nsLabels[ns.Name]; dup {
			return nil, fmt.Errorf("namespace %q is listed twice", ns.Name)
		}
		labels := make(map[string]string, len(ns.Labels)+1)
		for k, v := range ns.Labels {
			labels[k] = v
		}
		if _, ok := labels[corev1.LabelMetadataName]; !ok {
			labels[corev1.LabelMetadataName] = ns.Name
		}
		nsLabels[ns.Name] = labels
	}

	peers := make(map[string]*matcher.TrafficPeer, len(pods))
	for _, p := range pods {
		labels, ok := nsLabels[p.Namespace]
		if !ok {
			return nil, fmt.Errorf("pod %s: namespace %q is not listed", p.Key(), p.Namespace)
		}
		if _, dup := peers[p.Key()]; dup {
			return nil, fmt.Errorf("pod %s is listed twice", p.Key())
		}
		if _, err := netip.ParseAddr(p.IP); err != nil {
			return nil, fmt.Errorf("pod %s: IP %q: %w", p.Key(), p.IP, err)
		}
		peers[p.Key()] = &matcher.TrafficPeer{
			IP: p.IP,
			Internal: &matcher.InternalPeer{
				Namespace:       p.Namespace,
				NamespaceLabels: labels,
				PodLabels:       p.Labels,
			},
		}
	}

	netpols := make([]*networkingv1.NetworkPolicy, 0, len(policies))
	for i := range policies {
		np := policies[i].DeepCopy()
		if err := validate(np); err != nil {
			return nil, err
		}
		defaultPolicyTypes(np)
		netpols = append(netpols, np)
	}
	policy, err := guard(func() *matcher.Policy { return matcher.BuildNetworkPolicies(false, netpols) })
	if err != nil {
		return nil, fmt.Errorf("reading NetworkPolicies: %w", err)
	}
	return &cluster{policy: policy, peers: peers}, nil
}

// validate refuses what the API server would refuse and the matcher would
// read silently in its own way, and what the matcher gets wrong, so that a
// test never passes on a misreading.
func validate(np *networkingv1.NetworkPolicy) error {
	if np.Namespace == "" {
		return fmt.Errorf("NetworkPolicy %q has no namespace", np.Name)
	}
	name := np.Namespace + "/" + np.Name
	if err := validateSelector(&np.Spec.PodSelector); err != nil {
		return fmt.Errorf("NetworkPolicy %s: podSelector: %w", name, err)
	}
	var peers []networkingv1.NetworkPolicyPeer
	for _, r := range np.Spec.Ingress {
		peers = append(peers, r.From...)
	}
	for _, r := range np.Spec.Egress {
		peers = append(peers, r.To...)
	}
	for _, peer := range peers {
		if err := validatePeer(peer); err != nil {
			return fmt.Errorf("NetworkPolicy %s: %w", name, err)
		}
	}
	return nil
}

func validatePeer(peer networkingv1.NetworkPolicyPeer) error {
	if peer.IPBlock != nil {
		if peer.PodSelector != nil || peer.NamespaceSelector != nil {
			return fmt.Errorf("a peer with an ipBlock cannot also have selectors")
		}
		cidr, err := netip.ParsePrefix(peer.IPBlock.CIDR)
		if err != nil {
			return fmt.Errorf("ipBlock: %w", err)
		}
		for _, e := range peer.IPBlock.Except {
			except, err := netip.ParsePrefix(e)
			if err != nil {
				return fmt.Errorf("ipBlock except: %w", err)
			}
			if except.Bits() <= cidr.Bits() || !cidr.Contains(except.Addr()) {
				return fmt.Errorf("ipBlock except %s is not strictly inside %s", e, peer.IPBlock.CIDR)
			}
		}
		return nil
	}
	if peer.PodSelector == nil && peer.NamespaceSelector == nil {
		return fmt.Errorf("a peer needs an ipBlock, a podSelector or a namespaceSelector")
	}
	for _, sel := range []*metav1.LabelSelector{peer.PodSelector, peer.NamespaceSelector} {
		if err := validateSelector(sel); err != nil {
			return err
		}
	}
	return nil
}

func validateSelector(sel *metav1.LabelSelector) error {
	if sel == nil {
		return nil
	}
	if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
		return err
	}
	for _, req := range sel.MatchExpressions {
		// cyclonus v0.5.6 takes "key NotIn (...)" not to match objects without
		// the key; Kubernetes matches them. Refusing is better than a wrong answer.
		if req.Operator == metav1.LabelSelectorOpNotIn {
			return fmt.Errorf("selector on %q: NotIn is not supported by this oracle", req.Key)
		}
	}
	return nil
}

// defaultPolicyTypes fills policyTypes as the API server does when it is
// left empty: Ingress always, Egress when there are egress rules. The matcher
// refuses policies without it.
func defaultPolicyTypes(np *networkingv1.NetworkPolicy) {
	if len(np.Spec.PolicyTypes) > 0 {
		return
	}
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(np.Spec.Egress) > 0 {
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
	}
}

func (c *cluster) probe(p Probe) (Verdict, error) {
	from, err := c.peer(p.From)
	if err != nil {
		return Verdict{}, fmt.Errorf("probe source: %w", err)
	}
	to, err := c.peer(p.To)
	if err != nil {
		return Verdict{}, fmt.Errorf("probe destination: %w", err)
	}
	if p.Port < 1 || p.Port > 65535 {
		return Verdict{}, fmt.Errorf("probe port %d is not in 1-65535", p.Port)
	}
	proto := p.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	traffic := &matcher.Traffic{Source: from, Destination: to, ResolvedPort: p.Port, Protocol: proto}
	result, err := guard(func() *matcher.AllowedResult { return c.policy.IsTrafficAllowed(traffic) })
	if err != nil {
		return Verdict{}, fmt.Errorf("probe %s -> %s: %w", p.From, p.To, err)
	}
	return Verdict{
		Allowed: result.IsAllowed(),
		Egress:  direction(result.Egress),
		Ingress: direction(result.Ingress),
	}, nil
}

func (c *cluster) peer(endpoint string) (*matcher.TrafficPeer, error) {
	if ip, ok := strings.CutPrefix(endpoint, ExternalPrefix); ok {
		if _, err := netip.ParseAddr(ip); err != nil {
			return nil, fmt.Errorf("external address %q: %w", ip, err)
		}
		return &matcher.TrafficPeer{IP: ip}, nil
	}
	peer, ok := c.peers[endpoint]
	if !ok {
		return nil, fmt.Errorf("no pod %q (want namespace/name or %s<address>)", endpoint, ExternalPrefix)
	}
	return peer, nil
}

func direction(r *matcher.DirectionResult) Direction {
	var names []string
	for _, targets := range [][]*matcher.Target{r.AllowingTargets, r.DenyingTargets} {
		for _, t := range targets {
			for _, np := range t.SourceRules {
				names = append(names, np.Namespace+"/"+np.Name)
			}
		}
	}
	sort.Strings(names)
	return Direction{Allowed: r.IsAllowed(), Policies: names}
}

// guard turns the matcher's panics on input it cannot read (an invalid peer,
// an unparsable CIDR) into errors, so that a bad policy fails one test with a
// message instead of the whole test binary.
func guard[T any](f func() T) (out T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return f(), nil
}

// ParseMatrix reads a reachability table: the header names the destination
// pods, each row starts with a source pod, and a cell is Y (allowed) or .
// (denied). Stating expectations this way keeps them independent of the
// logic under test and readable at a glance.
func ParseMatrix(table string) (map[string]bool, error) {
	var lines [][]string
	for _, l := range strings.Split(table, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines = append(lines, f)
		}
	}
	if len(lines) == 0 {
		return nil, errors.New("empty matrix table")
	}
	to := lines[0]
	out := map[string]bool{}
	for _, row := range lines[1:] {
		if len(row) != len(to)+1 {
			return nil, fmt.Errorf("matrix row %q has %d cells, want %d", row[0], len(row)-1, len(to))
		}
		for i, cell := range row[1:] {
			switch cell {
			case "Y":
				out[MatrixKey(row[0], to[i])] = true
			case ".":
				out[MatrixKey(row[0], to[i])] = false
			default:
				return nil, fmt.Errorf("matrix cell %q (row %s) is neither %q nor %q", cell, row[0], "Y", ".")
			}
		}
	}
	return out, nil
}
