package termkey

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

func TestCreateThenLoadGivesSameAddress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "terminal.key")
	k1, created, err := LoadOrCreate(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !created {
		t.Error("first call on a missing file reported created=false")
	}
	k2, created, err := LoadOrCreate(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if created {
		t.Error("second call reported created=true")
	}
	if a1, a2 := crypto.PubkeyToAddress(k1.PublicKey), crypto.PubkeyToAddress(k2.PublicKey); a1 != a2 {
		t.Errorf("loaded key has address %s, created %s", a2, a1)
	}
}

func TestCreatedFileIsPrivateAndAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "terminal.key")
	if _, _, err := LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %04o, want 0600", perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 65 || b[64] != '\n' {
		t.Errorf("key file is %d bytes %q…, want 64 hex digits and a newline", len(b), b[:min(len(b), 8)])
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the key file (temporary file left behind?)", names)
	}
}

func TestLoadsHandWrittenKey(t *testing.T) {
	const hexKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	want := "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
	for _, content := range []string{hexKey, hexKey + "\n", "0x" + hexKey + "\n", "  " + hexKey + "\r\n"} {
		path := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		key, created, err := LoadOrCreate(path)
		if err != nil {
			t.Fatalf("LoadOrCreate(%q): %v", content, err)
		}
		if created {
			t.Error("existing key reported as created")
		}
		if got := crypto.PubkeyToAddress(key.PublicKey).Hex(); got != want {
			t.Errorf("address %s, want %s", got, want)
		}
	}
}

func TestRefusals(t *testing.T) {
	const good = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n"
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
		{"empty file", "", 0o600, ErrMalformed, nil},
		{"garbage", "hello, world\n", 0o600, ErrMalformed, nil},
		{"not hex", strings.Repeat("zz", 32) + "\n", 0o600, ErrMalformed, []string{"not hexadecimal"}},
		{"short key", good[:62] + "\n", 0o600, ErrMalformed, []string{"64 hex digits"}},
		{"two keys", good + good, 0o600, ErrMalformed, nil},
		{"zero key", strings.Repeat("0", 64), 0o600, ErrMalformed, []string{"not a valid secp256k1"}},
		{"key above curve order", strings.Repeat("f", 64), 0o600, ErrMalformed, []string{"not a valid secp256k1"}},
		{"huge file", strings.Repeat("a", 1<<20), 0o600, ErrMalformed, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "terminal.key")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			key, created, err := LoadOrCreate(path)
			if !errors.Is(err, tc.err) {
				t.Fatalf("LoadOrCreate = %v, want %v", err, tc.err)
			}
			if key != nil || created {
				t.Errorf("refusal returned key=%v created=%v", key != nil, created)
			}
			msg := err.Error()
			for _, m := range append(tc.mention, path) {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not mention %q", msg, m)
				}
			}
			if strings.Contains(msg, strings.TrimSpace(good)) {
				t.Errorf("error %q quotes the key", msg)
			}
			// A refused file is left exactly as it was.
			b, err := os.ReadFile(path)
			if err != nil || string(b) != tc.content {
				t.Errorf("refused key file changed (err %v)", err)
			}
		})
	}
}

func TestDirectoryIsRefused(t *testing.T) {
	path := t.TempDir()
	if err := os.Chmod(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(path); !errors.Is(err, ErrMalformed) {
		t.Fatalf("LoadOrCreate(directory) = %v, want ErrMalformed", err)
	}
}

func TestMissingParentDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-dir")
	path := filepath.Join(dir, "terminal.key")
	_, _, err := LoadOrCreate(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadOrCreate = %v, want fs.ErrNotExist", err)
	}
	for _, m := range []string{dir, "create it"} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
	if _, statErr := os.Stat(dir); !errors.Is(statErr, fs.ErrNotExist) {
		t.Errorf("LoadOrCreate created the missing directory")
	}
}

func TestConcurrentStartersAgreeOnOneKey(t *testing.T) {
	for round := 0; round < 20; round++ {
		path := filepath.Join(t.TempDir(), "terminal.key")
		const n = 8
		var (
			wg      sync.WaitGroup
			addrs   [n]string
			created [n]bool
			errs    [n]error
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key, c, err := LoadOrCreate(path)
				errs[i], created[i] = err, c
				if err == nil {
					addrs[i] = crypto.PubkeyToAddress(key.PublicKey).Hex()
				}
			}()
		}
		wg.Wait()
		creators := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("starter %d: %v", i, errs[i])
			}
			if created[i] {
				creators++
			}
			if addrs[i] != addrs[0] {
				t.Fatalf("starter %d got %s, starter 0 got %s", i, addrs[i], addrs[0])
			}
		}
		if creators != 1 {
			t.Fatalf("%d starters report creating the key, want exactly 1", creators)
		}
	}
}
