package integration

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/testenv"
)

// TestInstallManifestsApply applies config/default to the real API server
// with server-side apply and strict field validation, so that a broken or
// misspelt manifest fails the tests, not a user's installation.
func TestInstallManifestsApply(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "config", "default")
	out, err := testenv.Kubectl(env.Cluster, "apply", "--server-side", "--force-conflicts",
		"--field-manager=bulkhead-install", "--validate=strict", "-k", dir)
	if err != nil {
		t.Fatalf("kubectl apply -k config/default: %v\n%s", err, out)
	}
	for _, want := range []string{
		"namespace/bulkhead-system",
		"customresourcedefinition.apiextensions.k8s.io/tenants.tenancy.bulkhead.dev",
		"serviceaccount/bulkhead-manager",
		"clusterrole.rbac.authorization.k8s.io/bulkhead-manager",
		"clusterrolebinding.rbac.authorization.k8s.io/bulkhead-manager",
		"service/bulkhead-webhook",
		"deployment.apps/bulkhead-manager",
		"networkpolicy.networking.k8s.io/bulkhead-manager",
	} {
		if !strings.Contains(string(out), want+" serverside-applied") {
			t.Errorf("apply output lacks %s:\n%s", want, out)
		}
	}
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "bulkhead-system", Name: "bulkhead-manager"}, d); err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 2 || !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--leader-elect") {
		t.Errorf("manager Deployment: replicas %d, args %v; want 2 replicas with --leader-elect", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Args)
	}
	// The webhook verifies its callers as installed, and the network keeps
	// everyone but the configured control plane away from its port.
	args := d.Spec.Template.Spec.Containers[0].Args
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--webhook-client-ca-file=") }) ||
		slices.Contains(args, "--insecure-webhook-any-client") {
		t.Errorf("manager args %v: want --webhook-client-ca-file and no --insecure-webhook-any-client", args)
	}
	np := &networkingv1.NetworkPolicy{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "bulkhead-system", Name: "bulkhead-manager"}, np); err != nil {
		t.Fatal(err)
	}
	selector, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil || selector.Empty() || !selector.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("NetworkPolicy selector %v does not select the manager's pods (%v)", np.Spec.PodSelector, d.Spec.Template.Labels)
	}
	webhookRules := 0
	for _, rule := range np.Spec.Ingress {
		reachesWebhook := len(rule.Ports) == 0 // a rule without ports opens every port
		for _, port := range rule.Ports {
			if port.Port == nil || port.Port.String() == "webhook" || port.Port.IntValue() == 9443 {
				reachesWebhook = true
			}
		}
		if !reachesWebhook {
			continue
		}
		webhookRules++
		if len(rule.From) != 1 || rule.From[0].IPBlock == nil || rule.From[0].NamespaceSelector != nil || rule.From[0].PodSelector != nil {
			t.Errorf("the webhook port is open to %v; want one ipBlock, the control plane's", rule.From)
		}
	}
	if webhookRules == 0 {
		t.Error("no NetworkPolicy rule admits the API server to the webhook port")
	}
}
