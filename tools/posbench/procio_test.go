package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The cold boots drop every regular file of the data directory from the
// page cache, and pass over what is not one (the operator socket, a
// directory) without failing.
func TestEvictDirTakesRegularFilesOnly(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"showpos.db", "terminal.key"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "posd.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, err := evictDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"showpos.db", "terminal.key"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("evicted %v, want %v", got, want)
	}
	if _, err := evictDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing directory: no error")
	}
}

// Idle CPU is a share of one core; the bound rows print it to 0.01%.
func TestCorePercent(t *testing.T) {
	for _, tc := range []struct {
		cpu, over time.Duration
		want      string
	}{
		{300 * time.Millisecond, time.Minute, "0.50%"},
		{10 * time.Millisecond, time.Minute, "0.02%"},
		{0, time.Minute, "0.00%"},
		{90 * time.Second, time.Minute, "150%"},
		{time.Second, 0, "—"},
	} {
		if got := corePercent(tc.cpu, tc.over); got != tc.want {
			t.Errorf("corePercent(%s, %s) = %q, want %q", tc.cpu, tc.over, got, tc.want)
		}
	}
}

// A boot's reads are printed in the unit that shows them: an empty
// store's few KiB are not "0.0 MiB".
func TestSizeFormats(t *testing.T) {
	for _, tc := range []struct {
		b    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {32 << 10, "32.0 KiB"}, {5 << 20, "5.0 MiB"}, {27_700_000, "26.4 MiB"}} {
		if got := size(tc.b); got != tc.want {
			t.Errorf("size(%d) = %q, want %q", tc.b, got, tc.want)
		}
	}
}

// The idle rows are of a posd with no chain and no uplink: its status
// must say so, or the row is not measured.
func TestChainlessRefusesAPosdWithAChain(t *testing.T) {
	for _, tc := range []struct {
		name, status string
		want         string // in the description; "" for an error
	}{
		{"no endpoint", `{"networks":[{"name":"chain-1337","chainId":1337,"online":false,"reason":"no endpoints"}],"queue":{"queued":100000,"broadcast":0}}`,
			`network chain-1337 (chain 1337) offline, no endpoint ("no endpoints"); no MQTT; payments: 100,000 queued`},
		{"empty store", `{"networks":[{"name":"chain-1337","chainId":1337}],"queue":{}}`, "payments: empty"},
		{"an endpoint", `{"networks":[{"name":"chain-1337","chainId":1337,"endpoint":"http://127.0.0.1:8545"}],"queue":{}}`, ""},
		{"the second network online", `{"networks":[{"name":"a","chainId":1},{"name":"b","chainId":2,"online":true}],"queue":{}}`, ""},
		{"mqtt", `{"networks":[{"name":"a","chainId":1}],"mqtt":{"connected":false},"queue":{}}`, ""},
		{"no networks", `{"queue":{}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st chainStatus
			if err := json.Unmarshal([]byte(tc.status), &st); err != nil {
				t.Fatal(err)
			}
			got, err := st.describe()
			if tc.want == "" {
				if err == nil {
					t.Errorf("no error; described %q", got)
				}
				return
			}
			if err != nil || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, %v; want it to hold %q", got, err, tc.want)
			}
		})
	}
}
