// Package netoracle answers, without a cluster, whether NetworkPolicies let
// one pod reach another (or an address outside the cluster) on a port. It is a
// test oracle: it feeds policies, namespaces and pods to cyclonus' policy
// matcher, an independent model of the NetworkPolicy API, so that tests can
// check what render.Network produces by its effect on traffic rather than by
// its shape.
//
// It models the API's semantics, not a CNI: ipBlock peers match pod IPs as
// well as external ones (most implementations do, some do not), named ports
// are not resolved, and a pod probing itself is judged like any other pair.
// Policies the API server would refuse are refused, and so are NotIn
// selectors, which cyclonus v0.5.6 misreads for objects without the key.
//
// It must not be imported by production code: it pulls in cyclonus and its
// dependencies, which only tests need.
package netoracle
