package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"
)

// Third parties' registrations (schema 9): a third party asks for a
// service number, the operator approves or rejects, and the third party
// collects its service number and key once, authenticated by a pickup
// secret the terminal gave it when it asked.
//
// The pickup secret is sealed (AES-256-GCM with the store's sealing key,
// as service keys are), not hashed: the pickup is authenticated by an HMAC
// of the request keyed with the secret (terminal/auth's scheme), and
// checking an HMAC needs the key itself. It is bound to its registration's
// ID as associated data. On approval the client is created in the same
// transaction (its key sealed like every client's) and a second sealed copy
// of the key, bound to the ID and the service number, is kept in the
// registration until it is collected; collecting it erases that copy, so
// the key is handed out once and never again.
//
// Layout: bucketRegistrations maps an ID to a registrationRecord (JSON);
// bucketRegExpiry (expires (8, big-endian Unix nanoseconds) || ID -> ID)
// indexes the registrations that expire, pending and rejected ones, so
// that they are pruned oldest first with bounded work. Approved and
// collected ones never expire: the approved one's client exists, and the
// operator revokes it like any other.
var (
	bucketRegistrations = []byte("registrations")
	bucketRegExpiry     = []byte("registration_expiry")
)

// RegistrationState is a registration's life stage.
type RegistrationState string

const (
	RegistrationPending   RegistrationState = "pending"
	RegistrationApproved  RegistrationState = "approved"
	RegistrationRejected  RegistrationState = "rejected"
	RegistrationCollected RegistrationState = "collected"
	// RegistrationExpired is never stored: a pending registration past its
	// Expires reads as expired until it is pruned.
	RegistrationExpired RegistrationState = "expired"
)

// Limits on what PutRegistration accepts.
const (
	MaxRegistrationID      = 32
	MaxRegistrationName    = MaxClientName
	MaxRegistrationContact = 200
	MaxRegistrationReason  = 500
	regPruneBatch          = 16
)

// Errors of registrations, returned wrapped; test with errors.Is.
var (
	// ErrUnknownRegistration: no registration with that ID is stored (or it
	// expired and was pruned).
	ErrUnknownRegistration = errors.New("unknown registration")
	// ErrRegistrationState: the registration is not in a state that allows
	// the operation (approving a collected one, collecting a pending one).
	ErrRegistrationState = errors.New("registration not in a state for this")
	// ErrRegistrationExists: PutRegistration was given an ID already stored.
	ErrRegistrationExists = errors.New("registration already exists")
)

// Registration is one third party's request for a service number.
// PickupSecret is filled by Registration and CollectRegistration, Key only
// by CollectRegistration (the one time it is handed out); Registrations
// fills neither.
type Registration struct {
	ID           string
	Name         string
	Contact      string
	Role         Role // the role asked for: advisory, the operator chooses
	Reason       string
	Created      time.Time
	Expires      time.Time
	State        RegistrationState
	Decided      time.Time // approved or rejected at
	Collected    time.Time
	Number       string // the service number, once approved
	Granted      Role   // the role the operator granted
	PickupSecret []byte
	Key          []byte
}

type registrationRecord struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Contact   string            `json:"contact"`
	Role      Role              `json:"role"`
	Reason    string            `json:"reason"`
	Created   time.Time         `json:"created"`
	Expires   time.Time         `json:"expires"`
	State     RegistrationState `json:"state"`
	Decided   time.Time         `json:"decided,omitzero"`
	Collected time.Time         `json:"collected,omitzero"`
	Number    string            `json:"number,omitempty"`
	Granted   Role              `json:"granted,omitempty"`
	Secret    []byte            `json:"secret"`        // the sealed pickup secret
	Key       []byte            `json:"key,omitempty"` // the sealed key, while approved
}

func regSecretAD(id string) []byte {
	return append([]byte("showpos/outbox/registration-secret/1\x00"), id...)
}

func regKeyAD(id, number string) []byte {
	ad := append([]byte("showpos/outbox/registration-key/1\x00"), id...)
	return append(append(ad, 0), number...)
}

