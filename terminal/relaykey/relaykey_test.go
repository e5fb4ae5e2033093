package relaykey

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// The first start makes a private key file; the next reads the same
// account back.
func TestFirstStartCreatesThenLoadsSameAccount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relayer.key")
	k1, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("create: %v, created %v", err, created)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("mode %04o, want 0600", perm)
	}
	k2, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("load: %v, created %v", err, created)
	}
	if k1.Address != k2.Address || k1.Address == ([20]byte{}) {
		t.Fatalf("address %s then %s", k1.Address, k2.Address)
	}
}

// A key file others may read, a damaged one, or a missing directory is
// refused with its error, and nothing is created in its place.
func TestRefusals(t *testing.T) {
	cases := []struct {
		name    string
		content string
		mode    os.FileMode
		want    error
	}{
		{"readable by others", "0x" + repeat("11", 32), 0o644, ErrLoosePermissions},
		{"not hex", repeat("zz", 32), 0o600, ErrMalformed},
		{"zero key", repeat("00", 32), 0o600, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relayer.key")
			if err := os.WriteFile(path, []byte(tc.content+"\n"), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tc.mode)
			if _, _, err := LoadOrCreate(path); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			b, _ := os.ReadFile(path)
			if string(b) != tc.content+"\n" {
				t.Fatal("the refused file was changed")
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absent", "relayer.key")
		if _, _, err := LoadOrCreate(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err %v, want not exist", err)
		}
	})
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}
