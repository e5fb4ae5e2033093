package config

import (
	"errors"
	"testing"
	"time"
)

func TestStoreKeep(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		name string
		toml string // appended to good; "" sets nothing
		want *time.Duration
		bad  bool
	}{
		{name: "unset keeps everything", toml: ""},
		{name: "days", toml: `keep = "90d"`, want: ptr(90 * day)},
		{name: "a Go duration", toml: `keep = "36h"`, want: ptr(36 * time.Hour)},
		{name: "zero prunes as soon as allowed", toml: `keep = "0s"`, want: ptr(time.Duration(0))},
		{name: "zero days", toml: `keep = "0d"`, want: ptr(time.Duration(0))},
		{name: "negative", toml: `keep = "-1h"`, bad: true},
		{name: "negative days", toml: `keep = "-3d"`, bad: true},
		{name: "fractional days", toml: `keep = "1.5d"`, bad: true},
		{name: "no unit", toml: `keep = "90"`, bad: true},
		{name: "beyond ten years", toml: `keep = "3651d"`, bad: true},
		{name: "empty", toml: `keep = ""`, bad: true},
		{name: "not a string", toml: `keep = 90`, bad: true},
		{name: "unknown key", toml: `kept = "90d"`, bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := good
			if tc.toml != "" {
				text += "\n[store]\n" + tc.toml + "\n"
			}
			c, err := Parse([]byte(text))
			if tc.bad {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse: %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch got := c.Store.Keep; {
			case (got == nil) != (tc.want == nil):
				t.Fatalf("keep %v, want %v", got, tc.want)
			case got != nil && *got != *tc.want:
				t.Fatalf("keep %s, want %s", *got, *tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
