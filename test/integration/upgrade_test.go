package integration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// TestUpgradeWithoutAGap runs the manager at the previous render version
// with a Hard tenant converged, then restarts it at the current one, as a
// release upgrade would. From before the restart until the new rendering
// has converged, a prober keeps asking the API server to admit forbidden
// pods in the tenant's namespaces (dry runs) and lists their
// NetworkPolicies: every pod must be refused by the rule that forbids it,
// and every namespace must always have a Bulkhead NetworkPolicy that
// isolates all its pods' ingress; a token Secret must be refused by the
// renamed tokens policy, and an allowed pod admitted, throughout.
// Afterwards the renamed NetworkPolicy and admission policy have replaced
// the old ones, the changed binding is changed, and the Tenant is Ready.
// Rolling back is probed the same way.
func TestUpgradeWithoutAGap(t *testing.T) {
	const tenant, image = "upg", "registry.example.com/upg/app:1"
	namespaces := []string{"upg-a", "upg-b"}
	current, previous := atRenderVersion1(t)

	owner := env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner("upg-owner").Hard().Registries("registry.example.com/upg/").Obj(), namespaces[0])
	testenv.OwnerCreatesNamespace(t, owner, namespaces[1])
	for _, ns := range namespaces {
		// Without a controller-manager nobody creates the namespace's
		// default ServiceAccount, which the API server looks pods' up in.
		// The namespace's TenantPolicy may not be written yet, and until
		// it is, the ServiceAccount defaults policy refuses it.
		testenv.Eventually(t, "the default ServiceAccount of "+ns, func() error {
			err := env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}})
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		})
	}
	testenv.Eventually(t, "the previous rendering", func() error { return rendered(tenant, namespaces, previous) })

	// restart moves the manager to settings s while the prober runs, and
	// reports every probe that failed.
	restart := func(what string, s render.Settings) {
		t.Helper()
		p := &prober{owner: owner, tenant: tenant, image: image, namespaces: namespaces}
		stop := p.start()
		// Let a few rounds pass on the running rendering first: a probe
		// that fails there is a broken probe, not a gap.
		time.Sleep(300 * time.Millisecond)
		if err := env.RestartManagerWith(s); err != nil {
			stop()
			t.Fatalf("%s: restarting the manager at render version %d: %v", what, s.Version(), err)
		}
		testenv.Eventually(t, what, func() error { return rendered(tenant, namespaces, s) })
		// Probes for a moment past convergence: a late prune would show.
		time.Sleep(time.Second)
		rounds, failures := stop()
		t.Logf("%s: %d probe rounds over %d namespaces, each 2 forbidden pods, a token Secret, an allowed pod and a NetworkPolicy list", what, rounds, len(namespaces))
		if rounds < 10 {
			t.Errorf("%s: only %d probe rounds ran; want the restart well covered", what, rounds)
		}
		for i, f := range failures {
			if i == 20 {
				t.Errorf("%s: and %d more failed probes", what, len(failures)-i)
				break
			}
			t.Errorf("%s: %s", what, f)
		}
	}

	restart("upgrade", current)
	env.WaitReady(t, tenant)
	// Every tenant, not only this one, lost the old name.
	testenv.Eventually(t, "no NetworkPolicy of the previous name left", func() error {
		list := &networkingv1.NetworkPolicyList{}
		if err := env.Client.List(ctx, list, client.HasLabels{tenancyv1alpha1.ManagedByLabel}); err != nil {
			return err
		}
		for _, np := range list.Items {
			if np.Name == render.LegacyIngressPolicy {
				return fmt.Errorf("%s/%s is still there", np.Namespace, np.Name)
			}
		}
		return nil
	})

	// And back, as a rollback of the release would: the renamed policy
	// gets its old name again and the new policy goes, with no gap either.
	restart("rollback", previous)
}

// atRenderVersion1 restarts the manager at render version 1 and returns the
// current settings and version 1's; the manager is back at the current
// version when the test ends.
func atRenderVersion1(t *testing.T) (current, previous render.Settings) {
	t.Helper()
	current = env.Settings
	previous = current
	previous.RenderVersion = render.RenderVersion1
	t.Cleanup(func() {
		if env.Settings.Version() != current.Version() {
			if err := env.RestartManagerWith(current); err != nil {
				t.Errorf("restarting the manager at the current render version: %v", err)
			}
		}
	})
	if err := env.RestartManagerWith(previous); err != nil {
		t.Fatalf("starting the manager at render version %d: %v", render.RenderVersion1, err)
	}
	return current, previous
}

