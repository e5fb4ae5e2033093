package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"showpos/terminal/config"
	"showpos/terminal/procio"
	"showpos/terminal/store"
)

// armSizes builds posd as make build-arm does (static, stripped) for
// ARMv7 and arm64 and returns the two sizes in bytes.
func armSizes(ctx context.Context, dir string) (arm, arm64 int64, err error) {
	build := func(goarch string, env ...string) (int64, error) {
		bin := filepath.Join(dir, "posd-"+goarch)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/posd")
		cmd.Env = append(os.Environ(), append([]string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch}, env...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("go build posd for %s: %v\n%s", goarch, err, out)
		}
		fi, err := os.Stat(bin)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	if arm, err = build("arm", "GOARM=7"); err != nil {
		return 0, 0, err
	}
	if arm64, err = build("arm64"); err != nil {
		return 0, 0, err
	}
	return arm, arm64, nil
}

// boots starts posd on t n times, stopping it after each, and returns
// each start's time to READY=1. The last daemon is left running if keep.
func boots(bin string, t *terminal, n int, keep bool, within time.Duration) (samples, *daemon, error) {
	var out samples
	for i := range n {
		d, err := startPosd(bin, t, within)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, d.ready)
		if keep && i == n-1 {
			return out, d, nil
		}
		if err := d.stop(); err != nil {
			return nil, nil, fmt.Errorf("stop posd: %w", err)
		}
	}
	return out, nil, nil
}

// idle is posd left alone for a while after READY=1.
type idle struct {
	mem  map[string]int64 // from /proc/PID/status, bytes
	cpu  time.Duration    // CPU time used while idle
	span time.Duration    // how long
}

// idleFor leaves posd alone for settle, then reads its memory and the CPU
// time it used meanwhile.
func idleFor(d *daemon, settle time.Duration) (idle, error) {
	before, err := d.cpuTime()
	if err != nil {
		return idle{}, err
	}
	time.Sleep(settle)
	after, err := d.cpuTime()
	if err != nil {
		return idle{}, err
	}
	mem, err := d.status()
	return idle{mem: mem, cpu: after - before, span: settle}, err
}

