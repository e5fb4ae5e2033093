package keyfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A published key reads back as it was, from a file only its owner may
// read, and a second Publish to the same name replaces nothing.
func TestPublishThenRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.key")
	key := bytes.Repeat([]byte{0xa5}, Size)
	if err := Publish(path, key); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path, "the test key")
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Read = %x, %v; want %x", got, err, key)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", info.Mode().Perm())
	}
	other := bytes.Repeat([]byte{0x5a}, Size)
	if err := Publish(path, other); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Publish over an existing key: %v, want fs.ErrExist", err)
	}
	if got, _ := Read(path, "the test key"); !bytes.Equal(got, key) {
		t.Errorf("the key changed to %x", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want the key alone (no temporary copy left)", len(entries))
	}
}

// What Read refuses; the errors name the key and never quote the file.
func TestReadRefuses(t *testing.T) {
	good := strings.Repeat("ab", Size)
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    error
	}{
		{"group readable", good, 0o640, ErrLoosePermissions},
		{"others writable", good, 0o602, ErrLoosePermissions},
		{"short", good[:62], 0o600, ErrMalformed},
		{"two keys", good + "\n" + good, 0o600, ErrMalformed},
		{"not hex", strings.Repeat("zq", Size), 0o600, ErrMalformed},
		{"huge", strings.Repeat("a", 5000), 0o600, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.key")
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path, "the test key")
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), good[:16]) {
				t.Errorf("the error quotes the file: %v", err)
			}
		})
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none"), "the test key"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}
