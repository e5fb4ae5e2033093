package store

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"showpos/terminal/sealkey"
)

// A copy of the store file alone must not yield any service key: the
// secret's bytes appear nowhere in the file, after registration and after
// a rotation.
func TestStoreFileHoldsNoServiceKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := putClient(t, s, "sn_raw")
	rotated := []byte("rotated-key-0123456789-abcdef")
	if _, err := s.RotateClientKey(ctx, c.Number, rotated, time.Hour, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range [][]byte{c.Keys[0].Secret, rotated} {
		assertAbsent(t, raw, secret)
	}
}

// assertAbsent fails if the file's bytes hold secret as is or in an
// encoding a record could use (JSON's base64, base64url, hex).
func assertAbsent(t *testing.T, raw, secret []byte) {
	t.Helper()
	for enc, form := range map[string][]byte{
		"raw":       secret,
		"base64":    []byte(base64.StdEncoding.EncodeToString(secret)[:20]),
		"base64url": []byte(base64.RawURLEncoding.EncodeToString(secret)[:20]),
		"hex":       []byte(hex.EncodeToString(secret)[:20]),
	} {
		if i := bytes.Index(raw, form); i >= 0 {
			t.Errorf("the store file holds the service key %q (%s) at offset %d", secret, enc, i)
		}
	}
}

// encodeClearClient is a client record as schemas 1 and 2 wrote it: the
// keys in the clear, base64 in JSON (the encoding this build replaced).
func encodeClearClient(c Client) ([]byte, error) {
	rec := clientRecord{Number: c.Number, Name: c.Name, Role: c.Role,
		Revoked: storeTime(c.Revoked), Created: storeTime(c.Created)}
	for _, k := range c.Keys {
		rec.Keys = append(rec.Keys, clientKeyR{Secret: k.Secret, NotAfter: storeTime(k.NotAfter)})
	}
	return json.Marshal(rec)
}

// reopen closes s and opens path again with the sealing key at keyPath
// ("" for the default beside the store), logging into logs if given.
func reopenWith(t *testing.T, path, keyPath string, logs *bytes.Buffer) (*Store, error) {
	t.Helper()
	o := &Options{SealKeyPath: keyPath}
	if logs != nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	s, err := Open(path, o)
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

// A store holding sealed keys is refused, with ErrSealKey naming the key
// file, when its key file is missing or holds another key; the refusal
// makes no key and changes neither file. A store holding none takes a new
// key: nobody is locked out.
func TestOpenRefusesAMissingOrForeignSealingKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		clients bool
		prepare func(t *testing.T, keyPath string) (useKey string)
		err     error
		mention []string
	}{
		{"key file missing", true, func(t *testing.T, keyPath string) string {
			if err := os.Remove(keyPath); err != nil {
				t.Fatal(err)
			}
			return keyPath
		}, ErrSealKey, []string{"is missing", "restore it from the backup"}},
		{"another key in its place", true, func(t *testing.T, keyPath string) string {
			if err := os.WriteFile(keyPath, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return keyPath
		}, ErrSealKey, []string{"is not the one that sealed"}},
		{"another terminal's key file", true, func(t *testing.T, keyPath string) string {
			other := filepath.Join(t.TempDir(), "other.key")
			if _, err := Open(filepath.Join(filepath.Dir(other), "other.db"), &Options{SealKeyPath: other}); err != nil {
				t.Fatal(err)
			}
			return other
		}, ErrSealKey, []string{"is not the one that sealed"}},
		{"key file readable by others", true, func(t *testing.T, keyPath string) string {
			if err := os.Chmod(keyPath, 0o644); err != nil {
				t.Fatal(err)
			}
			return keyPath
		}, sealkey.ErrLoosePermissions, []string{"chmod 600"}},
		{"no clients, key file missing: a new key", false, func(t *testing.T, keyPath string) string {
			if err := os.Remove(keyPath); err != nil {
				t.Fatal(err)
			}
			return keyPath
		}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, keyPath := filepath.Join(dir, "pos.db"), filepath.Join(dir, DefaultSealKeyName)
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.clients {
				putClient(t, s, "sn_a")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			useKey := tc.prepare(t, keyPath)
			before, _ := os.ReadFile(path)
			keyBefore, keyErr := os.ReadFile(useKey)

			s, err = reopenWith(t, path, useKey, nil)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				putClient(t, s, "sn_b") // the new key seals
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("Open = %v, want %v", err, tc.err)
			}
			for _, m := range append(tc.mention, useKey) {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			t.Logf("Open: %v", err)
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the refused store file changed")
			}
			keyAfter, keyErr2 := os.ReadFile(useKey)
			if !bytes.Equal(keyBefore, keyAfter) || (keyErr == nil) != (keyErr2 == nil) {
				t.Errorf("the refusal changed the key file (before: %v, after: %v)", keyErr, keyErr2)
			}
		})
	}
}

