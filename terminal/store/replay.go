package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"go.etcd.io/bbolt"
)

// A journal record (journal.go) is what a journaled write was asked, and
// what it read outside the file:
//
//	kind (1 byte: 'A', an accept) | now (int64, Unix ns) |
//	the event retention (uint64) | the decimals it looked up (a count
//	byte, then each: the asset's length byte and name, 1 if known, the
//	decimals) | lim.Unsettled, lim.PerPayer (each: length byte, 0 for
//	none, then the decimal digits) | payment hash (32 bytes) | the
//	payment as given, encodePayment's form
//
// Run again against the file as it was when it was answered, with the
// same retention and decimals, it writes what it wrote (replay), whatever
// the config says at the next start.
const recordAccept = 'A'

// assetDecimals is one lookup of Options.Decimals an accept made (for its
// events' amount_display).
type assetDecimals struct {
	asset    string
	decimals uint8
	ok       bool
}

// seeDecimals records in *seen every decimals lookup w makes until the
// returned func puts w back.
func (w *wtx) seeDecimals(seen *[]assetDecimals) (restore func()) {
	dec := w.decimals
	if dec == nil {
		return func() {}
	}
	w.decimals = func(asset string) (uint8, bool) {
		d, ok := dec(asset)
		*seen = append(*seen, assetDecimals{asset, d, ok})
		return d, ok
	}
	return func() { w.decimals = dec }
}

// acceptRecord is the record of Accept's write of p at now under lim, with
// the event retention and the decimals lookups it made.
func acceptRecord(p Payment, now time.Time, lim Limits, retention uint64, seen []assetDecimals) ([]byte, error) {
	enc, err := encodePayment(p)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+8+8+1+2+32+len(enc)+2*80)
	b = append(b, recordAccept)
	b = binary.BigEndian.AppendUint64(b, uint64(now.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, retention)
	if len(seen) > 255 {
		return nil, fmt.Errorf("journal record: %d decimals lookups", len(seen))
	}
	b = append(b, byte(len(seen)))
	for _, d := range seen {
		if len(d.asset) > 255 {
			return nil, fmt.Errorf("journal record: asset name of %d bytes", len(d.asset))
		}
		ok := byte(0)
		if d.ok {
			ok = 1
		}
		b = append(append(append(b, byte(len(d.asset))), d.asset...), ok, d.decimals)
	}
	for _, n := range []*big.Int{lim.Unsettled, lim.PerPayer} {
		if n == nil {
			b = append(b, 0)
			continue
		}
		d := n.String()
		if len(d) > 255 || n.Sign() < 0 {
			return nil, fmt.Errorf("journal record: limit %s out of range", d)
		}
		b = append(append(b, byte(len(d))), d...)
	}
	b = append(b, p.TxHash[:]...)
	return append(b, enc...), nil
}

// acceptAsked is what an accept record holds.
type acceptAsked struct {
	p         Payment
	now       time.Time
	lim       Limits
	retention uint64
	decimals  []assetDecimals
}

// decodeAcceptRecord reads acceptRecord's form.
func decodeAcceptRecord(b []byte) (acceptAsked, error) {
	bad := func(why string) (acceptAsked, error) {
		return acceptAsked{}, fmt.Errorf("journal record: %s: %w", why, ErrCorrupt)
	}
	if len(b) < 1+8+8+1 || b[0] != recordAccept {
		return bad("not an accept")
	}
	var a acceptAsked
	a.now = time.Unix(0, int64(binary.BigEndian.Uint64(b[1:]))).UTC()
	a.retention = binary.BigEndian.Uint64(b[9:])
	n := int(b[17])
	b = b[18:]
	for range n {
		if len(b) < 1 || len(b) < 1+int(b[0])+2 {
			return bad("short decimals")
		}
		l := int(b[0])
		a.decimals = append(a.decimals, assetDecimals{asset: string(b[1 : 1+l]), ok: b[1+l] == 1, decimals: b[2+l]})
		b = b[3+l:]
	}
	var lims [2]*big.Int
	for i := range lims {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return bad("short limit")
		}
		n := int(b[0])
		if n > 0 {
			v, ok := new(big.Int).SetString(string(b[1:1+n]), 10)
			if !ok || v.Sign() < 0 {
				return bad("limit not a number")
			}
			lims[i] = v
		}
		b = b[1+n:]
	}
	if len(b) < 32 {
		return bad("short hash")
	}
	p, err := decodePayment(b[:32], b[32:])
	if err != nil {
		return acceptAsked{}, fmt.Errorf("journal record: %w", err)
	}
	a.p, a.lim = p, Limits{Unsettled: lims[0], PerPayer: lims[1]}
	return a, nil
}

