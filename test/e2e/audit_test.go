package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/bulkhead-dev/bulkhead/internal/audit"
	"github.com/bulkhead-dev/bulkhead/internal/cli"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// runAudit runs `kubectl bulkhead audit` as the cluster admin, auditing
// user in groups, and returns its report and error.
func runAudit(t *testing.T, user string, groups ...string) (cli.Report, error) {
	t.Helper()
	args := []string{"--kubeconfig", env.Cluster.Kubeconfig, "audit", "--as", user, "-o", "json"}
	for _, g := range groups {
		args = append(args, "--as-group", g)
	}
	var out, errOut bytes.Buffer
	cmd := cli.NewCommand(genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	var r cli.Report
	if jerr := json.Unmarshal(out.Bytes(), &r); jerr != nil {
		t.Fatalf("audit %v: %v; output %q is not a report: %v", args, err, out.String(), jerr)
	}
	return r, err
}

// byStatus lists the IDs of the checks with status s.
func byStatus(r cli.Report, s audit.Status) []string {
	var out []string
	for _, res := range r.Results {
		if res.Status == s {
			out = append(out, res.ID)
		}
	}
	return out
}

func wantStatuses(t *testing.T, who string, r cli.Report, fail, na []string) {
	t.Helper()
	for _, res := range r.Results {
		t.Logf("%s %s %s: %s", who, res.ID, res.Status, res.Evidence)
	}
	if got := byStatus(r, audit.Fail); !slices.Equal(got, fail) {
		t.Errorf("%s: FAIL %v, want %v", who, got, fail)
	}
	if got := byStatus(r, audit.NotApplicable); !slices.Equal(got, na) {
		t.Errorf("%s: N/A %v, want %v", who, got, na)
	}
	if got := byStatus(r, audit.Error); len(got) > 0 {
		t.Errorf("%s: inconclusive %v", who, got)
	}
	if len(r.Results) != 19 {
		t.Errorf("%s: %d results, want the 19 checks", who, len(r.Results))
	}
}

// TestAuditCommand runs `kubectl bulkhead audit` against a live cluster:
// every applicable check passes for a Hard and a Soft tenant's owner and
// a Hard tenant's member (the checks the profile does not promise, or the
// role cannot try, are N/A); an owner given cluster-admin makes exactly
// the checks about cluster and cross-tenant access fail, with a non-zero
// exit.
func TestAuditCommand(t *testing.T) {
	ctx := context.Background()
	env.TenantWithNamespace(t, testutil.Tenant("aud").Hard().Owner("aud-owner").Group("aud-admins").Member("aud-dev").Obj(), "aud-a")
	env.TenantWithNamespace(t, testutil.Tenant("auds").Soft().Owner("auds-owner").Obj(), "auds-a")

	r, err := runAudit(t, "aud-owner")
	if err != nil {
		t.Errorf("audit of a Hard owner: %v", err)
	}
	if r.Tenant != "aud" || r.Role != audit.RoleOwner || r.Namespace != "aud-a" || r.Other == "" {
		t.Errorf("audited %s as %s in %s (other %q); want aud, owner, aud-a, another tenant's namespace", r.Tenant, r.Role, r.Namespace, r.Other)
	}
	wantStatuses(t, "Hard owner", r, nil, nil)

	r, err = runAudit(t, "someone", "aud-admins")
	if err != nil || r.Role != audit.RoleOwner {
		t.Errorf("audit of an owner by group: role %s, %v", r.Role, err)
	}

	r, err = runAudit(t, "aud-dev")
	if err != nil {
		t.Errorf("audit of a Hard member: %v", err)
	}
	wantStatuses(t, "Hard member", r, nil, []string{"PL2-BC-OPS-3", "PL2-BC-OPS-4"})

	r, err = runAudit(t, "auds-owner")
	if err != nil {
		t.Errorf("audit of a Soft owner: %v", err)
	}
	wantStatuses(t, "Soft owner", r, nil, []string{"PL1-BC-CPI-4", "PL1-BC-CPI-6", "PL1-CC-FNS-1", "PL1-CC-FNS-2", "PL1-CC-DI-1"})

	// Weakened: the owner is made a cluster admin behind Bulkhead's back.
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "aud-owner-is-admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "aud-owner"}}}
	if err := env.Client.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), crb) })
	testenv.Eventually(t, "aud-owner is a cluster admin", func() error {
		return testenv.CanI(env.As("aud-owner"), "delete", "nodes", "")
	})
	r, err = runAudit(t, "aud-owner")
	if !errors.Is(err, cli.ErrChecksFailed) {
		t.Errorf("audit of a weakened owner: %v, want %v (a non-zero exit)", err, cli.ErrChecksFailed)
	}
	wantStatuses(t, "owner with cluster-admin", r, []string{"PL1-CC-CPI-1", "PL1-CC-TI-1", "PL1-CC-TI-2", "PL2-CC-TI-1"}, nil)
}
