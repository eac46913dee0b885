package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// proxyWorld is two tenants seen through bulkhead-proxy and straight from
// the API server: px-a (owner pxa-owner, group pxa-team, node pool
// pool=pxa) with namespace px-a-one, and px-b (owner pxb-owner) with
// px-b-one.
type proxyWorld struct {
	viaA, directA, viaB *kubernetes.Clientset
	viaACfg             *rest.Config
}

func setupProxyWorld(t *testing.T, p string) proxyWorld {
	t.Helper()
	a := testutil.Tenant(p + "-a").Owner(p + "a-owner").Group(p + "a-team").NodePool(map[string]string{"pool": p + "a"}).StorageClasses(p + "-fast").Obj()
	env.TenantWithNamespace(t, a, p+"-a-one")
	env.TenantWithNamespace(t, testutil.Tenant(p+"-b").Owner(p+"b-owner").Obj(), p+"-b-one")
	for name, pool := range map[string]string{p + "a-node-1": p + "a", p + "a-node-2": p + "a", p + "other-node": "other"} {
		env.Ensure(t, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"pool": pool}}})
	}
	mk := func(cfg *rest.Config, err error) *kubernetes.Clientset {
		if err != nil {
			t.Fatal(err)
		}
		return kubernetes.NewForConfigOrDie(cfg)
	}
	viaACfg, err := testenv.ProxyConfig(env.Cluster, proxySrv.Addr, p+"a-owner")
	if err != nil {
		t.Fatal(err)
	}
	return proxyWorld{
		viaA:    mk(viaACfg, nil),
		viaACfg: viaACfg,
		directA: mk(testenv.DirectConfig(env.Cluster, p+"a-owner")),
		viaB:    mk(testenv.ProxyConfig(env.Cluster, proxySrv.Addr, p+"b-owner")),
	}
}

func namespaceNames(list *corev1.NamespaceList) []string {
	var out []string
	for _, ns := range list.Items {
		out = append(out, ns.Name)
	}
	return out
}

