package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func TestPrintUsage(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	q := testutil.Quantities
	tu := &tenancyv1alpha1.TenantUsage{
		ObjectMeta: metav1.ObjectMeta{Name: "acme"},
		Status: tenancyv1alpha1.TenantUsageStatus{
			ObservedSince: metav1.NewTime(now.Add(-90 * time.Minute)),
			Requests:      q("cpu", "1", "memory", "1Gi"), Usage: q("cpu", "120m", "memory", "300Mi"), Recommended: q("cpu", "150m", "memory", "360Mi"),
			Containers: []tenancyv1alpha1.ContainerUsage{
				{Namespace: "acme-web", Workload: "Deployment/web", Container: "app", Pods: 2, Samples: 40,
					Request: q("cpu", "500m", "memory", "512Mi"), P95: q("cpu", "0.06", "memory", "150Mi"),
					Peak: q("cpu", "70m", "memory", "170Mi"), Recommendation: q("cpu", "72m", "memory", "180Mi")},
				{Namespace: "acme-web", Workload: "Pod/new", Container: "app", Pods: 1, Samples: 2,
					Request: q("cpu", "100m"), P95: q("cpu", "5m", "memory", "1537Ki")},
			},
			Resizes: []tenancyv1alpha1.Resize{{Time: metav1.NewTime(now), Namespace: "acme-web", Pod: "web-1", Container: "app",
				From: q("cpu", "500m"), To: q("cpu", "84m")}},
		},
	}
	var out bytes.Buffer
	if err := PrintUsage(&out, tu, false, now); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"Tenant acme, over the last 1h30m0s: requests cpu 1000m, memory 1024Mi; using cpu 120m, memory 300Mi; recommended cpu 150m, memory 360Mi",
		// One unit per column: 0.06 cores reads 60m; 1537Ki rounds up to 2Mi.
		"Deployment/web", "60m", "72m", "150Mi", "180Mi",
		"Pod/new", "2Mi",
		"acme-web/web-1 app: cpu 500m -> 84m",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// A container without enough samples has no recommendation yet.
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, "Pod/new") && strings.Count(line, " - ") < 2 {
			t.Errorf("Pod/new row %q: want dashes for its missing memory request and recommendations", line)
		}
	}
}
