package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// [webhooks]: sync/webhook's defaults; out-of-range values refused by name.
func TestWebhooksTable(t *testing.T) {
	def := Webhooks{GiveUp: 24 * time.Hour, Timeout: 10 * time.Second, MaxBackoff: 10 * time.Minute}
	for _, tc := range []struct {
		name, to  string
		want      Webhooks
		wantInErr string
	}{
		{"default", "", def, ""},
		{"set", "[webhooks]\ngive_up = \"2h\"\ntimeout = \"3s\"\nmax_backoff = \"1m\"\nallow_http = true\nallow_loopback = true\n",
			Webhooks{GiveUp: 2 * time.Hour, Timeout: 3 * time.Second, MaxBackoff: time.Minute, AllowHTTP: true, AllowLoopback: true}, ""},
		{"give_up too short", "[webhooks]\ngive_up = \"10s\"\n", Webhooks{}, "webhooks.give_up"},
		{"give_up too long", "[webhooks]\ngive_up = \"721h\"\n", Webhooks{}, "webhooks.give_up"},
		{"timeout too long", "[webhooks]\ntimeout = \"2m\"\n", Webhooks{}, "webhooks.timeout"},
		{"max_backoff too short", "[webhooks]\nmax_backoff = \"100ms\"\n", Webhooks{}, "webhooks.max_backoff"},
		{"an unknown key", "[webhooks]\nsecret = \"x\"\n", Webhooks{}, "webhooks.secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(strings.Replace(good, "[merchant]", tc.to+"[merchant]", 1)))
			if tc.wantInErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantInErr) {
					t.Fatalf("err = %v, want ErrInvalid naming %q", err, tc.wantInErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Webhooks != tc.want {
				t.Errorf("webhooks %+v, want %+v", c.Webhooks, tc.want)
			}
		})
	}
}