// rendered says how the world differs from the rendering of settings s for
// the tenant's namespaces and the cluster-wide policies it changes.
func rendered(tenant string, namespaces []string, s render.Settings) error {
	want, stale := render.IngressPolicy, render.LegacyIngressPolicy
	wantActions := []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}
	if s.Version() == render.RenderVersion1 {
		want, stale = stale, want
		wantActions = append(wantActions, admissionregistrationv1.Audit)
	}
	for _, ns := range namespaces {
		list := &networkingv1.NetworkPolicyList{}
		if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			return err
		}
		names := map[string]bool{}
		for _, np := range list.Items {
			names[np.Name] = true
		}
		if !names[want] || !names[render.EgressPolicy] || names[stale] {
			return fmt.Errorf("namespace %s has NetworkPolicies %v; want %s and %s, not %s", ns, names, want, render.EgressPolicy, stale)
		}
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: render.ManagedPolicy}, binding); err != nil {
		return err
	}
	if !slices.Equal(binding.Spec.ValidationActions, wantActions) {
		return fmt.Errorf("binding %s has validationActions %v, want %v", binding.Name, binding.Spec.ValidationActions, wantActions)
	}
	tokens, staleTokens := render.TokensPolicy, render.LegacyTokensPolicy
	if s.Version() == render.RenderVersion1 {
		tokens, staleTokens = staleTokens, tokens
	}
	for _, obj := range []client.Object{&admissionregistrationv1.ValidatingAdmissionPolicy{}, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}} {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: tokens}, obj); err != nil {
			return fmt.Errorf("%T %s: %w", obj, tokens, err)
		}
		switch err := env.Client.Get(ctx, client.ObjectKey{Name: staleTokens}, obj); {
		case err == nil:
			return fmt.Errorf("%T %s of the other render version is still there", obj, staleTokens)
		case !apierrors.IsNotFound(err):
			return err
		}
	}
	tn := &tenancyv1alpha1.Tenant{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: tenant}, tn); err != nil {
		return err
	}
	if c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		return fmt.Errorf("tenant %s Ready is %+v", tenant, c)
	}
	return nil
}

// prober asks, every 50ms, for forbidden pods in the tenant's namespaces
// and for one it allows, and checks that each namespace's ingress is
// isolated. The allowed pod shows the upgrade is no outage either: a
// namespace that counted as unprotected while its NetworkPolicy was being
// renamed would refuse it.
type prober struct {
	owner      client.Client
	tenant     string
	image      string
	namespaces []string

	mu       sync.Mutex
	failures []string
}

// start runs the prober until the returned stop is called; stop returns
// the number of rounds and what failed.
func (p *prober) start() (stop func() (int, []string)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		rounds := 0
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				done <- rounds
				return
			case <-tick.C:
			}
			rounds++
			for _, ns := range p.namespaces {
				p.round(ctx, ns)
			}
		}
	}()
	return func() (int, []string) {
		cancel()
		rounds := <-done
		p.mu.Lock()
		defer p.mu.Unlock()
		return rounds, p.failures
	}
}

func (p *prober) fail(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
}

func (p *prober) round(ctx context.Context, ns string) {
	for _, tc := range []struct {
		what string
		edit func(*corev1.Pod)
		want []string
	}{
		// A Bulkhead rule: the pod must run in a user namespace.
		{"hostUsers true", func(pod *corev1.Pod) { pod.Spec.HostUsers = ptr.To(true) },
			[]string{"tenant " + p.tenant + ":", "[rule pods.userNamespaces]"}},
		// Pod Security, pinned by Bulkhead on the namespace.
		{"hostNetwork", func(pod *corev1.Pod) { pod.Spec.HostNetwork = true },
			[]string{`violates PodSecurity "restricted:`, "hostNetwork=true"}},
	} {
		err := p.owner.Create(ctx, testutil.Pod(ns, "probe", p.image, tc.edit), client.DryRunAll)
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return
		}
		if err := refusedFor(err, tc.want...); err != nil {
			p.fail("%s: pod with %s: %v", ns, tc.what, err)
		}
	}
	// The tokens policy is renamed too: a token Secret is refused
	// throughout.
	err := p.owner.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "forever", Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
		Type:       corev1.SecretTypeServiceAccountToken,
	}, client.DryRunAll)
	if ctx.Err() != nil {
		return
	}
	if err := refusedFor(err, "tenant "+p.tenant+":", "[rule rbac.tokens]"); err != nil {
		p.fail("%s: token Secret: %v", ns, err)
	}
	if err := p.owner.Create(ctx, testutil.Pod(ns, "probe", p.image), client.DryRunAll); err != nil && ctx.Err() == nil {
		p.fail("%s: an allowed pod was refused: %v", ns, err)
	}
	list := &networkingv1.NetworkPolicyList{}
	if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		if ctx.Err() == nil {
			p.fail("%s: listing NetworkPolicies: %v", ns, err)
		}
		return
	}
	for _, np := range list.Items {
		if isolatesIngress(np) {
			return
		}
	}
	p.fail("%s: no Bulkhead NetworkPolicy isolates ingress of every pod (%d NetworkPolicies)", ns, len(list.Items))
}

