package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// auditEvent is what RequestsOf reads of one audit log line.
type auditEvent struct {
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	// ImpersonatedUser is who the request acted as: dev cluster processes
	// such as bulkhead-manager authenticate as the admin and impersonate
	// their service account.
	ImpersonatedUser *struct {
		Username string `json:"username"`
	} `json:"impersonatedUser"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	StageTimestamp time.Time `json:"stageTimestamp"`
}

// RequestsOf counts the requests user made between from and to, watches
// aside, read from the dev cluster's audit logs in dir (its logs
// directory), keyed by "resource[/subresource] verb fieldManager": which
// controller wrote or read what, and how often. A server-side apply is a
// patch; its field manager names the controller ("-" for reads).
func RequestsOf(dir, user string, from, to time.Time) (map[string]int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "audit*.log"))
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, f := range files {
		if err := countWrites(f, user, from, to, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func countWrites(path, user string, from, to time.Time, out map[string]int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		who := e.User.Username
		if e.ImpersonatedUser != nil {
			who = e.ImpersonatedUser.Username
		}
		if e.Stage != "ResponseComplete" || who != user || e.Verb == "watch" || e.ObjectRef == nil {
			continue
		}
		if e.StageTimestamp.Before(from) || e.StageTimestamp.After(to) {
			continue
		}
		resource := e.ObjectRef.Resource
		if e.ObjectRef.Subresource != "" {
			resource += "/" + e.ObjectRef.Subresource
		}
		manager := "-"
		if u, err := url.Parse(e.RequestURI); err == nil && u.Query().Get("fieldManager") != "" {
			manager = u.Query().Get("fieldManager")
		}
		out[resource+" "+e.Verb+" "+manager]++
	}
	return sc.Err()
}

// ByCount prints counts as "T in all, k1 n1, k2 n2, ...": the total, then
// each key, most first (ties by key); most > 0 keeps only that many keys.
func ByCount[V int | float64](counts map[string]V, most int) string {
	keys := make([]string, 0, len(counts))
	var total V
	for k, v := range counts {
		keys = append(keys, k)
		total += v
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if most > 0 && len(keys) > most {
		keys = keys[:most]
	}
	parts := []string{fmt.Sprintf("%.0f in all", float64(total))}
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, float64(counts[k])))
	}
	return strings.Join(parts, ", ")
}