// TestProxyNamespaces: an owner lists, gets and watches namespaces through
// the proxy and sees only its tenant's; going straight to the API server it
// sees no more, whatever selector it tries; another tenant's namespace
// answers as one that does not exist.
func TestProxyNamespaces(t *testing.T) {
	w := setupProxyWorld(t, "px")
	testenv.Eventually(t, "px-a's namespaces through the proxy", func() error {
		list, err := w.viaA.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if got := namespaceNames(list); !slices.Equal(got, []string{"px-a-one"}) {
			return fmt.Errorf("sees %v", got)
		}
		return nil
	})
	for _, opts := range []metav1.ListOptions{
		{LabelSelector: tenancyv1alpha1.TenantLabel + "=px-b"},
		{LabelSelector: tenancyv1alpha1.TenantLabel + " in (px-a,px-b)"},
		{LabelSelector: "!" + tenancyv1alpha1.TenantLabel},
		{ResourceVersion: "0"},
		{FieldSelector: "metadata.name=px-b-one"},
	} {
		list, err := w.viaA.CoreV1().Namespaces().List(ctx, opts)
		if err != nil {
			t.Errorf("through the proxy with %+v: %v", opts, err)
			continue
		}
		for _, name := range namespaceNames(list) {
			if name != "px-a-one" {
				t.Errorf("through the proxy with %+v, px-a's owner sees %s", opts, name)
			}
		}
	}

	// Straight to the API server: the same list with the selector the
	// proxy adds is allowed (the authorization webhook), nothing wider.
	list, err := w.directA.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: tenancyv1alpha1.TenantLabel + "=px-a"})
	if err != nil || !slices.Equal(namespaceNames(list), []string{"px-a-one"}) {
		t.Errorf("directly, with px-a's selector: %v, %v; want px-a-one", namespaceNames(list), err)
	}
	for _, sel := range []string{"", tenancyv1alpha1.TenantLabel + "=px-b", tenancyv1alpha1.TenantLabel + " in (px-a,px-b)", tenancyv1alpha1.TenantLabel, "!" + tenancyv1alpha1.TenantLabel, tenancyv1alpha1.TenantLabel + "!=px-b"} {
		_, err := w.directA.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot list resource "namespaces"`) {
			t.Errorf("directly, with selector %q: %v; want RBAC's refusal", sel, err)
		}
	}

	// Another tenant's namespace answers as a missing one.
	_, errOther := w.viaA.CoreV1().Namespaces().Get(ctx, "px-b-one", metav1.GetOptions{})
	_, errMissing := w.viaA.CoreV1().Namespaces().Get(ctx, "px-nothing", metav1.GetOptions{})
	if !apierrors.IsNotFound(errOther) || !apierrors.IsNotFound(errMissing) {
		t.Errorf("get px-b-one: %v; get a missing one: %v; want both NotFound", errOther, errMissing)
	}
	if o, m := strings.ReplaceAll(errOther.Error(), "px-b-one", "X"), strings.ReplaceAll(errMissing.Error(), "px-nothing", "X"); o != m {
		t.Errorf("another tenant's namespace answers %q, a missing one %q: they must not differ", o, m)
	}
	if ns, err := w.viaA.CoreV1().Namespaces().Get(ctx, "px-a-one", metav1.GetOptions{}); err != nil || ns.Name != "px-a-one" {
		t.Errorf("get own namespace: %v", err)
	}

	// A watch (with bookmarks) sees the tenant's new namespace, never the
	// other tenant's.
	wi, err := w.viaA.CoreV1().Namespaces().Watch(ctx, metav1.ListOptions{AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer wi.Stop()
	testenv.OwnerCreatesNamespace(t, env.As("pxb-owner"), "px-b-two")
	testenv.OwnerCreatesNamespace(t, env.As("pxa-owner"), "px-a-two")
	deadline := time.After(30 * time.Second)
	for seen := false; !seen; {
		select {
		case ev := <-wi.ResultChan():
			ns, ok := ev.Object.(*corev1.Namespace)
			if !ok || ev.Type == watch.Bookmark {
				continue
			}
			if ns.Labels[tenancyv1alpha1.TenantLabel] != "px-a" {
				t.Errorf("the watch shows %s %s, of tenant %q", ev.Type, ns.Name, ns.Labels[tenancyv1alpha1.TenantLabel])
			}
			seen = ns.Name == "px-a-two"
		case <-deadline:
			t.Fatal("the watch never showed px-a-two")
		}
	}

	// As a table, as kubectl asks.
	rows := tableRows(t, w.viaACfg, "/api/v1/namespaces")
	if slices.Contains(rows, "px-b-one") || !slices.Contains(rows, "px-a-one") {
		t.Errorf("table rows %v", rows)
	}
}

// tableRows GETs path as a Table through cfg and returns each row's name.
func tableRows(t *testing.T, cfg *rest.Config, path string) []string {
	t.Helper()
	status, body := rawGet(t, cfg, path, "application/json;as=Table;v=v1;g=meta.k8s.io", nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s as a table: %d %s", path, status, body)
	}
	var table metav1.Table
	if err := json.Unmarshal(body, &table); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range table.Rows {
		var obj metav1.PartialObjectMetadata
		_ = json.Unmarshal(r.Object.Raw, &obj)
		if len(r.Cells) > 0 {
			out = append(out, fmt.Sprint(r.Cells[0]))
		}
	}
	return out
}

// rawGet sends GET path through cfg with accept and extra headers.
func rawGet(t *testing.T, cfg *rest.Config, path, accept string, header http.Header) (int, []byte) {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestProxyNodesTenantsAndAcrossNamespaces: nodes of the tenant's pool only,
// none for a tenant without one; its own Tenant only; a list across
// namespaces merged from its own, and a watch across them refused.
func TestProxyNodesTenantsAndAcrossNamespaces(t *testing.T) {
	w := setupProxyWorld(t, "py")
	testenv.Eventually(t, "py-a's nodes", func() error {
		nodes, err := w.viaA.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		var got []string
		for _, n := range nodes.Items {
			got = append(got, n.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"pya-node-1", "pya-node-2"}) {
			return fmt.Errorf("sees nodes %v", got)
		}
		return nil
	})
	if _, err := w.viaA.CoreV1().Nodes().Get(ctx, "pyother-node", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a node outside the pool: %v, want NotFound", err)
	}
	if n, err := w.viaA.CoreV1().Nodes().Get(ctx, "pya-node-1", metav1.GetOptions{}); err != nil || n.Name != "pya-node-1" {
		t.Errorf("a node of the pool: %v", err)
	}
	if nodes, err := w.viaB.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil || len(nodes.Items) != 0 {
		t.Errorf("a tenant without a pool sees %d nodes (%v), want none", len(nodes.Items), err)
	}
	for _, sel := range []string{"pool=other", "", "pool in (pya,other)"} {
		_, err := w.directA.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot list resource "nodes"`) {
			t.Errorf("directly, nodes with selector %q: %v; want RBAC's refusal", sel, err)
		}
	}
	if nodes, err := w.directA.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "pool=pya"}); err != nil || len(nodes.Items) != 2 {
		t.Errorf("directly, the pool's own selector: %v; want its two nodes, as through the proxy", err)
	}

	tenants := &tenancyv1alpha1.TenantList{}
	viaA, err := client.New(w.viaACfg, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "py-a's own Tenant", func() error {
		if err := viaA.List(ctx, tenants); err != nil {
			return err
		}
		if len(tenants.Items) != 1 || tenants.Items[0].Name != "py-a" {
			return fmt.Errorf("sees %d tenants", len(tenants.Items))
		}
		return nil
	})
	if err := viaA.Get(ctx, client.ObjectKey{Name: "py-b"}, &tenancyv1alpha1.Tenant{}); !apierrors.IsNotFound(err) {
		t.Errorf("another Tenant: %v, want NotFound", err)
	}

	// Storage classes: px-a may use py-fast only; px-b is not restricted.
	for _, sc := range []string{"py-fast", "py-slow"} {
		env.Ensure(t, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: sc}, Provisioner: "example.com/none"})
	}
	testenv.Eventually(t, "py-a's storage classes", func() error {
		list, err := w.viaA.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) != 1 || list.Items[0].Name != "py-fast" {
			return fmt.Errorf("sees %d storage classes", len(list.Items))
		}
		return nil
	})
	if _, err := w.viaA.StorageV1().StorageClasses().Get(ctx, "py-slow", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a storage class the tenant may not use: %v, want NotFound", err)
	}
	if _, err := w.directA.StorageV1().StorageClasses().Get(ctx, "py-fast", metav1.GetOptions{}); err != nil {
		t.Errorf("directly, a storage class the tenant may use: %v", err)
	}
	if _, err := w.directA.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot list resource "storageclasses"`) {
		t.Errorf("directly, every storage class: %v; want RBAC's refusal", err)
	}
	if _, err := w.directA.StorageV1().StorageClasses().Get(ctx, "py-slow", metav1.GetOptions{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot get resource "storageclasses"`) {
		t.Errorf("directly, a storage class the tenant may not use: %v; want RBAC's refusal", err)
	}
	if list, err := w.viaB.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{}); err != nil || len(list.Items) < 2 {
		t.Errorf("a tenant not restricted: %v; want every storage class", err)
	}

	for ns, name := range map[string]string{"py-a-one": "mine", "py-b-one": "theirs"} {
		env.Ensure(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})
	}
	cms, err := w.viaA.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("configmaps across namespaces: %v", err)
	}
	for _, cm := range cms.Items {
		if !strings.HasPrefix(cm.Namespace, "py-a-") {
			t.Errorf("across namespaces, py-a's owner sees %s/%s", cm.Namespace, cm.Name)
		}
	}
	if !slices.ContainsFunc(cms.Items, func(cm corev1.ConfigMap) bool { return cm.Name == "mine" }) {
		t.Errorf("across namespaces, py-a's own ConfigMap is missing")
	}
	_, err = w.viaA.CoreV1().ConfigMaps("").Watch(ctx, metav1.ListOptions{})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "watch one namespace at a time") {
		t.Errorf("a watch across namespaces: %v; want it refused with a message", err)
	}
}