func regExpiryKey(expires time.Time, id string) []byte {
	return append(expiryBytes(expires), id...)
}

// view returns the registration without secrets, its state derived at now.
func (rec registrationRecord) view(now time.Time) Registration {
	st := rec.State
	if st == RegistrationPending && !now.Before(rec.Expires) {
		st = RegistrationExpired
	}
	return Registration{ID: rec.ID, Name: rec.Name, Contact: rec.Contact, Role: rec.Role, Reason: rec.Reason,
		Created: rec.Created, Expires: rec.Expires, State: st, Decided: rec.Decided, Collected: rec.Collected,
		Number: rec.Number, Granted: rec.Granted}
}

func decodeRegistration(id, v []byte) (registrationRecord, error) {
	var rec registrationRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("decode registration: %v: %w", err, ErrCorrupt)
	}
	if rec.ID != string(id) {
		return rec, fmt.Errorf("the record stored under this ID is registration %q's: %w", rec.ID, ErrCorrupt)
	}
	return rec, nil
}

func (w *wtx) registration(id string) (registrationRecord, error) {
	v, err := w.getChecked(bucketRegistrations, []byte(id))
	if err != nil {
		return registrationRecord{}, err
	}
	if v == nil {
		return registrationRecord{}, ErrUnknownRegistration
	}
	return decodeRegistration([]byte(id), v)
}

func (w *wtx) putRegistration(rec registrationRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return w.putChecked(bucketRegistrations, []byte(rec.ID), b)
}

// PutRegistration stores a new pending registration, durably, its pickup
// secret sealed. It needs an ID (printable ASCII, no space, at most
// MaxRegistrationID bytes), a name, contact and reason within their
// limits, a valid Role, Expires after Created and a pickup secret of
// MinSecret to MaxSecret bytes. It first prunes up to a few registrations
// expired by now, so the expired never pile up while registrations keep
// coming. Errors: ErrRegistrationExists.
func (s *Store) PutRegistration(ctx context.Context, r Registration, now time.Time) error {
	switch err := validNumber(r.ID); {
	case err != nil || len(r.ID) > MaxRegistrationID:
		return fmt.Errorf("put registration: ID %q: want 1 to %d bytes of printable ASCII without space", r.ID, MaxRegistrationID)
	case r.Name == "" || len(r.Name) > MaxRegistrationName:
		return fmt.Errorf("put registration %q: name of %d bytes: want 1 to %d", r.ID, len(r.Name), MaxRegistrationName)
	case r.Contact == "" || len(r.Contact) > MaxRegistrationContact:
		return fmt.Errorf("put registration %q: contact of %d bytes: want 1 to %d", r.ID, len(r.Contact), MaxRegistrationContact)
	case len(r.Reason) > MaxRegistrationReason:
		return fmt.Errorf("put registration %q: reason of %d bytes: want at most %d", r.ID, len(r.Reason), MaxRegistrationReason)
	case !r.Role.Valid():
		return fmt.Errorf("put registration %q: role %q: want %q or %q", r.ID, r.Role, RoleRegister, RoleFleet)
	case !r.Expires.After(r.Created):
		return fmt.Errorf("put registration %q: expires %s not after created %s", r.ID, r.Expires, r.Created)
	}
	if err := validSecret(r.PickupSecret); err != nil {
		return fmt.Errorf("put registration %q: pickup secret: %v", r.ID, err)
	}
	rec := registrationRecord{ID: r.ID, Name: r.Name, Contact: r.Contact, Role: r.Role, Reason: r.Reason,
		Created: storeTime(r.Created), Expires: storeTime(r.Expires), State: RegistrationPending,
		Secret: s.key.Seal(r.PickupSecret, regSecretAD(r.ID))}
	return s.write(ctx, func(w *wtx) error {
		if _, err := pruneRegistrations(w, now, regPruneBatch); err != nil {
			return fmt.Errorf("put registration %q: %w", r.ID, err)
		}
		if old, err := w.getChecked(bucketRegistrations, []byte(r.ID)); err != nil {
			return fmt.Errorf("put registration %q: %w", r.ID, err)
		} else if old != nil {
			return fmt.Errorf("put registration %q: %w", r.ID, ErrRegistrationExists)
		}
		if err := w.putRegistration(rec); err != nil {
			return fmt.Errorf("put registration %q: %w", r.ID, err)
		}
		k := regExpiryKey(rec.Expires, rec.ID)
		return w.putChecked(bucketRegExpiry, k, []byte(rec.ID))
	})
}

