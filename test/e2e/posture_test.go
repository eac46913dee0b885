package e2e

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/posture"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/setup"
)

// runPosture runs every posture check against cluster as its admin.
func runPosture(t *testing.T, cluster *devcluster.Cluster, c client.Client) map[string]posture.Result {
	t.Helper()
	s := render.DefaultSettings()
	p := &posture.Prober{Config: cluster.Config, Client: c, Namespace: s.ManagerNamespace, SandboxRuntimeClass: s.SandboxRuntimeClass, SystemNamespace: "kube-system"}
	out := map[string]posture.Result{}
	for _, r := range p.Run(context.Background()) {
		t.Logf("%-22s %-5s %s | probe: %s", r.ID, r.Status, r.Evidence, r.Probe)
		out[r.ID] = r
	}
	return out
}

func expectStatus(t *testing.T, results map[string]posture.Result, want map[string]posture.Status) {
	t.Helper()
	for id, status := range want {
		r, ok := results[id]
		switch {
		case !ok:
			t.Errorf("no check %s", id)
		case r.Status != status:
			t.Errorf("%s = %s (%s), want %s", id, r.Status, r.Evidence, status)
		case status == posture.Fail && r.Fix == "":
			t.Errorf("%s fails without saying what to do", id)
		}
	}
}

// TestPostureFlipsWithTheAPIServersConfiguration runs the posture checks on
// the dev cluster, configured safely (Secrets encrypted, an audit log,
// PodSecurity and NodeRestriction on, Bulkhead's webhooks installed), and on
// a second API server started without encryption or an audit log, with
// PodSecurity and NodeRestriction off and anonymous requests allowed to
// list namespaces: each check flips.
func TestPostureFlipsWithTheAPIServersConfiguration(t *testing.T) {
	safe := runPosture(t, env.Cluster, env.Client)
	expectStatus(t, safe, map[string]posture.Status{
		"encryption-at-rest":    posture.Pass,
		"audit-log":             posture.Pass,
		"pod-security":          posture.Pass,
		"admission-policies":    posture.Pass,
		"node-restriction":      posture.Pass,
		"sandbox-runtimeclass":  posture.Pass,
		"webhooks-spare-system": posture.Pass,
	})
	if r := safe["anonymous-access"]; r.Status == posture.Fail || r.Status == posture.Error {
		t.Errorf("anonymous-access on the dev cluster: %s (%s)", r.Status, r.Evidence)
	}

	ctx := context.Background()
	unsafe, err := devcluster.Start(ctx, devcluster.Options{ExtraAPIServerArgs: []string{
		"--encryption-provider-config=",
		"--audit-log-path=",
		"--enable-admission-plugins=",
		"--disable-admission-plugins=PodSecurity",
	}})
	if err != nil {
		t.Fatalf("starting the unsafe API server: %v", err)
	}
	t.Cleanup(unsafe.Stop)
	c, err := client.New(unsafe.Config, client.Options{Scheme: setup.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: render.DefaultSettings().ManagerNamespace}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "posture-node"}},
		// What a careless admin leaves: anyone may list namespaces.
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "list-namespaces"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}}},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "anonymous-list-namespaces"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "list-namespaces"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "system:unauthenticated"}},
		},
	} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
		}
	}
	expectStatus(t, runPosture(t, unsafe, c), map[string]posture.Status{
		"encryption-at-rest":    posture.Fail,
		"audit-log":             posture.Fail,
		"anonymous-access":      posture.Fail,
		"pod-security":          posture.Fail,
		"node-restriction":      posture.Fail,
		"sandbox-runtimeclass":  posture.Fail,
		"user-namespaces":       posture.Warn,
		"webhooks-spare-system": posture.NA,
	})
}
