package keeper

import (
	"bytes"
	"os"
	"path/filepath"
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

func TestRenewalDue(t *testing.T) {
	now := time.Now()
	data := mustIssue(t, []string{"localhost"})
	due := renewalDue(data, now)
	// The certificate lives servingLifetime from issue; it is due renewBefore earlier.
	if want := now.Add(servingLifetime - renewBefore); due.Sub(want).Abs() > time.Minute {
		t.Errorf("renewalDue = %v, want about %v", due, want)
	}
	if !valid(data, []string{"localhost"}, due.Add(-time.Second)) || valid(data, []string{"localhost"}, due.Add(time.Second)) {
		t.Error("valid and renewalDue disagree on when the certificate must be renewed")
	}
	if got := renewalDue(map[string][]byte{}, now); !got.Equal(now) {
		t.Errorf("renewalDue of no certificate = %v, want now", got)
	}
}

func TestWriteIfChanged(t *testing.T) {
	dir := t.TempDir()
	data := mustIssue(t, []string{"localhost"})
	for _, step := range []struct {
		name      string
		data      map[string][]byte
		wantWrite bool
	}{
		{"first write", data, true},
		{"same bytes again leave the files alone", data, false},
		{"a new certificate is written", mustIssue(t, []string{"localhost"}), true},
	} {
		wrote, err := writeIfChanged(dir, step.data)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if wrote != step.wantWrite {
			t.Errorf("%s: wrote = %v, want %v", step.name, wrote, step.wantWrite)
		}
		for _, name := range certFiles {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || !bytes.Equal(got, step.data[name]) {
				t.Errorf("%s: %s does not hold the certificate's bytes (%v)", step.name, name, err)
			}
		}
	}
}
