package store

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/bbolt"
)

// White-box tests of one batch: the committer's promises about mixing
// refusals, failures and successes in one transaction.

var errRefused = errors.New("refused")

func putOp(key string) func(*wtx) error {
	return func(w *wtx) error { return w.putChecked(bucketMeta, []byte(key), []byte("v")) }
}

func refuseOp(w *wtx) error { return errRefused }

func TestBatchOutcomes(t *testing.T) {
	cases := []struct {
		name       string
		ops        []func(*wtx) error
		wantErrs   []error // per op; errBatch means "the batch's error"
		wantKeys   []string
		wantCommit bool
	}{
		{
			name:       "a refusal does not roll back the others",
			ops:        []func(*wtx) error{putOp("k1"), refuseOp, putOp("k3")},
			wantErrs:   []error{nil, errRefused, nil},
			wantKeys:   []string{"k1", "k3"},
			wantCommit: true,
		},
		{
			name: "an op failing after it wrote aborts the whole batch",
			ops: []func(*wtx) error{putOp("k1"), func(w *wtx) error {
				_ = putOp("k2")(w)
				return errRefused
			}, putOp("k3")},
			wantErrs: []error{errRefused, errRefused, errRefused},
		},
		{
			name:     "a panicking op aborts the whole batch",
			ops:      []func(*wtx) error{putOp("k1"), func(*wtx) error { panic("boom") }},
			wantErrs: []error{ErrCorrupt, ErrCorrupt},
		},
		{
			name:     "a batch that writes nothing does not commit",
			ops:      []func(*wtx) error{refuseOp, func(*wtx) error { return nil }},
			wantErrs: []error{errRefused, nil},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			before := s.c.commits.Load()
			var batch []*op
			for _, fn := range tc.ops {
				batch = append(batch, &op{ctx: context.Background(), fn: fn, done: make(chan error, 1)})
			}
			s.c.commit(batch)
			for i, o := range batch {
				err := <-o.done
				if tc.wantErrs[i] == nil && err != nil || tc.wantErrs[i] != nil && !errors.Is(err, tc.wantErrs[i]) {
					t.Errorf("op %d: %v, want %v", i, err, tc.wantErrs[i])
				}
			}
			if got := s.c.commits.Load() - before; (got == 1) != tc.wantCommit || got > 1 {
				t.Errorf("commits: %d, want commit=%v", got, tc.wantCommit)
			}
			want := map[string]bool{}
			for _, k := range tc.wantKeys {
				want[k] = true
			}
			_ = s.db.View(func(tx *bbolt.Tx) error {
				for _, k := range []string{"k1", "k2", "k3"} {
					if got := tx.Bucket(bucketMeta).Get([]byte(k)) != nil; got != want[k] {
						t.Errorf("key %s stored=%v, want %v", k, got, want[k])
					}
				}
				return nil
			})
		})
	}
}

func TestOpTakenAfterItsContextEndedNeverRuns(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	o := &op{ctx: ctx, fn: func(w *wtx) error { ran = true; return putOp("k1")(w) }, done: make(chan error, 1)}
	s.c.commit([]*op{o})
	if err := <-o.done; !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("op with a done ctx: err=%v ran=%v; want context.Canceled and not run", err, ran)
	}
	abandoned := &op{ctx: context.Background(), fn: func(*wtx) error { ran = true; return nil }, done: make(chan error, 1)}
	abandoned.state.Store(opAbandoned)
	s.c.commit([]*op{abandoned})
	if ran {
		t.Fatal("an op its caller abandoned ran")
	}
}
