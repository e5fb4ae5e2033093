package store

import (
	"context"
	"crypto/hmac"
	"fmt"
	"time"
)

// PutClient registers a new client; it is durable when PutClient returns
// nil. The client needs a valid service number (1 to MaxClientNumber bytes
// of printable ASCII, no space), a Role, exactly one key with no NotAfter
// (MinSecret to MaxSecret bytes) and no Revoked time. An existing number
// gives ErrClientExists and changes nothing. The secret is stored sealed
// (see clients.go), never in the clear.
func (s *Store) PutClient(ctx context.Context, c Client) error {
	if err := validNumber(c.Number); err != nil {
		return fmt.Errorf("put client: %v", err)
	}
	switch {
	case len(c.Name) > MaxClientName:
		return fmt.Errorf("put client %q: name of %d bytes: want at most %d", c.Number, len(c.Name), MaxClientName)
	case !c.Role.Valid():
		return fmt.Errorf("put client %q: role %q: want %q or %q", c.Number, c.Role, RoleRegister, RoleFleet)
	case len(c.Keys) != 1:
		return fmt.Errorf("put client %q: %d keys: want exactly one", c.Number, len(c.Keys))
	case !c.Keys[0].NotAfter.IsZero():
		return fmt.Errorf("put client %q: the current key has a NotAfter", c.Number)
	case !c.Revoked.IsZero():
		return fmt.Errorf("put client %q: a new client cannot be revoked", c.Number)
	}
	if err := validSecret(c.Keys[0].Secret); err != nil {
		return fmt.Errorf("put client %q: %v", c.Number, err)
	}
	enc, err := encodeClient(c, s.key)
	if err != nil {
		return fmt.Errorf("put client %q: %w", c.Number, err)
	}
	return s.write(ctx, func(w *wtx) error {
		if old, err := w.getChecked(bucketClients, []byte(c.Number)); err != nil {
			return fmt.Errorf("put client %q: %w", c.Number, err)
		} else if old != nil {
			return fmt.Errorf("put client %q: %w", c.Number, ErrClientExists)
		}
		if err := w.putChecked(bucketClients, []byte(c.Number), enc); err != nil {
			return fmt.Errorf("put client %q: %w", c.Number, err)
		}
		return nil
	})
}

// RotateClientKey makes newSecret the client's current key, durably, and
// returns the client. The key that was current stays honoured until
// now+grace (a grace of 0 ends it at once); older keys whose grace has
// ended by now are dropped. A newSecret equal to a key the client still
// holds is refused. Errors: ErrUnknownClient, ErrClientRevoked.
func (s *Store) RotateClientKey(ctx context.Context, number string, newSecret []byte, grace time.Duration, now time.Time) (Client, error) {
	if err := validSecret(newSecret); err != nil {
		return Client{}, fmt.Errorf("rotate key of client %q: %v", number, err)
	}
	if grace < 0 {
		return Client{}, fmt.Errorf("rotate key of client %q: negative grace %s", number, grace)
	}
	secret := append([]byte(nil), newSecret...)
	var out Client
	err := s.operatorWrite(ctx, func(w *wtx) error {
		v, err := w.getChecked(bucketClients, []byte(number))
		if err != nil {
			return fmt.Errorf("rotate key of client %q: %w", number, err)
		}
		if v == nil {
			return fmt.Errorf("rotate key of client %q: %w", number, ErrUnknownClient)
		}
		c, err := decodeClient([]byte(number), v, s.key)
		if err != nil {
			return fmt.Errorf("rotate key of client %q: %w", number, err)
		}
		if !c.Revoked.IsZero() {
			return fmt.Errorf("rotate key of client %q: %w", number, ErrClientRevoked)
		}
		keys := []ClientKey{{Secret: secret}}
		for i, k := range c.Keys {
			if hmac.Equal(k.Secret, secret) {
				return fmt.Errorf("rotate key of client %q: the new key equals one it holds", number)
			}
			if i == 0 && k.NotAfter.IsZero() {
				k.NotAfter = now.Add(grace)
			}
			if k.NotAfter.After(now) && len(keys) < maxClientKeys {
				keys = append(keys, k)
			}
		}
		c.Keys = keys
		enc, err := encodeClient(c, s.key)
		if err != nil {
			return fmt.Errorf("rotate key of client %q: %w", number, err)
		}
		if err := w.putChecked(bucketClients, []byte(number), enc); err != nil {
			return fmt.Errorf("rotate key of client %q: %w", number, err)
		}
		out, err = decodeClient([]byte(number), enc, s.key)
		return err
	})
	if err != nil {
		return Client{}, err
	}
	return out, nil
}

// RevokeClient marks the client revoked as of now, durably, and returns it:
// from then on none of its keys is honoured, and none is kept: the record
// keeps the client's number, name, role and times, and drops its sealed
// keys. A client whose keys do not open (damage, see clients.go) can
// still be revoked. Its webhook, if any, and the webhook's event sink are
// removed in the same write. Revoking a revoked client returns it unchanged with no
// error. Errors: ErrUnknownClient.
func (s *Store) RevokeClient(ctx context.Context, number string, now time.Time) (Client, error) {
	var out Client
	err := s.operatorWrite(ctx, func(w *wtx) error {
		v, err := w.getChecked(bucketClients, []byte(number))
		if err != nil {
			return fmt.Errorf("revoke client %q: %w", number, err)
		}
		if v == nil {
			return fmt.Errorf("revoke client %q: %w", number, ErrUnknownClient)
		}
		rec, err := decodeClientRecord([]byte(number), v)
		if err != nil {
			return fmt.Errorf("revoke client %q: %w", number, err)
		}
		c := clientMeta(rec)
		if !c.Revoked.IsZero() && len(rec.Keys) == 0 {
			out = c
			return nil
		}
		if c.Revoked.IsZero() {
			c.Revoked = now
		}
		enc, err := encodeClient(c, s.key)
		if err != nil {
			return fmt.Errorf("revoke client %q: %w", number, err)
		}
		if err := w.putChecked(bucketClients, []byte(number), enc); err != nil {
			return fmt.Errorf("revoke client %q: %w", number, err)
		}
		// Its webhook and the webhook's sink go with its keys.
		if _, err := dropWebhook(w, number); err != nil {
			return fmt.Errorf("revoke client %q: %w", number, err)
		}
		out, err = decodeClient([]byte(number), enc, s.key)
		return err
	})
	if err != nil {
		return Client{}, err
	}
	return out, nil
}