// replay runs a journal record's write again in w, with the retention and
// decimals it was answered with. It must write and succeed, as it did
// when it was answered: anything else is damage.
func replay(w *wtx, rec []byte) error {
	a, err := decodeAcceptRecord(rec)
	if err != nil {
		return err
	}
	dec, retention := w.decimals, w.retention
	defer func() { w.decimals, w.retention = dec, retention }()
	w.retention = a.retention
	w.decimals = func(asset string) (uint8, bool) {
		for _, d := range a.decimals {
			if d.asset == asset {
				return d.decimals, d.ok
			}
		}
		return 0, false
	}
	if len(a.decimals) == 0 {
		w.decimals = nil // none was looked up: no Decimals was set
	}
	before := w.writes
	_, repeat, err := accept(w, a.p, a.now, a.lim, false, false)
	switch {
	case err != nil:
		return fmt.Errorf("journal record of %s no longer applies: %v: %w", a.p.TxHash, err, ErrCorrupt)
	case repeat || w.writes == before:
		return fmt.Errorf("journal record of %s: stored already: %w", a.p.TxHash, ErrCorrupt)
	}
	return nil
}

// journalApplied is the last journal record the file holds (keyJournal).
func journalApplied(tx *bbolt.Tx) (uint64, error) {
	v, err := getChecked(tx, bucketMeta, keyJournal)
	if err != nil || v == nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("meta %s: %d bytes: %w", keyJournal, len(v), ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}

// openJournalOf opens the journal of the store at path and runs again, in
// one commit, the records the file does not hold yet (a crash came before
// their commit). A record that does not apply is damage: the store is
// refused, as nothing answered may be lost.
func openJournalOf(db *bbolt.DB, path string, log *slog.Logger, decimals Decimals, retention uint64) (*journal, error) {
	var applied uint64
	if err := db.View(func(tx *bbolt.Tx) error {
		var err error
		applied, err = journalApplied(tx)
		return err
	}); err != nil {
		return nil, corruptErr(path, err)
	}
	jr, recs, err := openJournal(path, applied)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return jr, nil
	}
	began := time.Now()
	err = db.Update(func(tx *bbolt.Tx) error {
		w := &wtx{tx: tx, decimals: decimals, retention: retention}
		for i, rec := range recs {
			if err := replay(w, rec); err != nil {
				return fmt.Errorf("record %d of %d (seq %d): %w", i+1, len(recs), applied+uint64(i)+1, err)
			}
		}
		return w.putChecked(bucketMeta, keyJournal, seqKey(jr.last()))
	})
	if err != nil {
		_ = jr.close()
		if errors.Is(err, ErrCorrupt) {
			return nil, corruptErr(path, fmt.Errorf("journal %s: %w", jr.path, err))
		}
		return nil, fmt.Errorf("store: open %s: journal %s: %w", path, jr.path, err)
	}
	jr.restart()
	log.Info("store: journal replayed", "path", path, "records", len(recs), "through", jr.last(), "took", time.Since(began))
	return jr, nil
}

// migrateJournal takes a schema 15 file to 16: nothing changes in it but
// the version, so that a build before the journal, which would open the
// file and never run again the accepts its journal holds, refuses it as a
// newer build's.
func migrateJournal(db *bbolt.DB, path string, log *slog.Logger) error {
	return migration{from: schemaV15, to: schemaVersion,
		what: "accepts may wait in the journal beside it (showpos.db-journal), which builds before it would not run again"}.run(db, path, log)
}
