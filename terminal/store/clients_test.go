package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var ctx = context.Background()

func newClient(number string) Client {
	return Client{Number: number, Name: "till " + number, Role: RoleRegister,
		Keys: []ClientKey{{Secret: []byte("secret-" + number + "-0123456789")}}, Created: t0}
}

func putClient(t *testing.T, s *Store, number string) Client {
	t.Helper()
	c := newClient(number)
	if err := s.PutClient(ctx, c); err != nil {
		t.Fatalf("PutClient(%q): %v", number, err)
	}
	return c
}

func TestPutClientRoundTrip(t *testing.T) {
	s := openTemp(t)
	c := putClient(t, s, "sn_0000000000000001")
	got, err := s.Client(c.Number)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("Client = %+v, want %+v", got, c)
	}
	if err := s.PutClient(ctx, newClient(c.Number)); !errors.Is(err, ErrClientExists) {
		t.Fatalf("second PutClient: %v, want ErrClientExists", err)
	}
	if _, err := s.Client("sn_nope"); !errors.Is(err, ErrUnknownClient) {
		t.Fatalf("Client(unknown): %v, want ErrUnknownClient", err)
	}
}

func TestPutClientRefusesInvalid(t *testing.T) {
	s := openTemp(t)
	tests := map[string]func(*Client){
		"empty number":      func(c *Client) { c.Number = "" },
		"number with NUL":   func(c *Client) { c.Number = "sn\x00x" },
		"number with space": func(c *Client) { c.Number = "sn x" },
		"number too long":   func(c *Client) { c.Number = string(make([]byte, MaxClientNumber+1)) },
		"no role":           func(c *Client) { c.Role = "" },
		"unknown role":      func(c *Client) { c.Role = "admin" },
		"no key":            func(c *Client) { c.Keys = nil },
		"two keys":          func(c *Client) { c.Keys = append(c.Keys, c.Keys[0]) },
		"short secret":      func(c *Client) { c.Keys[0].Secret = []byte("short") },
		"key with end":      func(c *Client) { c.Keys[0].NotAfter = t0 },
		"revoked":           func(c *Client) { c.Revoked = t0 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			c := newClient("sn_x")
			mutate(&c)
			if err := s.PutClient(ctx, c); err == nil {
				t.Fatal("PutClient accepted it")
			}
		})
	}
	if cs, err := s.Clients(); err != nil || len(cs) != 0 {
		t.Fatalf("Clients after refusals: %v, %v", cs, err)
	}
}

func TestClientsInNumberOrder(t *testing.T) {
	s := openTemp(t)
	for _, n := range []string{"sn_c", "sn_a", "sn_b"} {
		putClient(t, s, n)
	}
	cs, err := s.Clients()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Number)
	}
	if want := []string{"sn_a", "sn_b", "sn_c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Clients: %v, want %v", got, want)
	}
}

func TestRotateClientKey(t *testing.T) {
	s := openTemp(t)
	c := putClient(t, s, "sn_r")
	k1, k2, k3 := c.Keys[0].Secret, []byte("second-key-0123456789"), []byte("third-key-0123456789")

	got, err := s.RotateClientKey(ctx, "sn_r", k2, time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []ClientKey{{Secret: k2}, {Secret: k1, NotAfter: t0.Add(time.Hour)}}
	if !reflect.DeepEqual(got.Keys, want) {
		t.Fatalf("keys after rotation: %+v, want %+v", got.Keys, want)
	}
	if stored, _ := s.Client("sn_r"); !reflect.DeepEqual(stored, got) {
		t.Fatalf("stored %+v, returned %+v", stored, got)
	}
	if keys := got.HonouredKeys(t0.Add(59 * time.Minute)); len(keys) != 2 {
		t.Fatalf("honoured inside grace: %d keys, want 2", len(keys))
	}
	if keys := got.HonouredKeys(t0.Add(time.Hour)); len(keys) != 1 || string(keys[0]) != string(k2) {
		t.Fatalf("honoured at grace end: %q, want only the new key", keys)
	}

	// Rotating again after k1's grace drops k1.
	got, err = s.RotateClientKey(ctx, "sn_r", k3, time.Minute, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want = []ClientKey{{Secret: k3}, {Secret: k2, NotAfter: t0.Add(2*time.Hour + time.Minute)}}
	if !reflect.DeepEqual(got.Keys, want) {
		t.Fatalf("keys after second rotation: %+v, want %+v", got.Keys, want)
	}

	// Refusals change nothing.
	if _, err := s.RotateClientKey(ctx, "sn_r", k2, time.Hour, t0.Add(2*time.Hour)); err == nil {
		t.Fatal("rotation to a key still held was accepted")
	}
	if _, err := s.RotateClientKey(ctx, "sn_r", []byte("short"), time.Hour, t0); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := s.RotateClientKey(ctx, "sn_none", k2, time.Hour, t0); !errors.Is(err, ErrUnknownClient) {
		t.Fatalf("unknown client: %v", err)
	}
	if stored, _ := s.Client("sn_r"); !reflect.DeepEqual(stored.Keys, want) {
		t.Fatalf("a refused rotation changed the keys: %+v", stored.Keys)
	}
}

func TestRevokeClient(t *testing.T) {
	s := openTemp(t)
	putClient(t, s, "sn_v")
	got, err := s.RevokeClient(ctx, "sn_v", t0)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Revoked.Equal(t0) || got.HonouredKeys(t0) != nil {
		t.Fatalf("revoked client: %+v", got)
	}
	again, err := s.RevokeClient(ctx, "sn_v", t0.Add(time.Hour))
	if err != nil || !again.Revoked.Equal(t0) {
		t.Fatalf("second revoke: %+v, %v; want unchanged", again, err)
	}
	if _, err := s.RotateClientKey(ctx, "sn_v", []byte("new-key-0123456789ab"), 0, t0); !errors.Is(err, ErrClientRevoked) {
		t.Fatalf("rotate revoked: %v, want ErrClientRevoked", err)
	}
	if _, err := s.RevokeClient(ctx, "sn_none", t0); !errors.Is(err, ErrUnknownClient) {
		t.Fatalf("revoke unknown: %v", err)
	}
}

func TestUseNonce(t *testing.T) {
	s := openTemp(t)
	exp := t0.Add(5 * time.Minute)
	if err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", exp, t0); err != nil {
		t.Fatal(err)
	}
	commits := s.c.commits.Load()
	for _, now := range []time.Time{t0, t0.Add(time.Minute), exp} {
		if err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", now.Add(5*time.Minute), now); !errors.Is(err, ErrNonceReplayed) {
			t.Fatalf("replay at %s: %v, want ErrNonceReplayed", now, err)
		}
	}
	if s.c.commits.Load() != commits {
		t.Fatal("a refused nonce committed")
	}
	// Another client's nonce is its own.
	if err := s.UseNonce(ctx, "sn_b", "nonce-0000000001", exp, t0); err != nil {
		t.Fatal(err)
	}
	// Once expired, the nonce may be used again, and is then held anew.
	later := exp.Add(time.Nanosecond)
	if err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", later.Add(time.Minute), later); err != nil {
		t.Fatalf("reuse after expiry: %v", err)
	}
	if err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", later.Add(time.Minute), later); !errors.Is(err, ErrNonceReplayed) {
		t.Fatalf("replay of the reused nonce: %v", err)
	}
	// Argument errors.
	for _, bad := range []struct {
		number, nonce string
		expires       time.Time
	}{
		{"", "n", exp}, {"sn_a", "", exp}, {"sn_a", string(make([]byte, MaxNonce+1)), exp},
		{"sn_a", "n", t0.Add(-time.Second)},
	} {
		if err := s.UseNonce(ctx, bad.number, bad.nonce, bad.expires, t0); err == nil || errors.Is(err, ErrNonceReplayed) {
			t.Errorf("UseNonce(%q, %q, %s): %v, want an argument error", bad.number, bad.nonce, bad.expires, err)
		}
	}
}

func TestUseNonceSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", t0.Add(time.Minute), t0); !errors.Is(err, ErrNonceReplayed) {
		t.Fatalf("after reopen: %v, want ErrNonceReplayed", err)
	}
}

func countKeys(t *testing.T, s *Store, bucket []byte) int {
	t.Helper()
	n := 0
	if err := s.view(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucket).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUseNoncePrunesExpiredInBoundedSteps(t *testing.T) {
	s := openTemp(t)
	const n = 3*pruneBatch + 5
	for i := range n {
		if err := s.UseNonce(ctx, "sn_a", fmt.Sprintf("nonce-%010d", i), t0.Add(time.Minute), t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := countKeys(t, s, bucketClientNonces); got != n {
		t.Fatalf("%d nonces stored, want %d", got, n)
	}
	later := t0.Add(2 * time.Minute)
	// One call adds its nonce and removes at most pruneBatch expired ones.
	if err := s.UseNonce(ctx, "sn_a", "fresh-0000000000", later.Add(time.Minute), later); err != nil {
		t.Fatal(err)
	}
	if got, want := countKeys(t, s, bucketClientNonces), n+1-pruneBatch; got != want {
		t.Fatalf("after one call: %d nonces, want %d", got, want)
	}
	for i := 1; i <= 4; i++ {
		if err := s.UseNonce(ctx, "sn_a", fmt.Sprintf("fresh-%010d", i), later.Add(time.Minute), later); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := countKeys(t, s, bucketClientNonces), 5; got != want {
		t.Fatalf("after the backlog: %d nonces, want %d (the unexpired ones)", got, want)
	}
	if got := countKeys(t, s, bucketNonceExpiry); got != 5 {
		t.Fatalf("expiry index: %d entries, want 5", got)
	}
}

// A nonce reused after expiry keeps its new entry when the old expiry's
// index entry is pruned.
func TestPruneKeepsReusedNonce(t *testing.T) {
	s := openTemp(t)
	if err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(2 * time.Minute)
	if err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", t1.Add(time.Minute), t1); err != nil {
		t.Fatal(err)
	}
	if err := s.UseNonce(ctx, "sn_a", "nonce-0000000002", t1.Add(time.Minute), t1); err != nil {
		t.Fatal(err)
	}
	if err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", t1.Add(time.Minute), t1); !errors.Is(err, ErrNonceReplayed) {
		t.Fatalf("reused nonce after pruning: %v, want ErrNonceReplayed", err)
	}
}

func TestUseNonceConcurrentOneWins(t *testing.T) {
	s := openTemp(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, replayed := 0, 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.UseNonce(ctx, "sn_a", "nonce-0000000001", t0.Add(time.Minute), t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrNonceReplayed):
				replayed++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || replayed != 15 {
		t.Fatalf("%d accepted, %d replayed; want 1 and 15", ok, replayed)
	}
}

func TestClientsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := putClient(t, s, "sn_p")
	c, err = s.RotateClientKey(ctx, "sn_p", []byte("rotated-key-0123456789"), time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Client("sn_p")
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("after reopen: %+v, %v; want %+v", got, err, c)
	}
}
