package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"

	"showpos/terminal/sealkey"
)

// Webhooks (schema 11). A register client may have one webhook: a URL the
// terminal POSTs each event of the log to, signed with a secret of the
// client's own (the deliverer is sync/webhook). bucketWebhooks maps the
// client's service number to a webhookRecord (JSON). The secret is sealed
// as the clients' service keys are (clients.go), bound as associated data
// to the client's number and the secret's creation time, so a sealed
// secret moved to another client does not open; the file alone yields no
// secret.
//
// Each webhook is the event sink "webhook:<number>" (events.go): setting
// the first URL registers it at the log's end (events from then on), in
// the same write; removing the webhook, or revoking its client, removes
// the sink in the same write, so no sink outlives its webhook and holds
// the log back.
//
// The record also keeps what delivery must not forget across a restart:
// since when the receiver has been failing, with no 2xx since (so a
// restart does not restart webhooks.give_up's clock), which event is
// being retried, and how many events were given up. The failing period is
// the receiver's, not one event's: giving an event up does not end it,
// only a 2xx (or setting the URL again) does, so a receiver gone for good
// is known as such and its backlog drains (sync/webhook). The
// per-attempt log is the deliverer's, in memory.
var bucketWebhooks = []byte("webhooks") // service number -> webhookRecord (JSON)

// Limits on what SetWebhook accepts. The URL's scheme and host are the
// caller's to check (httpapi); the store bounds what it keeps.
const (
	MaxWebhookURL    = 2048
	MinWebhookSecret = 32 // bytes; the API draws 32 random bytes and shows them as text
	MaxWebhookSecret = 128
)

// Webhook is a client's webhook. Secret is in the clear: never log it,
// never show it but once, when it is made.
type Webhook struct {
	Client  string // the client's service number
	URL     string
	Secret  []byte
	Created time.Time // when the secret was made
	Updated time.Time // when the URL was last set
	// FailingSince is when the receiver began failing, with no 2xx since
	// (zero: it is not failing): the start of webhooks.give_up's period.
	// FailingSeq is the event being retried in it (0: none).
	FailingSeq   uint64
	FailingSince time.Time
	// GivenUp counts events abandoned after webhooks.give_up; LastGivenUp
	// is the last of them (0: none).
	GivenUp     uint64
	LastGivenUp uint64
}

// SinkName is the webhook's event sink.
func (h Webhook) SinkName() string { return WebhookSink(h.Client) }

// WebhookSink is the event sink of client number's webhook.
func WebhookSink(number string) string { return "webhook:" + number }

type webhookRecord struct {
	Client       string    `json:"client"`
	URL          string    `json:"url"`
	Sealed       []byte    `json:"sealed"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	FailingSeq   uint64    `json:"failing_seq,omitempty"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	GivenUp      uint64    `json:"given_up,omitempty"`
	LastGivenUp  uint64    `json:"last_given_up,omitempty"`
}

// webhookAD binds a sealed secret to its client and creation time.
func webhookAD(number string, created time.Time) []byte {
	ad := append([]byte(nil), "showpos/store/webhook-secret/1\x00"...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(number)))
	ad = append(ad, number...)
	return appendTime(ad, created)
}

func decodeWebhookRecord(number, v []byte) (webhookRecord, error) {
	var rec webhookRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return webhookRecord{}, fmt.Errorf("webhook %q: %v: %w", number, err, ErrCorrupt)
	}
	if rec.Client != string(number) {
		return webhookRecord{}, fmt.Errorf("webhook stored under %q is client %q's: %w", number, rec.Client, ErrCorrupt)
	}
	return rec, nil
}

func openWebhook(rec webhookRecord, key *sealkey.Key) (Webhook, error) {
	secret, err := key.Open(rec.Sealed, webhookAD(rec.Client, rec.Created))
	if err != nil {
		return Webhook{}, fmt.Errorf("webhook %q: its secret does not open with the sealing key %s (changed, or moved from another client): %v: %w", rec.Client, key, err, ErrCorrupt)
	}
	return Webhook{Client: rec.Client, URL: rec.URL, Secret: secret, Created: rec.Created, Updated: rec.Updated,
		FailingSeq: rec.FailingSeq, FailingSince: rec.FailingSince, GivenUp: rec.GivenUp, LastGivenUp: rec.LastGivenUp}, nil
}

func (w *wtx) webhook(number string) (webhookRecord, bool, error) {
	v, err := w.getChecked(bucketWebhooks, []byte(number))
	if err != nil || v == nil {
		return webhookRecord{}, false, err
	}
	rec, err := decodeWebhookRecord([]byte(number), v)
	return rec, err == nil, err
}

func (w *wtx) putWebhook(rec webhookRecord) error {
	enc, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return w.putChecked(bucketWebhooks, []byte(rec.Client), enc)
}