// refusedFor is nil when err is a refusal whose message has every want.
func refusedFor(err error, want ...string) error {
	if err == nil {
		return errors.New("admitted")
	}
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		return fmt.Errorf("refused for another reason: %w", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			return fmt.Errorf("refusal %q does not say %q", err.Error(), w)
		}
	}
	return nil
}

// isolatesIngress: a NetworkPolicy Bulkhead wrote that selects every pod
// of its namespace for ingress and admits only named peers (no rule open
// to all, no peer of every namespace or every address), so that anything
// else is denied.
func isolatesIngress(np networkingv1.NetworkPolicy) bool {
	if np.Labels[tenancyv1alpha1.ManagedByLabel] != tenancyv1alpha1.ManagedByValue {
		return false
	}
	if len(np.Spec.PodSelector.MatchLabels) > 0 || len(np.Spec.PodSelector.MatchExpressions) > 0 {
		return false
	}
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		return false
	}
	for _, rule := range np.Spec.Ingress {
		if len(rule.From) == 0 {
			return false
		}
		for _, peer := range rule.From {
			// Every namespace, or every address, is no isolation either.
			if sel := peer.NamespaceSelector; sel != nil && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
				return false
			}
			if peer.IPBlock != nil && (peer.IPBlock.CIDR == "0.0.0.0/0" || peer.IPBlock.CIDR == "::/0") {
				return false
			}
		}
	}
	return true
}

// TestUpgradeBlockedKeepsTheOldPolicyCurrent: an upgrade that cannot create
// the renamed NetworkPolicy (here a quota on NetworkPolicies is full)
// leaves the old one in place, and that old one keeps following the
// Tenant: a peer the Tenant stops allowing loses its access even before
// the new name exists. Once the quota is raised, the rename completes.
func TestUpgradeBlockedKeepsTheOldPolicyCurrent(t *testing.T) {
	const tenant, ns = "frz", "frz-a"
	current, previous := atRenderVersion1(t)
	env.TenantWithNamespace(t, testutil.Tenant(tenant).Owner("frz-owner").Hard().AllowFromTenant("frzpeer").Obj(), ns)
	testenv.Eventually(t, "the previous rendering", func() error { return rendered(tenant, []string{ns}, previous) })

	// An admin's quota holds the namespace at the NetworkPolicies it has.
	full := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "np-count"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/networkpolicies.networking.k8s.io": resource.MustParse("2")}},
	}
	if err := env.Client.Create(ctx, full); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, full) })
	// No controller-manager counts it in this tier: its usage is written
	// as the quota controller would.
	full.Status = corev1.ResourceQuotaStatus{Hard: full.Spec.Hard, Used: full.Spec.Hard}
	if err := env.Client.Status().Update(ctx, full); err != nil {
		t.Fatal(err)
	}
	if err := env.RestartManagerWith(current); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "NetworkReady to report the quota", func() error {
		tn := &tenancyv1alpha1.Tenant{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: tenant}, tn); err != nil {
			return err
		}
		c := meta.FindStatusCondition(tn.Status.Conditions, tenancyv1alpha1.ConditionNetworkReady)
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "exceeded quota") {
			return fmt.Errorf("NetworkReady is %+v", c)
		}
		if !strings.Contains(c.Message, "ResourceQuota") {
			t.Errorf("NetworkReady does not say a ResourceQuota is in the way: %s", c.Message)
		}
		return nil
	})

	// The old-named policy admits frzpeer now: what follows is a change.
	legacy := &networkingv1.NetworkPolicy{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.LegacyIngressPolicy}, legacy); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmt.Sprint(legacy.Spec.Ingress), "frzpeer") {
		t.Fatalf("%s does not admit frzpeer before the change: %+v", legacy.Name, legacy.Spec.Ingress)
	}
	// The Tenant stops allowing frzpeer: the old-named policy follows.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live := &tenancyv1alpha1.Tenant{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: tenant}, live); err != nil {
			return err
		}
		live.Spec.Network.AllowFrom = nil
		return env.Client.Update(ctx, live)
	}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the old-named policy to stop admitting frzpeer", func() error {
		np := &networkingv1.NetworkPolicy{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: render.LegacyIngressPolicy}, np); err != nil {
			return err
		}
		if !isolatesIngress(*np) {
			return fmt.Errorf("%s no longer isolates ingress: %+v", np.Name, np.Spec)
		}
		if strings.Contains(fmt.Sprint(np.Spec.Ingress), "frzpeer") {
			return fmt.Errorf("%s still admits frzpeer: %+v", np.Name, np.Spec.Ingress)
		}
		return nil
	})

	// The quota goes: the rename completes.
	if err := env.Client.Delete(ctx, full); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the current rendering", func() error { return rendered(tenant, []string{ns}, current) })
}
