package main

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// floor is what one accepted payment cannot avoid: one fsync'd bbolt
// commit and one sender recovery.
type floor struct {
	commit  time.Duration // median of one bbolt Update with one Put, fsynced
	recover time.Duration // median of one secp256k1 public key recovery
	// The same at their 99th percentiles: the disk's own tail, beside
	// which an accept's p99 is also read.
	commit99, recover99 time.Duration
	// appended, appended99: a bare journal append, what posd's accept
	// waits for on the disk (terminal/store/journal.go): a 600-byte
	// write into a file made whole beforehand, then fdatasync.
	appended, appended99 time.Duration
}

func (f floor) total() time.Duration { return f.commit + f.recover }

// total99 is the floor's p99: the sum of its parts' p99s (at least the
// p99 of their sum).
func (f floor) total99() time.Duration { return f.commit99 + f.recover99 }

// floorN is how many bare commits and recoveries the accept rows' floor
// times: enough for a steady 99th percentile.
const floorN = 1000

// measureFloor times n bare bbolt commits in dir (the disk posd's store
// is on) and n sender recoveries of the transactions in raws.
func measureFloor(dir string, raws [][]byte, n int) (floor, error) {
	db, err := bbolt.Open(filepath.Join(dir, "floor.db"), 0o600, nil)
	if err != nil {
		return floor{}, err
	}
	defer db.Close()
	bucket := []byte("b")
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
		return floor{}, err
	}
	value := make([]byte, 512) // about a stored payment record
	_, _ = rand.Read(value)
	commits, err := timeEach(n, func(i int) error {
		return db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucket).Put(binary.BigEndian.AppendUint64(nil, uint64(i)), value)
		})
	})
	if err != nil {
		return floor{}, err
	}

	// The recovery alone: the signing hash and the 65-byte signature are
	// prepared outside the timing.
	signer := types.LatestSignerForChainID(big.NewInt(benchChainID))
	hashes := make([][]byte, len(raws))
	sigs := make([][]byte, len(raws))
	for i, raw := range raws {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(raw); err != nil {
			return floor{}, err
		}
		v, r, s := tx.RawSignatureValues()
		sig := make([]byte, 65)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:64])
		sig[64] = byte(v.Uint64()) // typed transactions: the y parity
		hashes[i], sigs[i] = signer.Hash(tx).Bytes(), sig
	}
	recovers, err := timeEach(max(n, 500), func(i int) error {
		_, err := crypto.Ecrecover(hashes[i%len(hashes)], sigs[i%len(sigs)])
		return err
	})
	if err != nil {
		return floor{}, err
	}
	appends, err := timeAppends(filepath.Join(dir, "floor.journal"), n)
	if err != nil {
		return floor{}, err
	}
	return floor{commit: commits.median(), recover: recovers.median(), commit99: commits.pct(99), recover99: recovers.pct(99),
		appended: appends.median(), appended99: appends.pct(99)}, nil
}

// timeAppends times n appends of a 600-byte record, each written and
// fdatasynced, to a 256 KiB file of zeros made and fsynced first, starting
// over at its beginning when full: as the store's journal appends.
func timeAppends(path string, n int) (samples, error) {
	const size, rec = 256 << 10, 600
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, size)); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	b := make([]byte, rec)
	_, _ = rand.Read(b)
	var off int64
	return timeEach(n, func(int) error {
		if off+rec > size {
			off = 0
		}
		if _, err := f.WriteAt(b, off); err != nil {
			return err
		}
		off += rec
		return unix.Fdatasync(int(f.Fd()))
	})
}

// acceptLatency is one payer paying n requests one after another over
// HTTP, each request made on the operator socket beforehand (in chunks,
// so that the till's cache of recent requests holds them, as it holds the
// request on screen). The first warm ones are not counted. Payment i is
// paid on chainOf(chains, i) (none: each request's own chain).
func acceptLatency(d *daemon, n, warm int, chains []uint64) (samples, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	p := &payer{key: key}
	var lat samples
	for done := 0; done < n+warm; {
		chunk := min(200, n+warm-done)
		reqs, err := d.newRequests(chunk, "0.001", "ETH")
		if err != nil {
			return nil, err
		}
		raws := make([][]byte, chunk)
		for i, r := range reqs {
			id := chainOf(chains, done+i)
			if id == 0 {
				id = r.ChainID
			}
			if raws[i], err = signFor(r, p.key, p.next(id), id); err != nil {
				return nil, err
			}
		}
		for i, r := range reqs {
			start := time.Now()
			if err := d.broadcastTx(r.ID, raws[i]); err != nil {
				return nil, err
			}
			if done >= warm {
				lat = append(lat, time.Since(start))
			}
			done++
		}
	}
	return lat, nil
}

// roundSize is how many requests are made before each round of the
// concurrent payers: the till's cache of parsed requests holds 256.
const roundSize = 256

// acceptThroughput is `payers` payers at once, each posting its signed
// payments one after another, for rounds of roundSize requests made
// beforehand on the operator socket. Only the rounds are timed. Payment
// i of a round is paid on chainOf(chains, i) (none: the request's own).
func acceptThroughput(d *daemon, payers, total int, chains []uint64) (perSecond float64, err error) {
	keys := make([]*payer, payers)
	for i := range keys {
		k, err := crypto.GenerateKey()
		if err != nil {
			return 0, err
		}
		keys[i] = &payer{key: k}
	}
	var busy time.Duration
	paid := 0
	for paid < total {
		n := min(roundSize, total-paid)
		reqs, err := d.newRequests(n, "0.001", "ETH")
		if err != nil {
			return 0, err
		}
		// Payment i goes to payer i%payers, which pays its share in order.
		raws := make([][]byte, n)
		for i, r := range reqs {
			k := keys[i%payers]
			id := chainOf(chains, i)
			if id == 0 {
				id = r.ChainID
			}
			if raws[i], err = signFor(r, k.key, k.next(id), id); err != nil {
				return 0, err
			}
		}
		var failed firstError
		var wg sync.WaitGroup
		start := time.Now()
		for p := range payers {
			wg.Go(func() {
				for i := p; i < n; i += payers {
					if err := d.broadcastTx(reqs[i].ID, raws[i]); err != nil {
						failed.set(err)
						return
					}
				}
			})
		}
		wg.Wait()
		busy += time.Since(start)
		if err := failed.get(); err != nil {
			return 0, err
		}
		paid += n
	}
	return float64(paid) / busy.Seconds(), nil
}

// checkRate runs the check over raws on `workers` goroutines for about
// d and returns checks per second. With workers == 1 it also holds the
// Go scheduler to one processor, so the figure is one core's.
func checkRate(raws [][]byte, k kind, workers int, d time.Duration) (float64, error) {
	if workers == 1 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	c := checker()
	terms := k.terms()
	// Warm up: caches, the allocator, the CPU's clock.
	for _, raw := range raws[:min(len(raws), 200)] {
		if _, err := c.Check(raw, terms); err != nil {
			return 0, err
		}
	}
	var (
		count  atomic.Int64
		failed firstError
		wg     sync.WaitGroup
	)
	stop := time.Now().Add(d)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			n := int64(0)
			for i := w; ; i++ {
				if _, err := c.Check(raws[i%len(raws)], terms); err != nil {
					failed.set(err)
					return
				}
				n++
				if n%32 == 0 && time.Now().After(stop) {
					break
				}
			}
			count.Add(n)
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := failed.get(); err != nil {
		return 0, fmt.Errorf("check: %w", err)
	}
	return float64(count.Load()) / took.Seconds(), nil
}
