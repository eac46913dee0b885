package usage

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		interval, window time.Duration
		min              int
		want             string
	}{
		{time.Minute, 24 * time.Hour, 30, ""},
		{5 * time.Second, 24 * time.Hour, 3, ""},
		{time.Minute, time.Hour, 30, ""},
		{time.Minute, 59 * time.Minute, 30, "at least twice"},
		{-time.Second, time.Hour, 3, "must be positive"},
		{time.Minute, time.Hour, 0, "at least 1"},
	} {
		err := (&Sampler{Interval: c.interval, Window: c.window, MinSamples: c.min}).Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s, %s, %d: %v, want no error", c.interval, c.window, c.min, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s, %s, %d: %v, want an error saying %q", c.interval, c.window, c.min, err, c.want)
		}
	}
}