// TestProxyIdentity: no credentials is 401; impersonation headers from the
// client are dropped, never honoured; a bearer token is the token's user;
// the API server's audit log names the real user.
func TestProxyIdentity(t *testing.T) {
	w := setupProxyWorld(t, "pz")
	anonymous := &rest.Config{Host: w.viaACfg.Host, TLSClientConfig: rest.TLSClientConfig{CAData: w.viaACfg.CAData}}
	if status, _ := rawGet(t, anonymous, "/api/v1/namespaces", "", nil); status != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", status)
	}
	bogus := rest.CopyConfig(anonymous)
	bogus.BearerToken = "not-a-token"
	if status, _ := rawGet(t, bogus, "/api/v1/namespaces", "", nil); status != http.StatusUnauthorized {
		t.Errorf("a made-up token: %d, want 401", status)
	}

	// Forged impersonation: the owner claims to be a cluster admin.
	forged := http.Header{"Impersonate-User": {"bulkhead-admin"}, "Impersonate-Group": {"system:masters"}}
	status, body := rawGet(t, w.viaACfg, "/api/v1/namespaces/pz-b-one/secrets", "", forged)
	if status != http.StatusForbidden || !strings.Contains(string(body), `User \"pza-owner\" cannot list resource \"secrets\"`) {
		t.Errorf("forged impersonation: %d %s; want RBAC refusing pza-owner", status, body)
	}

	// A service account's token, through the proxy, is that service account.
	env.Ensure(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "pz-b-one", Name: "robot"}})
	robot, err := testenv.TokenConfig(ctx, env.Cluster, w.viaACfg.Host, "pz-b-one", "robot", 600)
	if err != nil {
		t.Fatal(err)
	}
	review := &authenticationv1.SelfSubjectReview{}
	robotClient, err := client.New(robot, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	if err := robotClient.Create(ctx, review); err != nil || review.Status.UserInfo.Username != "system:serviceaccount:pz-b-one:robot" {
		t.Errorf("the token's user through the proxy: %q, %v", review.Status.UserInfo.Username, err)
	}
	testenv.Eventually(t, "the robot sees px-b's namespaces", func() error {
		list := &corev1.NamespaceList{}
		if err := robotClient.List(ctx, list); err != nil {
			return err
		}
		if got := namespaceNames(list); len(got) == 0 || slices.ContainsFunc(got, func(n string) bool { return !strings.HasPrefix(n, "pz-b-") }) {
			return fmt.Errorf("sees %v", got)
		}
		return nil
	})

	// The robot's token is forwarded as it came: the audit log names the
	// robot itself.
	robotMarker := "audit-robot-" + fmt.Sprint(time.Now().UnixNano())
	_ = robotClient.Get(ctx, client.ObjectKey{Namespace: "pz-b-one", Name: robotMarker}, &corev1.ConfigMap{})
	testenv.Eventually(t, "the audit log names the robot", func() error {
		return auditNames(robotMarker, "system:serviceaccount:pz-b-one:robot", "")
	})
	// Forged impersonation with a token is dropped too.
	status, body = rawGet(t, robot, "/api/v1/namespaces/pz-a-one/secrets", "", forged)
	if status != http.StatusForbidden || !strings.Contains(string(body), `system:serviceaccount:pz-b-one:robot\" cannot list resource \"secrets\"`) {
		t.Errorf("forged impersonation with a token: %d %s; want RBAC refusing the robot", status, body)
	}

	// The audit log names the owner (a client certificate), impersonated
	// by the proxy.
	marker := "audit-marker-" + fmt.Sprint(time.Now().UnixNano())
	_, _ = w.viaA.CoreV1().ConfigMaps("pz-a-one").Get(ctx, marker, metav1.GetOptions{})
	testenv.Eventually(t, "the audit log names pza-owner", func() error {
		return auditNames(marker, "pza-owner", "system:serviceaccount:bulkhead-system:"+testenv.ProxyServiceAccount)
	})
}

// auditNames finds the audit event of a request for name, complete, and
// checks that it was sent by by, impersonating user; with by empty, that
// user sent it itself, with no impersonation.
func auditNames(name, user, by string) error {
	f, err := os.Open(filepath.Join(env.Cluster.Dir, "logs", "audit.log"))
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), name) {
			continue
		}
		var ev struct {
			Stage            string                     `json:"stage"`
			User             authenticationv1.UserInfo  `json:"user"`
			ImpersonatedUser *authenticationv1.UserInfo `json:"impersonatedUser"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return err
		}
		if ev.Stage != "ResponseComplete" {
			continue
		}
		impersonated := ""
		if ev.ImpersonatedUser != nil {
			impersonated = ev.ImpersonatedUser.Username
		}
		switch {
		case by == "" && (ev.User.Username != user || impersonated != ""):
			return fmt.Errorf("the audit event names %s impersonating %q; want %s itself", ev.User.Username, impersonated, user)
		case by != "" && (ev.User.Username != by || impersonated != user):
			return fmt.Errorf("the audit event names %s impersonating %q; want %s impersonating %s", ev.User.Username, impersonated, by, user)
		}
		return nil
	}
	return fmt.Errorf("no complete audit event for %s yet", name)
}
