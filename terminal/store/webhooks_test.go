package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func secret32(b byte) []byte { return bytes.Repeat([]byte{b}, MinWebhookSecret) }

func TestSetWebhookMakesTheSecretOnceAndRotatesOnlyWhenAsked(t *testing.T) {
	s := openTemp(t)
	putClient(t, s, "sn_a")
	mustAccept(t, s, newPayment(putRequest(t, s, "before").ID)) // events before the webhook are not its

	h, fresh, err := s.SetWebhook(ctx, "sn_a", "https://pos.example/hook", secret32(1), false, t0)
	if err != nil || !fresh || !bytes.Equal(h.Secret, secret32(1)) || h.URL != "https://pos.example/hook" {
		t.Fatalf("first SetWebhook = %+v, fresh %v, %v; want the given secret, fresh", h, fresh, err)
	}
	sk, err := s.Sink(WebhookSink("sn_a"))
	if err != nil {
		t.Fatalf("the webhook's sink: %v", err)
	}
	if st, _ := s.EventLog(); sk.Delivered != st.Last || st.Last == 0 {
		t.Errorf("sink registered at %d, want the log's end %d", sk.Delivered, st.Last)
	}

	cases := []struct {
		name      string
		url       string
		secret    []byte
		rotate    bool
		wantFresh bool
		want      []byte
	}{
		{"a new URL keeps the secret", "https://pos.example/hook2", secret32(2), false, false, secret32(1)},
		{"rotate takes the new secret", "https://pos.example/hook2", secret32(3), true, true, secret32(3)},
		{"the same URL again keeps the rotated secret", "https://pos.example/hook2", secret32(4), false, false, secret32(3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, fresh, err := s.SetWebhook(ctx, "sn_a", c.url, c.secret, c.rotate, t0.Add(time.Minute))
			if err != nil || fresh != c.wantFresh || !bytes.Equal(h.Secret, c.want) || h.URL != c.url {
				t.Fatalf("SetWebhook = %+v, fresh %v, %v; want secret %x fresh %v", h, fresh, err, c.want, c.wantFresh)
			}
			got, err := s.Webhook("sn_a")
			if err != nil || !bytes.Equal(got.Secret, c.want) || got.URL != c.url {
				t.Fatalf("Webhook = %+v, %v", got, err)
			}
		})
	}
	if after, _ := s.Sink(WebhookSink("sn_a")); after.Delivered != sk.Delivered {
		t.Errorf("setting the URL again moved the sink from %d to %d", sk.Delivered, after.Delivered)
	}
}

func TestSetWebhookRefusesAndChangesNothing(t *testing.T) {
	s := openTemp(t)
	putClient(t, s, "sn_a")
	putClient(t, s, "sn_gone")
	if _, err := s.RevokeClient(ctx, "sn_gone", t0); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, number, url string
		secret            []byte
		want              error
	}{
		{"an unknown client", "sn_nobody", "https://x.example/", secret32(1), ErrUnknownClient},
		{"a revoked client", "sn_gone", "https://x.example/", secret32(1), ErrClientRevoked},
		{"an empty URL", "sn_a", "", secret32(1), nil},
		{"an oversize URL", "sn_a", "https://x.example/" + string(bytes.Repeat([]byte("a"), MaxWebhookURL)), secret32(1), nil},
		{"a short secret", "sn_a", "https://x.example/", secret32(1)[:16], nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := s.SetWebhook(ctx, c.number, c.url, c.secret, false, t0)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("SetWebhook = %v, want an error (%v)", err, c.want)
			}
			if hs, err := s.Webhooks(); err != nil || len(hs) != 0 {
				t.Errorf("webhooks after a refusal: %+v, %v", hs, err)
			}
			if sinks, _ := s.Sinks(); len(sinks) != 0 {
				t.Errorf("sinks after a refusal: %+v", sinks)
			}
		})
	}
}

func TestWebhookSecretIsSealedInTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putClient(t, s, "sn_a")
	secret := []byte("webhook-secret-in-the-clear-0123")
	if _, _, err := s.SetWebhook(ctx, "sn_a", "https://pos.example/hook", secret, false, t0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, secret) {
		t.Fatal("the store file holds the webhook secret in the clear")
	}
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h, err := s.Webhook("sn_a"); err != nil || !bytes.Equal(h.Secret, secret) {
		t.Fatalf("after reopening: %+v, %v", h, err)
	}
	// A sealed secret moved to another client does not open.
	putClient(t, s, "sn_b")
	err = s.db.Update(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketWebhooks, []byte("sn_a"))
		if err != nil {
			return err
		}
		rec, err := decodeWebhookRecord([]byte("sn_a"), v)
		if err != nil {
			return err
		}
		rec.Client = "sn_b"
		w := &wtx{tx: tx}
		return w.putWebhook(rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhook("sn_b"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a secret moved to another client: %v, want ErrCorrupt", err)
	}
}