// SetWebhook sets the webhook URL of the client number, durably, and
// returns the webhook with its secret, and whether that secret is new
// (then the caller shows it, once). The client's first webhook, or rotate,
// takes newSecret (MinWebhookSecret to MaxWebhookSecret bytes: the HMAC
// key, made from crypto/rand by the caller); otherwise
// the secret is kept, so a register that moves its receiver keeps
// verifying with what it has. Setting a URL also ends the current
// event's failing period (a fixed URL gets a full webhooks.give_up). The
// first webhook registers the sink "webhook:<number>" at the log's end.
// Errors: ErrUnknownClient, ErrClientRevoked.
func (s *Store) SetWebhook(ctx context.Context, number, url string, newSecret []byte, rotate bool, now time.Time) (Webhook, bool, error) {
	switch {
	case url == "" || len(url) > MaxWebhookURL:
		return Webhook{}, false, fmt.Errorf("set webhook of %q: URL of %d bytes: want 1 to %d", number, len(url), MaxWebhookURL)
	case len(newSecret) < MinWebhookSecret || len(newSecret) > MaxWebhookSecret:
		return Webhook{}, false, fmt.Errorf("set webhook of %q: secret of %d bytes: want %d to %d", number, len(newSecret), MinWebhookSecret, MaxWebhookSecret)
	}
	now = storeTime(now)
	var out Webhook
	fresh := false
	err := s.write(ctx, func(w *wtx) error {
		fresh = false
		v, err := w.getChecked(bucketClients, []byte(number))
		if err != nil {
			return err
		}
		if v == nil {
			return ErrUnknownClient
		}
		c, err := decodeClientRecord([]byte(number), v)
		if err != nil {
			return err
		}
		if !c.Revoked.IsZero() {
			return ErrClientRevoked
		}
		rec, ok, err := w.webhook(number)
		if err != nil {
			return err
		}
		if !ok || rotate {
			rec.Client, rec.Created = number, now
			rec.Sealed = s.key.Seal(newSecret, webhookAD(number, now))
			fresh = true
		}
		rec.URL, rec.Updated = url, now
		rec.FailingSeq, rec.FailingSince = 0, time.Time{}
		if err := w.putWebhook(rec); err != nil {
			return err
		}
		if err := registerSinkAtEnd(w, WebhookSink(number), now); err != nil {
			return err
		}
		out, err = openWebhook(rec, s.key)
		return err
	})
	if err != nil {
		return Webhook{}, false, fmt.Errorf("set webhook of %q: %w", number, err)
	}
	return out, fresh, nil
}

// registerSinkAtEnd is RegisterSink(name, SinkFromEnd) inside a write: a
// sink that exists keeps its cursor.
func registerSinkAtEnd(w *wtx, name string, now time.Time) error {
	if v, err := w.getChecked(bucketEventSinks, []byte(name)); err != nil || v != nil {
		return err
	}
	enc, err := json.Marshal(sinkRecord{Delivered: w.bucket(bucketEvents).Sequence(), RegisteredAt: now})
	if err != nil {
		return err
	}
	return w.putChecked(bucketEventSinks, []byte(name), enc)
}

// dropWebhook deletes the client's webhook and its sink, if any, in w.
func dropWebhook(w *wtx, number string) (bool, error) {
	v, err := w.getChecked(bucketWebhooks, []byte(number))
	if err != nil || v == nil {
		return false, err
	}
	if err := w.del(bucketWebhooks, []byte(number)); err != nil {
		return false, err
	}
	name := []byte(WebhookSink(number))
	if sv, err := w.getChecked(bucketEventSinks, name); err != nil {
		return false, err
	} else if sv != nil {
		if err := w.del(bucketEventSinks, name); err != nil {
			return false, err
		}
	}
	return true, nil
}

// RemoveWebhook deletes the client's webhook and its sink, durably: its
// undelivered events are no longer delivered nor kept for it. It reports
// whether there was one. RevokeClient does the same.
func (s *Store) RemoveWebhook(ctx context.Context, number string) (bool, error) {
	removed := false
	err := s.write(ctx, func(w *wtx) error {
		var err error
		removed, err = dropWebhook(w, number)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remove webhook of %q: %w", number, err)
	}
	return removed, nil
}

// Webhook returns the client's webhook, secret opened; ErrNoWebhook if it
// has none.
func (s *Store) Webhook(number string) (Webhook, error) {
	var out Webhook
	err := s.view(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketWebhooks, []byte(number))
		if err != nil {
			return err
		}
		if v == nil {
			return ErrNoWebhook
		}
		rec, err := decodeWebhookRecord([]byte(number), v)
		if err != nil {
			return err
		}
		out, err = openWebhook(rec, s.key)
		return err
	})
	if err != nil {
		return Webhook{}, fmt.Errorf("webhook of %q: %w", number, err)
	}
	return out, nil
}