// A record changed or moved by someone who can write the store file but
// lacks the sealing key (CRC recomputed, so it looks intact) is damage for
// that client: Client fails with ErrCorrupt, never returns a key to try.
// The other clients keep working, Open still opens (and logs the damaged
// client), and the damaged client can still be revoked.
func TestChangedOrSwappedClientRecordsDoNotOpen(t *testing.T) {
	type rec = map[string]any
	for _, tc := range []struct {
		name   string
		change func(a, b rec) (newA rec) // a is the record under "sn_a", b under "sn_b"
	}{
		{"sealed key swapped with another client's", func(a, b rec) rec {
			a["keys"].([]any)[0].(rec)["sealed"] = b["keys"].([]any)[0].(rec)["sealed"]
			return a
		}},
		{"whole record of another client", func(a, b rec) rec { return b }},
		{"record renumbered to its new place", func(a, b rec) rec { b["number"] = "sn_a"; return b }},
		{"role raised to fleet", func(a, b rec) rec { a["role"] = "fleet"; return a }},
		{"revocation removed", func(a, b rec) rec { delete(a, "revoked"); return a }},
		{"old key's grace extended", func(a, b rec) rec {
			a["keys"].([]any)[1].(rec)["not_after"] = "2999-01-01T00:00:00Z"
			return a
		}},
		{"old key made current", func(a, b rec) rec {
			delete(a["keys"].([]any)[1].(rec), "not_after")
			return a
		}},
		{"keys reordered", func(a, b rec) rec {
			ks := a["keys"].([]any)
			ks[0], ks[1] = ks[1], ks[0]
			return a
		}},
		{"a key in the clear added", func(a, b rec) rec {
			a["keys"] = append(a["keys"].([]any), rec{"secret": base64.StdEncoding.EncodeToString([]byte("attacker-key-0123456789"))})
			return a
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pos.db")
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			putClient(t, s, "sn_a")
			if _, err := s.RotateClientKey(ctx, "sn_a", []byte("second-key-of-a-0123456789"), time.Hour, t0); err != nil {
				t.Fatal(err)
			}
			putClient(t, s, "sn_b")
			putClient(t, s, "sn_c")
			var a, b rec
			if err := s.view(func(tx *bbolt.Tx) error {
				for n, r := range map[string]*rec{"sn_a": &a, "sn_b": &b} {
					v, err := getChecked(tx, bucketClients, []byte(n))
					if err != nil {
						return err
					}
					if err := json.Unmarshal(v, r); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if tc.name == "revocation removed" {
				// RevokeClient drops the keys; a record revoked with its
				// keys still sealed (as bound to the revocation) is what
				// stripping "revoked" would have to start from.
				c, err := s.Client("sn_a")
				if err != nil {
					t.Fatal(err)
				}
				c.Revoked = t0
				enc, err := encodeClient(c, s.key)
				if err != nil {
					t.Fatal(err)
				}
				a = nil
				if err := json.Unmarshal(enc, &a); err != nil {
					t.Fatal(err)
				}
			}
			forged, err := json.Marshal(tc.change(a, b))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket(bucketClients).Put([]byte("sn_a"), seal(bucketClients, []byte("sn_a"), forged))
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			var logs bytes.Buffer
			s, err = reopenWith(t, path, "", &logs)
			if err != nil {
				t.Fatalf("Open with one damaged client: %v", err)
			}
			if !strings.Contains(logs.String(), "client=sn_a") || !strings.Contains(logs.String(), "damaged") {
				t.Errorf("Open did not log the damaged client:\n%s", logs.String())
			}
			got, err := s.Client("sn_a")
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Client(sn_a) = %+v, %v; want ErrCorrupt", got, err)
			}
			if _, err := s.Clients(); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Clients: %v, want ErrCorrupt", err)
			}
			if _, err := s.RotateClientKey(ctx, "sn_a", []byte("third-key-of-a-0123456789"), 0, t0); !errors.Is(err, ErrCorrupt) {
				t.Errorf("RotateClientKey(sn_a): %v, want ErrCorrupt", err)
			}
			if c, err := s.Client("sn_c"); err != nil || string(c.Keys[0].Secret) != "secret-sn_c-0123456789" {
				t.Errorf("another client: %+v, %v", c, err)
			}
			if tc.name == "whole record of another client" || tc.name == "record renumbered to its new place" {
				return // the record says sn_b (or lies): nothing of sn_a's to revoke
			}
			r, err := s.RevokeClient(ctx, "sn_a", t0.Add(time.Minute))
			if err != nil || r.Revoked.IsZero() || len(r.Keys) != 0 {
				t.Fatalf("revoking the damaged client: %+v, %v", r, err)
			}
			if c, err := s.Client("sn_a"); err != nil || c.Revoked.IsZero() {
				t.Fatalf("after revoking: %+v, %v", c, err)
			}
		})
	}
}

// writeSchema2 writes a schema 2 store (CRCs, keys in the clear) through
// bbolt directly, as the build before sealing did: the clients, a request
// and the meta bucket.
func writeSchema2(t *testing.T, path string, clients ...Client) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	encR, err := encodeRequest(newRequest("r-old"))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketBySeq).SetSequence(41); err != nil {
			return err
		}
		put := func(b, k, v []byte) error { return tx.Bucket(b).Put(k, seal(b, k, v)) }
		if err := put(bucketMeta, keySchema, []byte("2")); err != nil {
			return err
		}
		if err := put(bucketRequests, []byte("r-old"), encR); err != nil {
			return err
		}
		for _, c := range clients {
			enc, err := encodeClearClient(c)
			if err != nil {
				return err
			}
			if err := put(bucketClients, []byte(c.Number), enc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A schema 2 store (keys in the clear) is sealed at Open: afterwards no
// key is anywhere in the file (freed pages included), every client has
// the keys it had, a revoked client's are dropped, the rest of the store
// is as it was, and no temporary file is left.
func TestOpenSealsASchema2Store(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pos.db")
	active := newClient("sn_active")
	active.Keys = append(active.Keys, ClientKey{Secret: []byte("old-key-in-grace-0123456789"), NotAfter: t0.Add(time.Hour)})
	revoked := newClient("sn_revoked")
	revoked.Revoked = t0
	writeSchema2(t, path, active, revoked)
	// A copy left by a sealing that crashed mid-way goes.
	if err := os.WriteFile(filepath.Join(dir, ".pos.db.seal-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secrets := [][]byte{active.Keys[0].Secret, active.Keys[1].Secret, revoked.Keys[0].Secret}
	for _, k := range secrets {
		if !bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(k)[:20])) {
			t.Fatalf("the schema 2 fixture does not hold %q in the clear: the test would prove nothing", k)
		}
	}

	var logs bytes.Buffer
	s, err := reopenWith(t, path, "", &logs)
	if err != nil {
		t.Fatalf("Open of a schema 2 store: %v", err)
	}
	if !strings.Contains(logs.String(), "migrating schema 2 to 3") || !strings.Contains(logs.String(), "keys_sealed=2") {
		t.Errorf("the log does not report the sealing:\n%s", logs.String())
	}
	if got, err := s.Client(active.Number); err != nil || !reflect.DeepEqual(got, active) {
		t.Errorf("Client(active) = %+v, %v; want %+v", got, err, active)
	}
	if got, err := s.Client(revoked.Number); err != nil || !got.Revoked.Equal(t0) || len(got.Keys) != 0 {
		t.Errorf("Client(revoked) = %+v, %v; want revoked with no key", got, err)
	}
	if _, err := s.Request("r-old"); err != nil {
		t.Errorf("the request did not survive: %v", err)
	}
	putRequest(t, s, "r-new")
	if got := mustAccept(t, s, newPayment("r-new")); got.Seq != 42 {
		t.Errorf("Seq after sealing: %d, want 42 (the bucket sequence was lost)", got.Seq)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range secrets {
		assertAbsent(t, raw, k)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("directory holds %d entries, want the store, its journal and its key (a temporary file left?)", len(entries))
	}

	logs.Reset()
	s, err = reopenWith(t, path, "", &logs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "migrat") {
		t.Errorf("the second Open migrated again:\n%s", logs.String())
	}
	if got, err := s.Client(active.Number); err != nil || !reflect.DeepEqual(got, active) {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
	// Sealed now, the store needs this key from here on.
	_ = s.Close()
	if err := os.Remove(filepath.Join(dir, DefaultSealKeyName)); err != nil {
		t.Fatal(err)
	}
	if _, err := reopenWith(t, path, "", nil); !errors.Is(err, ErrSealKey) {
		t.Fatalf("Open without the key after sealing: %v, want ErrSealKey", err)
	}
}

// A schema 2 store with no client key (none registered, or only revoked
// ones... here none) is migrated in place: no copy.
func TestOpenMigratesASchema2StoreWithoutKeysInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	writeSchema2(t, path)
	var logs bytes.Buffer
	s, err := reopenWith(t, path, "", &logs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "no service key to seal") {
		t.Errorf("log:\n%s", logs.String())
	}
	putClient(t, s, "sn_new")
	if err := s.view(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketMeta, keySchema)
		if err == nil && string(v) != schemaVersion {
			t.Errorf("schema %q, want %q", v, schemaVersion)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkClientLookup is what each signed request pays to read its
// client: a read transaction, the CRC, the JSON and, since schema 3,
// opening the sealed key (AES-256-GCM) of a client with a key in grace.
func BenchmarkClientLookup(b *testing.B) {
	s := openTemp(b)
	c := newClient("sn_bench")
	if err := s.PutClient(ctx, c); err != nil {
		b.Fatal(err)
	}
	if _, err := s.RotateClientKey(ctx, c.Number, []byte("second-key-0123456789abcdef"), time.Hour, t0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Client(c.Number); err != nil {
			b.Fatal(err)
		}
	}
}
