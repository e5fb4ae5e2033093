package sealkey

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestCreateThenLoadOpensWhatWasSealed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seal.key")
	k1, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created=%v err=%v", created, err)
	}
	secret, ad := []byte("sk_the-service-key-0123456789"), []byte("sn_1")
	sealed := k1.Seal(secret, ad)
	if len(sealed) != len(secret)+Overhead {
		t.Errorf("sealed %d bytes, want %d", len(sealed), len(secret)+Overhead)
	}
	if bytes.Contains(sealed, secret) {
		t.Error("the sealed value holds the secret")
	}
	k2, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created=%v err=%v", created, err)
	}
	got, err := k2.Open(sealed, ad)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open with the reloaded key: %q, %v", got, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", info.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file", len(entries))
	}
	if k2.String() != path {
		t.Errorf("String() = %q, want the path", k2.String())
	}
}

func TestOpenRefusesWhatItDidNotSeal(t *testing.T) {
	dir := t.TempDir()
	k, _, err := LoadOrCreate(filepath.Join(dir, "a.key"))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := LoadOrCreate(filepath.Join(dir, "b.key"))
	if err != nil {
		t.Fatal(err)
	}
	secret, ad := []byte("sk_the-service-key-0123456789"), []byte("sn_1|0")
	sealed := k.Seal(secret, ad)
	flip := func(i int) []byte { b := bytes.Clone(sealed); b[i] ^= 1; return b }
	for _, tc := range []struct {
		name   string
		key    *Key
		sealed []byte
		ad     []byte
	}{
		{"another key", other, sealed, ad},
		{"other associated data", k, sealed, []byte("sn_2|0")},
		{"no associated data", k, sealed, nil},
		{"version changed", k, flip(0), ad},
		{"nonce changed", k, flip(1), ad},
		{"ciphertext changed", k, flip(1 + nonceSize), ad},
		{"tag changed", k, flip(len(sealed) - 1), ad},
		{"truncated", k, sealed[:Overhead-1], ad},
		{"empty", k, nil, ad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.Open(tc.sealed, tc.ad)
			if !errors.Is(err, ErrNotOpened) || got != nil {
				t.Fatalf("Open = %q, %v; want ErrNotOpened", got, err)
			}
		})
	}
}

func TestSealingTwiceGivesDifferentValues(t *testing.T) {
	k, _, err := LoadOrCreate(filepath.Join(t.TempDir(), "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := k.Seal([]byte("same-secret-0123456789"), nil), k.Seal([]byte("same-secret-0123456789"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one secret are equal: the nonce is not fresh")
	}
}

func TestLoadRefusals(t *testing.T) {
	const good = "8f1e0c2b4a6d8f1e0c2b4a6d8f1e0c2b4a6d8f1e0c2b4a6d8f1e0c2b4a6d8f1e\n"
	for _, tc := range []struct {
		name    string
		content string
		mode    fs.FileMode
		err     error
		mention []string
	}{
		{"group readable", good, 0o640, ErrLoosePermissions, []string{"chmod 600", "0640"}},
		{"world readable", good, 0o604, ErrLoosePermissions, []string{"chmod 600"}},
		{"group writable", good, 0o620, ErrLoosePermissions, []string{"chmod 600"}},
		{"empty", "", 0o600, ErrMalformed, []string{"64 hex digits"}},
		{"short", good[:62] + "\n", 0o600, ErrMalformed, []string{"64 hex digits"}},
		{"not hex", strings.Repeat("zz", 32) + "\n", 0o600, ErrMalformed, []string{"not hexadecimal"}},
		{"two keys", good + good, 0o600, ErrMalformed, nil},
		{"huge", strings.Repeat("a", 1<<16), 0o600, ErrMalformed, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seal.key")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			for _, load := range []func(string) (*Key, error){
				Load,
				func(p string) (*Key, error) { k, _, err := LoadOrCreate(p); return k, err },
			} {
				k, err := load(path)
				if !errors.Is(err, tc.err) || k != nil {
					t.Fatalf("load = %v, %v; want %v", k, err, tc.err)
				}
				for _, m := range append(tc.mention, path) {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not mention %q", err, m)
					}
				}
				if strings.Contains(err.Error(), strings.TrimSpace(good)) {
					t.Errorf("error %q quotes the key", err)
				}
			}
			if b, err := os.ReadFile(path); err != nil || string(b) != tc.content {
				t.Errorf("a refused key file changed (err %v)", err)
			}
		})
	}
}

func TestLoadNeverCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.key")
	if _, err := Load(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Load created the key file")
	}
}

func TestMissingDirectoryIsNotCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, _, err := LoadOrCreate(filepath.Join(dir, "seal.key"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("LoadOrCreate in a missing directory: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the directory was created")
	}
}

func TestConcurrentStartersAgreeOnOneKey(t *testing.T) {
	for range 10 {
		path := filepath.Join(t.TempDir(), "seal.key")
		const n = 8
		var (
			wg      sync.WaitGroup
			keys    [n]*Key
			created [n]bool
			errs    [n]error
		)
		for i := range n {
			wg.Go(func() { keys[i], created[i], errs[i] = LoadOrCreate(path) })
		}
		wg.Wait()
		sealed := (*Key)(nil)
		creators := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("starter %d: %v", i, errs[i])
			}
			if created[i] {
				creators++
			}
			if sealed == nil {
				sealed = keys[i]
			}
			if _, err := keys[i].Open(sealed.Seal([]byte("x"), nil), nil); err != nil {
				t.Fatalf("starter %d holds another key", i)
			}
		}
		if creators != 1 {
			t.Fatalf("%d starters made a key, want 1", creators)
		}
	}
}