// Webhooks returns every webhook in service number order, secrets opened.
// One that does not open is skipped and reported in the error (joined),
// so the others are still delivered.
func (s *Store) Webhooks() ([]Webhook, error) {
	var out []Webhook
	var bad []error
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketWebhooks).ForEach(func(k, v []byte) error {
			body, err := checkValue(bucketWebhooks, k, v)
			if err == nil {
				var rec webhookRecord
				if rec, err = decodeWebhookRecord(k, body); err == nil {
					var h Webhook
					if h, err = openWebhook(rec, s.key); err == nil {
						out = append(out, h)
						return nil
					}
				}
			}
			bad = append(bad, err)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	return out, errors.Join(bad...)
}

// WebhookFailing records, durably, that delivering event seq to the
// client's webhook failed, the receiver failing since since unless it was
// already failing: an earlier start is kept (across events, attempts and
// restarts), so webhooks.give_up counts from the receiver's first failure
// after its last 2xx. It is a no-op while seq is already the event
// recorded as failing. Errors: ErrNoWebhook.
func (s *Store) WebhookFailing(ctx context.Context, number string, seq uint64, since time.Time) error {
	err := s.write(ctx, func(w *wtx) error {
		rec, ok, err := w.webhook(number)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoWebhook
		}
		if rec.FailingSeq == seq && !rec.FailingSince.IsZero() {
			return nil
		}
		rec.FailingSeq = seq
		if rec.FailingSince.IsZero() {
			rec.FailingSince = storeTime(since)
		}
		return w.putWebhook(rec)
	})
	if err != nil {
		return fmt.Errorf("webhook of %q failing at %d: %w", number, seq, err)
	}
	return nil
}

// WebhookDelivered moves the webhook's sink past seq after a 2xx (as
// MarkDelivered) and, in the same write, ends the receiver's failing
// period. gaveUp true records instead that seq was abandoned after
// webhooks.give_up: counted, remembered as LastGivenUp, and passed over
// all the same, so the next event is delivered; the failing period goes
// on (FailingSince is kept: the receiver still has not answered). Errors:
// ErrNoWebhook, ErrUnknownSink, ErrBadSink (seq beyond the log).
func (s *Store) WebhookDelivered(ctx context.Context, number string, seq uint64, gaveUp bool) error {
	name := WebhookSink(number)
	err := s.write(ctx, func(w *wtx) error {
		rec, ok, err := w.webhook(number)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoWebhook
		}
		sk, err := sinkAt(w.tx, name)
		if err != nil {
			return err
		}
		if seq <= sk.Delivered {
			return nil // a late repeat: already past it
		}
		if last := w.bucket(bucketEvents).Sequence(); seq > last {
			return fmt.Errorf("seq %d beyond the log's last %d: %w", seq, last, ErrBadSink)
		}
		sk.Delivered = seq
		enc, err := json.Marshal(sk)
		if err != nil {
			return err
		}
		if err := w.putChecked(bucketEventSinks, []byte(name), enc); err != nil {
			return err
		}
		changed := false
		if rec.FailingSeq != 0 && rec.FailingSeq <= seq {
			rec.FailingSeq, changed = 0, true
		}
		if !gaveUp && !rec.FailingSince.IsZero() {
			rec.FailingSince, changed = time.Time{}, true
		}
		if gaveUp {
			rec.GivenUp, rec.LastGivenUp, changed = rec.GivenUp+1, seq, true
		}
		if !changed {
			return nil
		}
		return w.putWebhook(rec)
	})
	if err != nil {
		return fmt.Errorf("webhook of %q delivered %d: %w", number, seq, err)
	}
	return nil
}

// checkWebhooks is Open's check of the webhooks (schema 11): each record
// is its own client's, and that client is stored and not revoked.
// (Secrets are opened when read; one that does not open is that client's
// damage, not the store's.)
func checkWebhooks(tx *bbolt.Tx) error {
	b := tx.Bucket(bucketWebhooks)
	if b == nil {
		return fmt.Errorf("bucket %s missing: %w", bucketWebhooks, ErrCorrupt)
	}
	return b.ForEach(func(k, v []byte) error {
		body, err := checkValue(bucketWebhooks, k, v)
		if err != nil {
			return err
		}
		if _, err := decodeWebhookRecord(k, body); err != nil {
			return err
		}
		cv, err := getChecked(tx, bucketClients, k)
		if err != nil {
			return err
		}
		if cv == nil {
			return fmt.Errorf("webhook of %q, which is not a stored client: %w", k, ErrCorrupt)
		}
		return nil
	})
}

// migrateWebhooks brings a schema 10 file to schema 11 in one bbolt
// transaction that also records the new version: the webhooks bucket,
// empty. It then verifies the file again.
func migrateWebhooks(db *bbolt.DB, path string, log *slog.Logger) error {
	return migration{from: schemaV10, to: schemaV11, what: "webhooks", buckets: [][]byte{bucketWebhooks}}.run(db, path, log)
}