// Registration returns the registration with that ID, its state derived
// at now, with its pickup secret (to check a pickup's signature) but never
// its key. Errors: ErrUnknownRegistration; a secret that does not open is
// ErrCorrupt.
func (s *Store) Registration(id string, now time.Time) (Registration, error) {
	var out Registration
	err := s.view(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketRegistrations, []byte(id))
		if err != nil {
			return err
		}
		if v == nil {
			return ErrUnknownRegistration
		}
		rec, err := decodeRegistration([]byte(id), v)
		if err != nil {
			return err
		}
		out = rec.view(now)
		out.PickupSecret, err = s.key.Open(rec.Secret, regSecretAD(rec.ID))
		if err != nil {
			return fmt.Errorf("pickup secret does not open with the sealing key %s: %v: %w", s.key, err, ErrCorrupt)
		}
		return nil
	})
	if err != nil {
		return Registration{}, fmt.Errorf("registration %q: %w", id, err)
	}
	return out, nil
}

// Registrations returns the registrations, in ID order, without secrets:
// with all false only those waiting for the operator (pending, not yet
// expired) or for their pickup (approved).
func (s *Store) Registrations(all bool, now time.Time) ([]Registration, error) {
	var out []Registration
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketRegistrations).ForEach(func(k, v []byte) error {
			body, err := checkValue(bucketRegistrations, k, v)
			if err != nil {
				return err
			}
			rec, err := decodeRegistration(k, body)
			if err != nil {
				return fmt.Errorf("registration %q: %w", k, err)
			}
			r := rec.view(now)
			if all || r.State == RegistrationPending || r.State == RegistrationApproved {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}

// ApproveRegistration approves a pending registration, durably, and in the
// same transaction registers c, the client it becomes (see PutClient for
// what c needs; its Name is the registration's if empty). c's key is kept,
// sealed, for the one pickup. Errors: ErrUnknownRegistration,
// ErrRegistrationState (not pending, or expired), ErrClientExists.
func (s *Store) ApproveRegistration(ctx context.Context, id string, c Client, now time.Time) (Registration, error) {
	if len(c.Keys) != 1 {
		return Registration{}, fmt.Errorf("approve registration %q: %d keys: want exactly one", id, len(c.Keys))
	}
	var out Registration
	err := s.write(ctx, func(w *wtx) error {
		rec, err := w.registration(id)
		if err != nil {
			return err
		}
		if st := rec.view(now).State; st != RegistrationPending {
			return fmt.Errorf("it is %s: %w", st, ErrRegistrationState)
		}
		if c.Name == "" {
			c.Name = rec.Name
		}
		if err := validNumber(c.Number); err != nil {
			return err
		}
		if len(c.Name) > MaxClientName || !c.Role.Valid() || validSecret(c.Keys[0].Secret) != nil || !c.Keys[0].NotAfter.IsZero() || !c.Revoked.IsZero() {
			return fmt.Errorf("client %q: not a valid new client", c.Number)
		}
		enc, err := encodeClient(c, s.key)
		if err != nil {
			return err
		}
		if old, err := w.getChecked(bucketClients, []byte(c.Number)); err != nil {
			return err
		} else if old != nil {
			return fmt.Errorf("client %q: %w", c.Number, ErrClientExists)
		}
		if err := w.putChecked(bucketClients, []byte(c.Number), enc); err != nil {
			return err
		}
		if err := w.del(bucketRegExpiry, regExpiryKey(rec.Expires, rec.ID)); err != nil {
			return err
		}
		rec.State, rec.Decided, rec.Number, rec.Granted = RegistrationApproved, storeTime(now), c.Number, c.Role
		rec.Key = s.key.Seal(c.Keys[0].Secret, regKeyAD(rec.ID, c.Number))
		out = rec.view(now)
		return w.putRegistration(rec)
	})
	if err != nil {
		return Registration{}, fmt.Errorf("approve registration %q: %w", id, err)
	}
	return out, nil
}

// RejectRegistration rejects a pending registration, durably. It stays
// listed (and its pickup answers that it was rejected) until it expires
// and is pruned. Errors: ErrUnknownRegistration, ErrRegistrationState.
func (s *Store) RejectRegistration(ctx context.Context, id string, now time.Time) (Registration, error) {
	var out Registration
	err := s.write(ctx, func(w *wtx) error {
		rec, err := w.registration(id)
		if err != nil {
			return err
		}
		if st := rec.view(now).State; st != RegistrationPending {
			return fmt.Errorf("it is %s: %w", st, ErrRegistrationState)
		}
		rec.State, rec.Decided = RegistrationRejected, storeTime(now)
		out = rec.view(now)
		return w.putRegistration(rec)
	})
	if err != nil {
		return Registration{}, fmt.Errorf("reject registration %q: %w", id, err)
	}
	return out, nil
}

// CollectRegistration hands out an approved registration's service number
// and key (in Key), durably marking it collected and erasing the copy of
// the key it kept: a second call gets ErrRegistrationState. Errors:
// ErrUnknownRegistration, ErrRegistrationState (the registration's state
// is then in the returned Registration).
func (s *Store) CollectRegistration(ctx context.Context, id string, now time.Time) (Registration, error) {
	var out Registration
	err := s.write(ctx, func(w *wtx) error {
		rec, err := w.registration(id)
		if err != nil {
			return err
		}
		out = rec.view(now)
		if out.State != RegistrationApproved {
			return fmt.Errorf("it is %s: %w", out.State, ErrRegistrationState)
		}
		key, err := s.key.Open(rec.Key, regKeyAD(rec.ID, rec.Number))
		if err != nil {
			return fmt.Errorf("its key does not open with the sealing key %s: %v: %w", s.key, err, ErrCorrupt)
		}
		rec.State, rec.Collected, rec.Key = RegistrationCollected, storeTime(now), nil
		if err := w.putRegistration(rec); err != nil {
			return err
		}
		out = rec.view(now)
		out.Key = key
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("collect registration %q: %w", id, err)
	}
	return out, nil
}

// PruneRegistrations deletes, durably, up to max registrations (pending or
// rejected) whose Expires is at or before now, oldest first, and returns
// how many it deleted.
func (s *Store) PruneRegistrations(ctx context.Context, now time.Time, max int) (int, error) {
	var n int
	err := s.write(ctx, func(w *wtx) error {
		var err error
		n, err = pruneRegistrations(w, now, max)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune registrations: %w", err)
	}
	return n, nil
}

func pruneRegistrations(w *wtx, now time.Time, max int) (int, error) {
	type entry struct{ k, id []byte }
	var due []entry
	limit := expiryBytes(now)
	c := w.bucket(bucketRegExpiry).Cursor()
	for k, v := c.First(); k != nil && len(due) < max; k, v = c.Next() {
		if len(k) < 8 || bytes.Compare(k[:8], limit) > 0 {
			break
		}
		id, err := checkValue(bucketRegExpiry, k, v)
		if err != nil {
			return 0, err
		}
		due = append(due, entry{bytes.Clone(k), bytes.Clone(id)})
	}
	for _, e := range due {
		if err := w.del(bucketRegExpiry, e.k); err != nil {
			return 0, err
		}
		if err := w.del(bucketRegistrations, e.id); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// migrateRegistrations brings a schema 8 file to schema 9 in one bbolt
// transaction that also records the new version: it makes the
// registrations' buckets (empty: an older build took no registrations).
// It then verifies the file again.
func migrateRegistrations(db *bbolt.DB, path string, log *slog.Logger) error {
	return migration{from: schemaV8, to: schemaV9, what: "third parties' registrations",
		buckets: [][]byte{bucketRegistrations, bucketRegExpiry}}.run(db, path, log)
}
