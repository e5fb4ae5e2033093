package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"

	"showpos/terminal/config/configtest"
	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

// posctl export writes the daemon's export to a file, whole, or to stdout;
// bad flags are usage errors and bad values the daemon's refusals.
func TestExportWritesTheDaemonsExport(t *testing.T) {
	d := startDaemon(t)
	now := time.Now().UTC()
	ts := []store.Transfer{
		{Block: 4, BlockTime: now, TxHash: common.Hash{0xdd}, From: common.Address{3}, Asset: "ETH", Amount: big.NewInt(49_000_000_000_000_000)},
		{Block: 4, BlockTime: now, TxHash: common.Hash{0xde}, From: common.Address{4}, Asset: "ETH", Amount: big.NewInt(1)},
	}
	if err := d.store.Chain(configtest.ChainID).RecordRange(context.Background(), store.WatchCursor{Height: 4}, ts); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "archive.csv")
	day := now.Format(time.DateOnly)
	next := now.Add(24 * time.Hour).Format(time.DateOnly)
	if _, err := posctlRaw(t, "-socket", d.socket, "export", "-from", day, "-to", next, "-o", out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !slices.Equal(recs[0], httpapi.ExportColumns) || recs[1][0] != ts[0].TxHash.Hex() || recs[2][0] != ts[1].TxHash.Hex() {
		t.Fatalf("export: %v", recs)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("files left beside the export: %v", entries)
	}

	raw, err := posctlRaw(t, "-socket", d.socket, "export", "-format", "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var row map[string]string
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &row) != nil || row["amount_display"] != "0.000000000000000001" || row["state"] != "unmatched" {
		t.Fatalf("jsonl: %s", raw)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-from", "yesterday"}, "want RFC 3339"},
		{[]string{"-format", "xml"}, "bad_request"},
		{[]string{"-from", next, "-to", day}, "bad_request"},
		{[]string{"stray"}, "flags only"},
	} {
		if _, err := posctlRaw(t, append([]string{"-socket", d.socket, "export"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("export %v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// fillAndPrune makes a store of n final payments and deletes all but the
// last 10, leaving free pages behind; it returns the kept payments.
func fillAndPrune(t *testing.T, path string, n int) []store.Payment {
	t.Helper()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := store.Open(path, &store.Options{Now: func() time.Time { return at.Add(time.Duration(n+1) * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var hashes []common.Hash
	for i := range n {
		when := at.Add(time.Duration(i) * time.Second)
		id := fmt.Sprintf("r-%d", i)
		r := store.Request{ID: id, Asset: "ETH", Amount: big.NewInt(int64(1000 + i)), CreatedAt: when, ExpiresAt: when.Add(time.Hour), Doc: []byte(`{}`)}
		if err := st.PutRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		p := store.Payment{TxHash: common.BigToHash(big.NewInt(int64(i + 1))), RequestID: id, From: common.Address{byte(i), byte(i >> 8)},
			Nonce: uint64(i), Asset: "ETH", Amount: big.NewInt(int64(1000 + i)), Raw: make([]byte, 300), State: store.PaymentQueued, ChainID: configtest.ChainID}
		if _, _, err := st.Accept(ctx, p, when, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetPaymentState(ctx, p.TxHash, store.PaymentFinal, "", when); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, p.TxHash)
	}
	for {
		r, err := st.Prune(ctx, at.Add(time.Duration(n-10)*time.Second), 200)
		if err != nil {
			t.Fatal(err)
		}
		if !r.More {
			break
		}
	}
	var kept []store.Payment
	for _, h := range hashes[n-10:] {
		p, err := st.Payment(h)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, p)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return kept
}

// posctl store compact rewrites a pruned store smaller, checked by the
// store's Open and its whole scrub, to a new file or in place with a
// backup, and refuses a store posd holds.
func TestStoreCompact(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "showpos.db")
	kept := fillAndPrune(t, path, 2000)

	// A store in use is refused, and nothing is written.
	held, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = posctlRaw(t, "store", "compact", "-store", path, "-o", filepath.Join(dir, "new.db"))
	if err == nil || !strings.Contains(err.Error(), "in use (is posd running? stop it first)") {
		t.Fatalf("compact of a held store: %v", err)
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.db")); !os.IsNotExist(err) {
		t.Fatalf("a refused compaction left new.db: %v", err)
	}

	check := func(t *testing.T, p string) {
		t.Helper()
		st, err := store.Open(p, &store.Options{SealKeyPath: filepath.Join(dir, store.DefaultSealKeyName)})
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		defer st.Close()
		for _, want := range kept {
			got, err := st.Payment(want.TxHash)
			if err != nil || got.State != want.State || got.Seq != want.Seq || got.LastEvent != want.LastEvent {
				t.Fatalf("payment %s in %s: %+v, %v", want.TxHash, p, got, err)
			}
		}
		if c, _ := st.Counts(); c[store.PaymentFinal] != len(kept) {
			t.Fatalf("%s: %d final, want %d", p, c[store.PaymentFinal], len(kept))
		}
	}
	raw, err := posctlRaw(t, "store", "compact", "-store", path, "-o", filepath.Join(dir, "new.db"))
	if err != nil {
		t.Fatal(err)
	}
	var res compactResult
	if err := json.Unmarshal(raw, &res); err != nil || res.BytesAfter <= 0 || res.BytesAfter >= res.BytesBefore || res.VerifiedBytes < res.BytesAfter/2 {
		t.Fatalf("compact: %s (%v)", raw, err)
	}
	t.Logf("compacted %d bytes to %d", res.BytesBefore, res.BytesAfter)
	check(t, filepath.Join(dir, "new.db"))
	if _, err := posctlRaw(t, "store", "compact", "-store", path, "-o", filepath.Join(dir, "new.db")); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("compact onto an existing file: %v", err)
	}

	if raw, err = posctlRaw(t, "store", "compact", "-store", path, "-in-place"); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.Backup != path+".before-compact" {
		t.Fatalf("in place: %s", raw)
	}
	check(t, path)
	if fi, err := os.Stat(path); err != nil || fi.Size() != res.BytesAfter {
		t.Errorf("the store after compacting in place: %v, %v", fi, err)
	}
	check(t, res.Backup)

	for _, args := range [][]string{{"store"}, {"store", "compact"}, {"store", "compact", "-o", "x", "-in-place"}} {
		if _, err := posctlRaw(t, args...); err == nil || !strings.Contains(err.Error(), "store") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// A store whose settled history is damaged opens (store.Open reads only
// the bounded set: the scrub checks history after READY), and bbolt's
// compaction copies the damaged record as it is; compact scrubs the new
// file whole before it replaces anything, so it refuses, naming the
// record, and neither writes -o nor touches the store in place.
func TestStoreCompactRefusesDamageOpenDoesNotRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "showpos.db")
	kept := fillAndPrune(t, path, 50)
	damaged := kept[0].TxHash
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("payments"))
		v := append([]byte(nil), b.Get(damaged[:])...)
		if len(v) == 0 {
			return fmt.Errorf("payment %s not in the payments bucket", damaged)
		}
		v[0] ^= 0x01 // a bit flip: the record's CRC no longer matches
		return b.Put(damaged[:], v)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	// The premise: the bounded Open does not read it.
	st, err := store.Open(path, &store.Options{SealKeyPath: filepath.Join(dir, store.DefaultSealKeyName)})
	if err != nil {
		t.Fatalf("open with a settled payment damaged: %v (want it opened: the scrub checks settled history)", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{"-o", filepath.Join(dir, "new.db")}, {"-in-place"}} {
		_, err := posctlRaw(t, append([]string{"store", "compact", "-store", path}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "nothing replaced") || !strings.Contains(err.Error(), "payments") ||
			!strings.Contains(err.Error(), fmt.Sprintf("%x", damaged[:])) {
			t.Fatalf("compact %v of a store with damaged history: %v; want it refused, naming payments %x", args, err, damaged)
		}
		t.Logf("compact %v: %v", args, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "showpos.db" && e.Name() != store.JournalPath("showpos.db") && e.Name() != store.DefaultSealKeyName {
			t.Errorf("a refused compaction left %s", e.Name())
		}
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Errorf("a refused compaction in place changed the store (%v)", err)
	}
}

// posctl unmatched ack N acknowledges an unmatched receipt; an unknown
// number is the daemon's refusal.
func TestUnmatchedAck(t *testing.T) {
	d := startDaemon(t)
	tr := store.Transfer{Block: 4, BlockTime: time.Now(), TxHash: common.Hash{0xdd}, From: common.Address{3},
		Asset: "ETH", Amount: big.NewInt(49_000_000_000_000_000)}
	if err := d.store.Chain(configtest.ChainID).RecordRange(context.Background(), store.WatchCursor{Height: 4}, []store.Transfer{tr}); err != nil {
		t.Fatal(err)
	}
	got, err := posctl(t, "-socket", d.socket, "unmatched", "ack", "1")
	if err != nil {
		t.Fatal(err)
	}
	if got["txHash"] != tr.TxHash.Hex() || got["acknowledgedAt"] == nil {
		t.Fatalf("unmatched ack: %v", got)
	}
	if _, err := posctl(t, "-socket", d.socket, "unmatched", "ack", "2"); err == nil || !strings.Contains(err.Error(), "unknown_receipt") {
		t.Errorf("unknown receipt: %v", err)
	}
	if _, err := posctl(t, "-socket", d.socket, "unmatched", "ack"); err == nil || !strings.Contains(err.Error(), "one receipt number") {
		t.Errorf("no number: %v", err)
	}
}

// An older build's store (schema 12, with payments) is not compacted: it
// needs its home chain, which posd gives it at start; the operator is
// told so, and nothing is written.
func TestStoreCompactOfAnOlderStoreSaysStartPosdFirst(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../terminal/store/testdata/schema12.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "showpos.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = posctlRaw(t, "store", "compact", "-store", path, "-o", filepath.Join(dir, "new.db"))
	if err == nil || !strings.Contains(err.Error(), "start posd on it once") {
		t.Fatalf("compact of a schema 12 store: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.db")); !os.IsNotExist(err) {
		t.Fatalf("a refused compaction left new.db: %v", err)
	}
}
