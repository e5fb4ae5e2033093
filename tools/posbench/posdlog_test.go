package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"showpos/terminal/procio"
)

// The boot-read rows take posd's own figure from its "posd ready" line,
// as posd's text logger (slog.NewTextHandler, cmd/posd's main) writes it:
// the last such line, its read_bytes and rchar. A line without them is an
// error, never a zero that would pass the bound.
func TestBootReadInReadsPosdsReadyLine(t *testing.T) {
	readyLine := func(attrs ...any) string {
		var b bytes.Buffer
		slog.New(slog.NewTextHandler(&b, nil)).Info("posd ready", attrs...)
		return b.String()
	}
	base := []any{"terminal", "till 4", "networks", []string{"chain-1337"}, "store", "/var/lib/my store/read_bytes=9 rchar=9", "config_version", 0}
	for _, tc := range []struct {
		name string
		log  string
		want procio.IO // zero: an error
	}{
		{"posd's line", "time=x level=INFO msg=\"store: opened\" part=store\n" + readyLine(append(base, "read_bytes", int64(155648), "rchar", int64(15974))...) +
			"time=x level=INFO msg=\"store scrub started\" part=scrub read_bytes=1\n",
			procio.IO{ReadBytes: 155648, RChar: 15974}},
		{"the last ready line", readyLine("read_bytes", 1, "rchar", 2) + readyLine("read_bytes", 3, "rchar", 4), procio.IO{ReadBytes: 3, RChar: 4}},
		{"among lines that are not slog's", "panic: x\n\ngoroutine 1 [running]:\n" + readyLine("read_bytes", 5, "rchar", 6) + "exit status 2\n", procio.IO{ReadBytes: 5, RChar: 6}},
		{"no /proc/self/io", readyLine(append(base, "read_io_error", errors.New("open /proc/self/io: no such file or directory"))...), procio.IO{}},
		{"no read_bytes", readyLine("rchar", 6), procio.IO{}},
		{"no rchar", readyLine("read_bytes", 5), procio.IO{}},
		{"not a number", readyLine("read_bytes", "many", "rchar", 6), procio.IO{}},
		{"a posd that says nothing of it", readyLine(base...), procio.IO{}},
		{"no ready line", "time=x level=INFO msg=\"store: opened\" read_bytes=5 rchar=6\n", procio.IO{}},
		{"empty", "", procio.IO{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bootReadIn(strings.NewReader(tc.log))
			if tc.want == (procio.IO{}) {
				if err == nil {
					t.Errorf("no error; read %+v from:\n%s", got, tc.log)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v; log:\n%s", got, err, tc.want, tc.log)
			}
		})
	}
}
