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

func TestStoreScrubRate(t *testing.T) {
	for _, tc := range []struct {
		name string
		toml string // under [store]; "" sets nothing
		want int64
		bad  bool
	}{
		{name: "unset is the default", want: DefaultScrubRate},
		{name: "MiB", toml: `scrub_rate = "4MiB"`, want: 4 << 20},
		{name: "KiB", toml: `scrub_rate = "512KiB"`, want: 512 << 10},
		{name: "bytes", toml: `scrub_rate = "4096B"`, want: 4096},
		{name: "zero is unbounded", toml: `scrub_rate = "0"`, want: 0},
		{name: "no unit", toml: `scrub_rate = "8"`, bad: true},
		{name: "zero with a unit", toml: `scrub_rate = "0MiB"`, bad: true},
		{name: "a fraction", toml: `scrub_rate = "1.5MiB"`, bad: true},
		{name: "negative", toml: `scrub_rate = "-1MiB"`, bad: true},
		{name: "per second written out", toml: `scrub_rate = "8MiB/s"`, bad: true},
		{name: "not a string", toml: `scrub_rate = 8`, bad: true},
	} {
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
			if c.Store.ScrubRate != tc.want {
				t.Fatalf("scrub rate %d, want %d", c.Store.ScrubRate, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
