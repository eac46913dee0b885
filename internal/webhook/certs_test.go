package webhook

import (
	"testing"
	"time"
)

func TestServingCertificateRenewal(t *testing.T) {
	now := time.Now()
	hosts := []string{"bulkhead-webhook.bulkhead-system.svc"}
	data, err := issue(hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		data  map[string][]byte
		hosts []string
		at    time.Time
		want  bool
	}{
		{"fresh certificate", data, hosts, now, true},
		{"still valid 59 days on", data, hosts, now.Add(59 * 24 * time.Hour), true},
		{"renewed with less than 30 days left", data, hosts, now.Add(61 * 24 * time.Hour), false},
		{"another host is needed", data, []string{"localhost"}, now, false},
		{"no certificate", map[string][]byte{}, hosts, now, false},
		{"key of another certificate", map[string][]byte{"tls.crt": data["tls.crt"], "tls.key": mustIssue(t, hosts)["tls.key"], "ca.crt": data["ca.crt"]}, hosts, now, false},
		{"signed by another CA", map[string][]byte{"tls.crt": data["tls.crt"], "tls.key": data["tls.key"], "ca.crt": mustIssue(t, hosts)["ca.crt"]}, hosts, now, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := valid(tc.data, tc.hosts, tc.at); got != tc.want {
				t.Errorf("valid = %v, want %v", got, tc.want)
			}
		})
	}
}

func mustIssue(t *testing.T, hosts []string) map[string][]byte {
	t.Helper()
	d, err := issue(hosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
