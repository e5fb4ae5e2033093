package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// "No answer before fsync". The reopen tests close the store cleanly, so
// they would pass with NoSync too; these pin the two halves of the promise:
// bbolt syncs every commit, and no caller is answered before its commit.

func TestStoreSyncsEveryCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	for _, when := range []string{"created", "reopened"} {
		s, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.db.NoSync || s.db.NoGrowSync || s.db.NoFreelistSync {
			t.Errorf("%s store: NoSync=%v NoGrowSync=%v NoFreelistSync=%v; want all false",
				when, s.db.NoSync, s.db.NoGrowSync, s.db.NoFreelistSync)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// holdCommits makes every commit of s stop just before bbolt commits: each
// one that gets there is reported on held and waits for a send on release.
// At the end of the test every hold is let go, so Close does not hang.
func holdCommits(t *testing.T, s *Store) (held <-chan struct{}, release chan<- struct{}) {
	t.Helper()
	h, r, stop := make(chan struct{}), make(chan struct{}), make(chan struct{})
	// Set while the committer waits for an op: the next op's send on the
	// queue orders this write before the committer's read.
	s.c.beforeCommit = func() {
		select {
		case h <- struct{}{}:
		case <-stop:
			return
		}
		select {
		case <-r:
		case <-stop:
		}
	}
	t.Cleanup(func() { close(stop) })
	return h, r
}

type acceptResult struct {
	p      Payment
	repeat bool
	err    error
}

func goAccept(s *Store, p Payment) <-chan acceptResult {
	out := make(chan acceptResult, 1)
	go func() {
		got, repeat, err := s.Accept(context.Background(), p, t0, nil)
		out <- acceptResult{got, repeat, err}
	}()
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func waitHeld(t *testing.T, held <-chan struct{}) {
	t.Helper()
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("no commit reached the hold")
	}
}

// notAnswered fails if any call has returned within a while.
func notAnswered(t *testing.T, calls ...<-chan acceptResult) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	for i, c := range calls {
		select {
		case r := <-c:
			t.Fatalf("Accept %d answered (repeat=%v seq=%d err=%v) while its commit was held", i+1, r.repeat, r.p.Seq, r.err)
		default:
		}
	}
}

func answer(t *testing.T, c <-chan acceptResult) acceptResult {
	t.Helper()
	select {
	case r := <-c:
		if r.err != nil {
			t.Fatalf("Accept: %v", r.err)
		}
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("Accept not answered after its commit was released")
	}
	panic("unreachable")
}

func TestRepeatIsNotAnsweredBeforeTheFirstCommit(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := newPayment("r1")
	held, release := holdCommits(t, s)
	syncs := s.c.syncs()

	first := goAccept(s, p)
	waitHeld(t, held) // first's batch has written and waits to commit
	second := goAccept(s, p)
	waitFor(t, "the repeat to queue behind the held commit", func() bool { return len(s.c.queue) == 1 })

	// Readers are not held by the writer; what they see is not an answer.
	read := make(chan error, 1)
	go func() { _, err := s.Payment(p.TxHash); read <- err }()
	select {
	case err := <-read:
		if err != nil && !errors.Is(err, ErrUnknownPayment) {
			t.Fatalf("Payment during the held commit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a reader was blocked by the held commit")
	}

	notAnswered(t, first, second)
	release <- struct{}{}
	a, b := answer(t, first), answer(t, second)
	if a.repeat || !b.repeat || a.p.Seq == 0 || a.p.Seq != b.p.Seq || a.p.TxHash != b.p.TxHash {
		t.Fatalf("first: repeat=%v seq=%d; second: repeat=%v seq=%d; want false, true and one Seq",
			a.repeat, a.p.Seq, b.repeat, b.p.Seq)
	}
	if got := s.c.syncs() - syncs; got != 1 {
		t.Fatalf("%d commits or journal appends, want 1 (the repeat writes nothing)", got)
	}
}

func TestRepeatInTheSameBatchIsAnsweredWithTheBatch(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r0")
	putRequest(t, s, "r1")
	p := newPayment("r1")
	held, release := holdCommits(t, s)

	// Hold a commit for another request so both Accepts of p queue behind
	// it and form the next batch together.
	blocker := goAccept(s, newPayment("r0"))
	waitHeld(t, held)
	one, two := goAccept(s, p), goAccept(s, p)
	waitFor(t, "both Accepts to queue", func() bool { return len(s.c.queue) == 2 })
	release <- struct{}{}
	answer(t, blocker)

	waitHeld(t, held) // p's batch: both ops ran, the second saw the first's write
	notAnswered(t, one, two)
	release <- struct{}{}
	a, b := answer(t, one), answer(t, two)
	if a.repeat == b.repeat || a.p.Seq == 0 || a.p.Seq != b.p.Seq {
		t.Fatalf("repeat %v and %v, Seq %d and %d; want exactly one repeat and one Seq", a.repeat, b.repeat, a.p.Seq, b.p.Seq)
	}
}