func TestWebhookDeliveryStateSurvivesAndGivesUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putClient(t, s, "sn_a")
	if _, _, err := s.SetWebhook(ctx, "sn_a", "https://pos.example/hook", secret32(1), false, t0); err != nil {
		t.Fatal(err)
	}
	mustAccept(t, s, newPayment(putRequest(t, s, "r1").ID)) // payment.accepted, request.paid
	evs, err := s.Events(0, 0)
	if err != nil || len(evs) != 2 {
		t.Fatalf("Events = %d, %v", len(evs), err)
	}
	first, second := evs[0].Seq, evs[1].Seq
	if err := s.WebhookFailing(ctx, "sn_a", first, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.WebhookFailing(ctx, "sn_a", first, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path, nil); err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	h, err := s.Webhook("sn_a")
	if err != nil || h.FailingSeq != first || !h.FailingSince.Equal(t0) {
		t.Fatalf("after a restart: failing %d since %v (%v); want %d since the first failure %v", h.FailingSeq, h.FailingSince, err, first, t0)
	}
	if err := s.WebhookDelivered(ctx, "sn_a", first, true); err != nil {
		t.Fatal(err)
	}
	h, _ = s.Webhook("sn_a")
	sk, _ := s.Sink(WebhookSink("sn_a"))
	if h.GivenUp != 1 || h.LastGivenUp != first || h.FailingSeq != 0 || sk.Delivered != first {
		t.Fatalf("after giving up %d: %+v, sink at %d", first, h, sk.Delivered)
	}
	// Giving up is not the receiver answering: its failing period goes on,
	// through the next event's failure and a restart, until a 2xx.
	if !h.FailingSince.Equal(t0) {
		t.Fatalf("after giving up %d: failing since %v, want the receiver's first failure %v kept", first, h.FailingSince, t0)
	}
	if err := s.WebhookFailing(ctx, "sn_a", second, t0.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path, nil); err != nil {
		t.Fatal(err)
	}
	h, _ = s.Webhook("sn_a")
	if h.FailingSeq != second || !h.FailingSince.Equal(t0) {
		t.Fatalf("the next event failing, after a restart: failing %d since %v; want %d since %v", h.FailingSeq, h.FailingSince, second, t0)
	}
	if err := s.WebhookDelivered(ctx, "sn_a", second, false); err != nil {
		t.Fatal(err)
	}
	h, _ = s.Webhook("sn_a")
	if h.FailingSeq != 0 || !h.FailingSince.IsZero() {
		t.Fatalf("after a 2xx: failing %d since %v; want the period ended", h.FailingSeq, h.FailingSince)
	}
	if err := s.WebhookDelivered(ctx, "sn_a", first, true); err != nil {
		t.Fatal(err)
	}
	h, _ = s.Webhook("sn_a")
	sk, _ = s.Sink(WebhookSink("sn_a"))
	if h.GivenUp != 1 || sk.Delivered != second {
		t.Errorf("a late repeat moved things: given up %d, sink at %d", h.GivenUp, sk.Delivered)
	}
	if err := s.WebhookDelivered(ctx, "sn_a", second+5, false); !errors.Is(err, ErrBadSink) {
		t.Errorf("delivered beyond the log: %v, want ErrBadSink", err)
	}
}

func TestRemovingOrRevokingDropsTheWebhookAndItsSink(t *testing.T) {
	for _, how := range []string{"remove", "revoke"} {
		t.Run(how, func(t *testing.T) {
			s := openTemp(t)
			putClient(t, s, "sn_a")
			if _, _, err := s.SetWebhook(ctx, "sn_a", "https://pos.example/hook", secret32(1), false, t0); err != nil {
				t.Fatal(err)
			}
			if how == "remove" {
				if ok, err := s.RemoveWebhook(ctx, "sn_a"); err != nil || !ok {
					t.Fatalf("RemoveWebhook = %v, %v", ok, err)
				}
				if ok, err := s.RemoveWebhook(ctx, "sn_a"); err != nil || ok {
					t.Fatalf("RemoveWebhook again = %v, %v; want false, nil", ok, err)
				}
			} else if _, err := s.RevokeClient(ctx, "sn_a", t0); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Webhook("sn_a"); !errors.Is(err, ErrNoWebhook) {
				t.Errorf("Webhook after %s: %v, want ErrNoWebhook", how, err)
			}
			if _, err := s.Sink(WebhookSink("sn_a")); !errors.Is(err, ErrUnknownSink) {
				t.Errorf("the sink after %s: %v, want ErrUnknownSink", how, err)
			}
		})
	}
}

func TestOpenMigratesSchema10ToWebhooks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putClient(t, s, "sn_a")
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := unchain(tx); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketWebhooks); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV10)))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, &Options{HomeChainID: testChain}); err != nil {
		t.Fatalf("Open of a schema 10 file: %v", err)
	}
	defer s.Close()
	var schema string
	_ = s.db.View(func(tx *bbolt.Tx) error { schema, _ = readSchema(tx); return nil })
	if schema != schemaVersion {
		t.Fatalf("schema %q after migration, want %q", schema, schemaVersion)
	}
	if _, _, err := s.SetWebhook(ctx, "sn_a", "https://pos.example/hook", secret32(1), false, t0); err != nil {
		t.Fatalf("SetWebhook after migration: %v", err)
	}
}
