package auth_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"showpos/device/clock/clocktest"
	"showpos/terminal/auth"
	"showpos/terminal/store"
)

// envAt is a terminal on the store file at path as it is: no client is
// registered.
func envAt(t *testing.T, path string) *env {
	t.Helper()
	e := &env{t: t, path: path, clock: clocktest.NewFake(t0)}
	e.open()
	return e
}

// wantNoKeyIn fails if the file at path holds any of the service keys, as
// they are or in an encoding a record could use.
func wantNoKeyIn(t *testing.T, path string, keys ...[]byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		for _, form := range []string{string(k), base64.StdEncoding.EncodeToString(k)[:20], hex.EncodeToString(k)[:20]} {
			if bytes.Contains(raw, []byte(form)) {
				t.Errorf("%s holds the service key %q (as %q)", path, k, form)
			}
		}
	}
}

// A service key survives a restart sealed: the store file holds it in no
// form, the client's signed requests still pass through a real server, and
// the store will not open without the key file it was sealed with, or with
// another one.
func TestSealedServiceKeyVerifiesAfterRestartAndNeedsItsKeyFile(t *testing.T) {
	e := newEnv(t)
	e.wantOK(e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce()), regNumber+" ")
	e.restart()
	e.wantOK(e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce()), regNumber+" ")
	e.close()
	wantNoKeyIn(t, e.path, regKey, fleetKey)

	keyPath := filepath.Join(filepath.Dir(e.path), store.DefaultSealKeyName)
	sealKey, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, prepare := range map[string]func(){
		"without its key file": func() { _ = os.Remove(keyPath) },
		"with another key":     func() { _ = os.WriteFile(keyPath, []byte(strings.Repeat("5a", 32)+"\n"), 0o600) },
	} {
		prepare()
		s, err := store.Open(e.path, nil)
		if err == nil {
			s.Close()
			t.Fatalf("%s: the store opened", name)
		}
		if !errors.Is(err, store.ErrSealKey) || !strings.Contains(err.Error(), keyPath) {
			t.Fatalf("%s: %v; want ErrSealKey naming %s", name, err, keyPath)
		}
	}
	if err := os.WriteFile(keyPath, sealKey, 0o600); err != nil {
		t.Fatal(err)
	}
	e.open() // the key file restored from backup: it all works again
	e.wantOK(e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce()), regNumber+" ")
}

// A store written by the build before sealing (testdata, made by a275c8d's
// outbox with the two clients newEnv registers) holds the keys in the
// clear; opened now, it is sealed and its clients' requests still pass.
func TestStoreFromBeforeSealingIsSealedAndStillVerifies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	gunzip(t, "testdata/schema2-clients.db.gz", path)
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(regKey)[:20])) {
		t.Fatal("the fixture does not hold the key in the clear: the test would prove nothing")
	}
	e := envAt(t, path)
	e.wantOK(e.signed("POST", "/v1/requests", `{"amount":"1"}`, regNumber, regKey, e.nonce()), regNumber+` {"amount":"1"}`)
	e.wantRefused(e.signed("GET", "/v1/x", "", regNumber, fleetKey, e.nonce()), http.StatusUnauthorized, auth.CodeBadSignature)
	e.close()
	wantNoKeyIn(t, path, regKey, fleetKey)
}

// A register client's record given the fleet client's sealed key (by
// someone who can write the store file but lacks the sealing key) is store
// damage: its requests are answered 500, with either key, never passed.
func TestSwappedSealedKeyIsRefusedAsDamage(t *testing.T) {
	e := newEnv(t)
	e.close()
	db, err := bbolt.Open(e.path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	bucket := []byte("clients")
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		var reg, fleet map[string]any
		for _, r := range []struct {
			number string
			rec    *map[string]any
		}{{regNumber, &reg}, {fleetNumber, &fleet}} {
			v := b.Get([]byte(r.number))
			if err := json.Unmarshal(v[:len(v)-4], r.rec); err != nil {
				return err
			}
		}
		reg["keys"] = fleet["keys"]
		forged, err := json.Marshal(reg)
		if err != nil {
			return err
		}
		return b.Put([]byte(regNumber), withCRC(bucket, []byte(regNumber), forged))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	e.open()
	for _, key := range [][]byte{fleetKey, regKey} {
		e.wantRefused(e.signed("GET", "/v1/x", "", regNumber, key, e.nonce()), http.StatusInternalServerError, auth.CodeInternal)
	}
}

// withCRC is the store's value framing (terminal/store/checksum.go): value,
// then CRC-32C over uvarint(len(bucket)) || bucket || uvarint(len(key)) ||
// key || value, 4 bytes big-endian. An attacker can compute it too.
func withCRC(bucket, key, value []byte) []byte {
	tab := crc32.MakeTable(crc32.Castagnoli)
	var msg []byte
	msg = binary.AppendUvarint(msg, uint64(len(bucket)))
	msg = append(msg, bucket...)
	msg = binary.AppendUvarint(msg, uint64(len(key)))
	msg = append(msg, key...)
	msg = append(msg, value...)
	return binary.BigEndian.AppendUint32(bytes.Clone(value), crc32.Checksum(msg, tab))
}

func gunzip(t *testing.T, from, to string) {
	t.Helper()
	f, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
