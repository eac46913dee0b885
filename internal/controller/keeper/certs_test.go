package keeper

import (
	"bytes"
	"crypto/x509"
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

// TestUsable: a replica serves a certificate only within its validity and
// for the hosts the webhook is reached by, whatever is left before renewal.
func TestUsable(t *testing.T) {
	now := time.Now()
	hosts := []string{"bulkhead-webhook.bulkhead-system.svc"}
	data := mustIssueAt(t, hosts, now)
	expired := mustIssueAt(t, hosts, now.Add(-servingLifetime-time.Hour))
	for _, tc := range []struct {
		name  string
		data  map[string][]byte
		hosts []string
		at    time.Time
		want  bool
	}{
		{"fresh certificate", data, hosts, now, true},
		{"due for renewal but not expired", data, hosts, now.Add(servingLifetime - time.Hour), true},
		{"expired", expired, hosts, now, false},
		{"not yet valid", data, hosts, now.Add(-2 * time.Hour), false},
		{"for other hosts", data, []string{"localhost"}, now, false},
		{"no certificate", map[string][]byte{}, hosts, now, false},
		{"signed by another CA", map[string][]byte{"tls.crt": data["tls.crt"], "tls.key": data["tls.key"], "ca.crt": mustIssue(t, hosts)["ca.crt"]}, hosts, now, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := usable(tc.data, tc.hosts, tc.at); got != tc.want {
				t.Errorf("usable = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRenewalOverlapsCAs: a renewal keeps the CA it replaces while the
// certificate that CA signed may still be served, and the bundle the
// configurations carry trusts both the old and the new certificate.
func TestRenewalOverlapsCAs(t *testing.T) {
	hosts := []string{"localhost"}
	issuedAt := time.Now().Add(-(servingLifetime - renewBefore) - time.Hour)
	old := mustIssueAt(t, hosts, issuedAt)
	now := time.Now()

	renewed, err := renew(old, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	if !valid(renewed, hosts, now) {
		t.Fatal("the renewed certificate is not valid")
	}
	if !bytes.Equal(renewed[previousCAKey], old["ca.crt"]) {
		t.Errorf("%s does not hold the CA renewed", previousCAKey)
	}
	bundle := caBundle(renewed, now)
	for name, d := range map[string]map[string][]byte{"old": old, "new": renewed} {
		if !trusts(t, bundle, d, hosts, now) {
			t.Errorf("the bundle does not trust the %s certificate", name)
		}
	}

	// A second renewal replaces the previous CA: the bundle holds two CAs
	// at most, and no longer the first.
	again, err := renew(renewed, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again[previousCAKey], renewed["ca.crt"]) {
		t.Errorf("a second renewal kept %s from the first", previousCAKey)
	}
	if trusts(t, caBundle(again, now), old, hosts, now) {
		t.Error("the bundle still trusts the CA of two renewals ago")
	}

	for _, tc := range []struct {
		name string
		old  map[string][]byte
	}{
		{"nothing issued before", nil},
		{"the old certificate has expired", mustIssueAt(t, hosts, now.Add(-servingLifetime-time.Hour))},
		{"the old certificate is unreadable", map[string][]byte{"tls.crt": []byte("x"), "tls.key": []byte("y"), "ca.crt": old["ca.crt"]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := renew(tc.old, hosts, now)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := data[previousCAKey]; ok {
				t.Errorf("kept %s although no replica can be serving what it signed", previousCAKey)
			}
			if got := caBundle(data, now); !bytes.Equal(got, data["ca.crt"]) {
				t.Error("the bundle is not the CA alone")
			}
		})
	}

	if got := caBundle(renewed, now.Add(caLifetime+time.Hour)); bytes.Contains(got, old["ca.crt"]) {
		t.Error("the bundle still carries the previous CA after it expired")
	}
}

// trusts reports whether a client trusting bundle accepts the certificate
// of data for hosts.
func trusts(t *testing.T, bundle []byte, data map[string][]byte, hosts []string, now time.Time) bool {
	t.Helper()
	leaf, ok := leafOf(data)
	if !ok {
		t.Fatal("unreadable certificate")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		t.Fatal("unreadable bundle")
	}
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: hosts[0], Roots: pool, CurrentTime: now})
	return err == nil
}

func mustIssueAt(t *testing.T, hosts []string, at time.Time) map[string][]byte {
	t.Helper()
	d, err := issue(hosts, at)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