// evict drops the file's pages from the page cache (posix_fadvise
// DONTNEED; clean pages only, so sync first), so the next boot reads the
// store from the disk as after a power cycle. Only this file is touched.
func evict(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// Issue 19's bounds, printed beside the figures they hold.
const (
	bootBound      = 300 * time.Millisecond // cold boot to READY=1 with the full queue
	bootReadsBound = 5 << 20                // bytes read from the disk before READY=1, whatever the store's size
	idleBound      = 0.5                    // % of one core, idle with the full queue and no chain
	perPaymentMax  = 1000                   // bytes of store file per payment (1 KB)
	queueBound     = 1.2                    // accept p50 and p99 with the full queue over the empty queue's
	p99FloorBound  = 2.0                    // one payer's accept p99 over the fsync + recovery floor
)

// trimFloat writes f in as few digits as it needs: 1.2, 2.
func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// coldBoot drops t's data from the page cache (evictDir), reads posd's
// binary whole so that it is cached, and starts posd on it; the daemon's
// bootIO is then what the boot read from the disk, as posd says it
// (readyIO: as read from outside). It also returns the files dropped. A
// posd that does not say what it read is an error, never a zero. The
// binary is read first because read_bytes counts its pages too: a boot
// with the binary out of the cache read 25 MiB of it, and one after the
// fills had churned the cache read 2–4 MiB more than its store's.
func coldBoot(bin string, t *terminal, within time.Duration) (*daemon, []string, error) {
	names, err := evictDir(t.data)
	if err != nil {
		return nil, nil, err
	}
	if err := readWhole(bin); err != nil {
		return nil, nil, fmt.Errorf("cache posd's binary: %w", err)
	}
	d, err := startPosd(bin, t, within)
	if err != nil {
		return nil, nil, err
	}
	if d.readyIOErr != nil {
		d.stop()
		return nil, nil, fmt.Errorf("bytes read before READY=1: %w", d.readyIOErr)
	}
	if d.bootIO, err = d.bootRead(); err != nil {
		d.stop()
		return nil, nil, fmt.Errorf("bytes read before READY=1: %w", err)
	}
	return d, names, nil
}

// readWhole reads the file at path to its end, into the page cache.
func readWhole(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

// reads formats what a boot read: read_bytes (rchar).
func reads(p procio.IO) string {
	return fmt.Sprintf("%s (rchar %s)", size(p.ReadBytes), size(p.RChar))
}

// memoryRows measures posd's size, memory, boot, bytes read at boot, bytes
// of store per payment, accept with a full queue and idle CPU on one
// network; it keeps the figures the two-network rows are set beside in one.
func memoryRows(ctx context.Context, o options, dir, posd string, one *memFigures) []row {
	var rows []row
	progress("stripped ARM builds of posd")
	arm, arm64, err := armSizes(ctx, dir)
	if err != nil {
		rows = append(rows, failed("posd binary, stripped", err))
	} else {
		how := "go build -trimpath -ldflags='-s -w' ./cmd/posd with CGO_ENABLED=0 GOOS=linux GOARCH=%s (as make build-arm, without the version stamp)"
		rows = append(rows,
			row{What: "posd binary, linux/arm (ARMv7), stripped", Value: mib(arm), How: fmt.Sprintf(how, "arm GOARM=7")},
			row{What: "posd binary, linux/arm64, stripped", Value: mib(arm64), How: fmt.Sprintf(how, "arm64")})
	}
	mem := func(m map[string]int64) string {
		return fmt.Sprintf("anon %s, file %s", mib(m["RssAnon"]), mib(m["RssFile"]))
	}
	fillN := thousands(int64(o.fillN))
	whatIdle, whatBootEmpty := "posd memory, idle, empty store: VmRSS (VmHWM)", "posd boot to READY=1, empty store"
	whatBootFull := fmt.Sprintf("posd boot to READY=1, %s payments queued", fillN)
	whatReads := fmt.Sprintf("posd reads from the disk before READY=1, %s payments queued, cold: read_bytes (rchar)", fillN)
	whatBytes := fmt.Sprintf("Store file per payment, %s payments queued", fillN)
	whatFull := fmt.Sprintf("posd memory, %s payments queued: VmRSS (VmHWM)", fillN)
	whatScrub := fmt.Sprintf("posd store scrub after boot, %s payments queued: READY=1 to done", fillN)
	whatQ := fmt.Sprintf("Accept over HTTP, one payer, %s payments queued: p50 / p99", fillN)
	whatCPU := fmt.Sprintf("posd idle CPU, %s payments queued, no chain: share of one core over %s after the first %s", fillN, o.idleFor, o.idleWarm)
	fullRows := func(err error) []row {
		return append(rows, failed(whatBootFull, err), failed(whatReads, err), failed(whatBytes, err), failed(whatFull, err), failed(whatScrub, err), failed(whatQ, err), failed(whatCPU, err))
	}

	// The empty store: boots, then a cold one kept running, the peer of
	// the full store's figures through to the accept rows.
	progress("boot to READY=1 and memory, empty store")
	var bootEmpty samples
	var quiet idle
	var dEmpty *daemon
	empty, err := newTerminal(filepath.Join(dir, "empty"))
	if err == nil {
		bootEmpty, _, err = boots(posd, empty, 5, false, o.bootWithin)
	}
	if err == nil {
		dEmpty, _, err = coldBoot(posd, empty, o.bootWithin)
	}
	if err == nil {
		defer dEmpty.stop()
		quiet, err = idleFor(dEmpty, o.settle)
	}
	if err != nil {
		rows = append(rows, failed(whatIdle, err), failed(whatBootEmpty, err))
		return fullRows(fmt.Errorf("no empty-store peer: %w", err))
	}
	one.quiet, one.bootEmpty = quiet, bootEmpty
	rows = append(rows,
		row{What: whatIdle, Value: fmt.Sprintf("%s (%s)", mib(quiet.mem["VmRSS"]), mib(quiet.mem["VmHWM"])),
			How: fmt.Sprintf("/proc/PID/status of the posd binary %s after READY=1 (headless, no chain endpoints): %s; CPU used meanwhile %s",
				o.settle, mem(quiet.mem), ms(quiet.cpu))},
		row{What: whatBootEmpty, Value: ms(bootEmpty.median()),
			How: fmt.Sprintf("process start to READY=1 on a NOTIFY_SOCKET we listen on; median of %d boots (the first one, %s, creates the store and the terminal key); "+
				"a sixth from a cold page cache (the data directory's files dropped): %s",
				len(bootEmpty), ms(bootEmpty[0]), ms(dEmpty.ready))})

	progress("filling a store with %d accepted payments", o.fillN)
	full, err := newTerminal(filepath.Join(dir, "full"))
	var fillTook time.Duration
	var storeSize int64
	if err == nil {
		fillTook, storeSize, err = fillStore(ctx, full, o.fillN, nil)
	}
	if err != nil {
		return fullRows(err)
	}
	storePath := filepath.Join(full.data, "showpos.db")

	// Bytes per payment: the file as the fill left it, before any posd
	// opened it, so it holds exactly the fill's payments and requests.
	if l, err := storeBytes(storePath, 10*time.Second); err != nil {
		rows = append(rows, failed(whatBytes, err))
	} else {
		per := float64(storeSize) / float64(o.fillN)
		rows = append(rows, row{What: whatBytes,
			Value: fmt.Sprintf("%s B (%s / %s)", thousands(int64(per+0.5)), mib(storeSize), fillN),
			Peer:  fmt.Sprintf("bound %s B (1 KB, issue 19)", thousands(perPaymentMax)), Ratio: ratio(per, perPaymentMax),
			How: fmt.Sprintf("the store file's size over the payments right after the fill below (%s accepted payments, each with its request, from %s payers; 64 writers sharing commits), "+
				"before any posd opened it; where the bytes go, per payment, from the file opened read-only with go.etcd.io/bbolt (each top-level bucket's Stats, "+
				"nested buckets included; the pages by Tx.Page; %s-byte pages, high-water mark %s): %s; beside it, whatever the store holds, the journal (showpos.db-journal): %s",
				fillN, thousands(int64(min(fillPayers, o.fillN))), thousands(int64(l.pageSize)), mib(l.pages*int64(l.pageSize)), l.describe(o.fillN), journalSize(storePath))})
	}

	progress("boot to READY=1, %d payments queued, from a cold page cache", o.fillN)
	dCold, dropped, err := coldBoot(posd, full, o.bootWithin)
	if err != nil {
		return fullRows(err)
	}
	cold, coldIO, coldOutside := samples{dCold.ready}, dCold.bootIO, dCold.readyIO
	if err := dCold.stop(); err != nil {
		return fullRows(fmt.Errorf("stop posd: %w", err))
	}
	progress("boot to READY=1 and memory, %d payments queued", o.fillN)
	warm, d, err := boots(posd, full, 3, true, o.bootWithin)
	if err != nil {
		return fullRows(err)
	}
	defer d.stop()
	one.cold, one.warm, one.storeSize = cold, warm, storeSize
	rows = append(rows,
		row{What: whatBootFull,
			Value: fmt.Sprintf("%s cold / %s warm", ms(cold.median()), ms(warm.median())),
			Peer:  fmt.Sprintf("bound %s cold (issue 19); empty store: %s, cold %s", ms(bootBound), ms(bootEmpty.median()), ms(dEmpty.ready)),
			Ratio: fmt.Sprintf("cold %s the bound, %s empty's cold", ratio(float64(cold.median()), float64(bootBound)), ratio(float64(cold.median()), float64(dEmpty.ready))),
			How: fmt.Sprintf("as above, on the %s store; cold: the data directory's files (%s) dropped from the page cache first "+
				"(posix_fadvise DONTNEED after fsync; posd's binary read whole first, so that it is cached), one boot; warm: median of %d", mib(storeSize), strings.Join(dropped, ", "), len(warm))},
		row{What: whatReads, Value: reads(coldIO),
			Peer:  fmt.Sprintf("bound %s of read_bytes (issue 19); empty store, cold: %s", mib(bootReadsBound), reads(dEmpty.bootIO)),
			Ratio: ratio(float64(coldIO.ReadBytes), bootReadsBound) + " the bound",
			How: fmt.Sprintf("the cold boot above, by posd's own /proc/self/io read just before it sends READY=1 (the read_bytes and rchar of its \"posd ready\" log line): "+
				"read_bytes, what posd made the block layer fetch (bbolt's mmap faults included), and rchar, what it passed through read(2) (page cache or not; mmap not counted); "+
				"read from outside (/proc/PID/io) as READY=1 arrived on the notify socket: %s (empty store: %s), more by what posd's work after READY (the store's scrub) read first",
				reads(coldOutside), reads(dEmpty.readyIO))})

	busy, err := idleFor(d, o.settle)
	if err != nil {
		rows = append(rows, failed(whatFull, err))
	} else {
		one.busy = busy
		rows = append(rows, row{What: whatFull,
			Value: fmt.Sprintf("%s (%s)", mib(busy.mem["VmRSS"]), mib(busy.mem["VmHWM"])),
			Peer:  "idle, empty store: " + mib(quiet.mem["VmRSS"]), Ratio: ratio(float64(busy.mem["VmRSS"]), float64(quiet.mem["VmRSS"])),
			How: fmt.Sprintf("the same, %s after READY=1 on the %s store filled beforehand with %s accepted payments (64 writers sharing commits, %.0f s): "+
				"%s (file: the pages of bbolt's mmap of the store that posd has touched); CPU used while idle %s",
				o.settle, mib(storeSize), fillN, fillTook.Seconds(), mem(busy.mem), ms(busy.cpu))})
	}

	// The accept row waits for both posds' scrub: until it is done the
	// full store's reads the file at store.scrub_rate and, last, holds
	// writes while it accounts for every page of the file.
	progress("waiting for both posds' store scrub to be done")
	scrubFull, scrubEmpty, err := waitScrubs(ctx, d, dEmpty)
	if err != nil {
		rows = append(rows, failed(whatScrub, err), failed(whatQ, fmt.Errorf("not measured on a posd whose scrub runs: %w", err)))
	} else {
		rows = append(rows, scrubRow(whatScrub, scrubFull, scrubEmpty))
	}
	progress("accept latency, %d payments queued and empty, in turn: %d payments each", o.fillN, queueSamples*o.latencyN)
	// The disk's fsync time drifts over minutes: a floor of its own.
	var fl floor
	if err == nil {
		fl, err = measureFloor(full.dir, mustSigned(native, 64), 100)
		if err != nil {
			rows = append(rows, failed(whatQ, err))
		}
	}
	if err == nil {
		cpuBefore, _ := d.cpuTime()
		began := time.Now()
		lat, latEmpty, err, errEmpty := latencyInTurn(d, dEmpty, queueSamples*o.latencyN, queueTurns, nil, nil)
		cpuUsed, _ := d.cpuTime()
		wall := time.Since(began)
		if err == nil {
			err = errEmpty
		}
		if err != nil {
			rows = append(rows, failed(whatQ, err))
		} else {
			after, _ := d.status()
			rows = append(rows, row{What: whatQ, Value: fmt.Sprintf("%s / %s", ms(lat.median()), ms(lat.pct(99))),
				Peer: fmt.Sprintf("empty queue, in turn: %s / %s; bound %s× each (issue 19)",
					ms(latEmpty.median()), ms(latEmpty.pct(99)), trimFloat(queueBound)),
				Ratio: fmt.Sprintf("p50 %s, p99 %s", ratio(float64(lat.median()), float64(latEmpty.median())), ratio(float64(lat.pct(99)), float64(latEmpty.pct(99)))),
				How: fmt.Sprintf("as the one-payer row, %d payments on the posd booted on the full store and %d on the empty-store posd above (its queue holds only these), "+
					"in %d parts taking turns, each after 20 unmeasured ones, begun once both posds' status said store.scrub.state \"done\" (polled every 100 ms on the operator socket; "+
					"the scrub row above: until then the full store's scrub reads the file and, last, holds writes while it accounts for every page); "+
					"floor measured just before: %s; the full-store posd used %.1f s of CPU in those %.1f s "+
					"(its turns and the other's); then VmRSS %s, VmHWM %s",
					len(lat), len(latEmpty), queueTurns, ms(fl.total()), (cpuUsed - cpuBefore).Seconds(), wall.Seconds(), mib(after["VmRSS"]), mib(after["VmHWM"]))})
		}
	}

	// Idle CPU: both stores' posds booted afresh, left alone together.
	d.stop()
	dEmpty.stop()
	progress("idle CPU, %d payments queued and empty, at once: %s, then %s measured", o.fillN, o.idleWarm, o.idleFor)
	return append(rows, idleCPURow(ctx, o, posd, full, empty, whatCPU))
}

// scrubWithin is how long waitScrubs waits for a posd's scrub: the full
// store's takes its file's size over store.scrub_rate (8 MiB/s), about 20 s
// for 100,000 payments.
const scrubWithin = 10 * time.Minute

// waitScrubs waits for the store scrub of the full-store posd, then of the
// empty-store one, to be done.
func waitScrubs(ctx context.Context, full, empty *daemon) (scrubDone, scrubDone, error) {
	f, err := full.waitScrub(ctx, scrubWithin)
	if err != nil {
		return f, scrubDone{}, fmt.Errorf("full store: %w", err)
	}
	e, err := empty.waitScrub(ctx, scrubWithin)
	if err != nil {
		return f, e, fmt.Errorf("empty store: %w", err)
	}
	return f, e, nil
}

// scrubRow is the full-store posd's scrub, READY=1 to done, beside what
// its file's size over the default rate predicts.
func scrubRow(what string, full, empty scrubDone) row {
	rate := int64(config.DefaultScrubRate)
	expect := time.Duration(float64(full.CheckedBytes) / float64(rate) * float64(time.Second))
	return row{What: what, Value: fmt.Sprintf("%.1f s", full.took.Seconds()),
		Peer: fmt.Sprintf("what it read (%s) at store.scrub_rate's default %s/s: %.1f s (an upper bound: the first part, the open payments, runs unpaced); empty store: %s",
			mib(full.CheckedBytes), mib(rate), expect.Seconds(), ms(empty.took)),
		Ratio: ratio(float64(full.took), float64(expect)),
		How: fmt.Sprintf("the warm-booted full-store posd of the rows above (left alone meanwhile but for its memory read): posd starts the store's scrub at READY=1 "+
			"(store.scrub_rate unset); its status polled every 100 ms on the operator socket until store.scrub.state was \"done\", the figure READY=1 as read on "+
			"the notify socket to store.scrub.finishedAt; it read %s (checkedBytes: keys and values, open payments twice, the file's size once for its page accounting) "+
			"of a file of %s in use, no damage; %s (the page accounting runs last, in the store's committer: writes wait for it). "+
			"The one-time cost a terminal pays after each boot, with sales taken meanwhile",
			mib(full.CheckedBytes), mib(full.InUseBytes), full.logged)}
}

// idleCPURow boots posd on the full and the empty store (warm), checks
// from their status that neither has a chain or an uplink, leaves both
// alone for o.idleWarm and measures their CPU over the next o.idleFor.
func idleCPURow(ctx context.Context, o options, posd string, full, empty *terminal, what string) row {
	var ds []*daemon
	defer func() {
		for _, d := range ds {
			d.stop()
		}
	}()
	var said []string
	for _, t := range []*terminal{full, empty} {
		d, err := startPosd(posd, t, o.bootWithin)
		if err != nil {
			return failed(what, err)
		}
		ds = append(ds, d)
		s, err := d.chainless()
		if err != nil {
			return failed(what, err)
		}
		said = append(said, s)
	}
	got, err := idleCPUOf(ctx, ds, o.idleWarm, o.idleFor)
	if err != nil {
		return failed(what, err)
	}
	f, e := got[0], got[1]
	pct := 100 * f.cpu.Seconds() / f.window.Seconds()
	return row{What: what, Value: fmt.Sprintf("%s (%s of CPU in %.1f s)", corePercent(f.cpu, f.window), ms(f.cpu), f.window.Seconds()),
		Peer:  fmt.Sprintf("bound %s%% (issue 19); empty store, same window: %s", trimFloat(idleBound), corePercent(e.cpu, e.window)),
		Ratio: ratio(pct, idleBound) + " the bound",
		How: fmt.Sprintf("posd booted (warm) on the full store and on the empty one, both at once, then left alone: nothing paid, no operator call; "+
			"user + system CPU time from /proc/PID/stat (10 ms ticks) over %s, after the first %s (the boot's work after READY, such as the store's scrub, "+
			"may fall in the first); what each status said: full: %s; empty: %s; read from the disk over the window: full %s, empty %s",
			o.idleFor, o.idleWarm, said[0], said[1], reads(f.read), reads(e.read))}
}

// journalSize is the size of the store's journal, fixed whatever the store
// holds (terminal/store/journal.go).
func journalSize(storePath string) string {
	fi, err := os.Stat(store.JournalPath(storePath))
	if err != nil {
		return "none (" + err.Error() + ")"
	}
	return mib(fi.Size())
}
