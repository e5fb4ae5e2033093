package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"showpos/terminal/sealkey"
)

// Integrator clients: cash registers, back offices and fleet managers that
// call the terminal's network API. Each is registered by the operator with
// a public service number and a secret service key (see terminal/auth for
// how requests are signed with it).
//
// The terminal must recover each service key to check a request's HMAC, so
// keys cannot be hashed; they are sealed (AES-256-GCM, terminal/sealkey) with a
// key kept in its own file outside the store (Options.SealKeyPath). A copy
// of the store file alone yields no service key; the store file and the
// sealing key file together yield them all. Each sealed key is bound, as
// associated data, to its client's service number, role, creation and
// revocation times, its place in the client's key list, the list's length
// and its own NotAfter (clientKeyAD): a sealed key moved to another client
// or place, or a record whose role, revocation or grace was changed, does
// not open, and is reported as damage (ErrCorrupt) for that client, never
// honoured. Only the display name is outside the binding. Schema 2 stores
// kept keys in the clear; Open seals them (clients_seal.go).
//
// Layout: bucketClients maps a service number to a clientRecord (JSON).
// Seen nonces are kept in bucketClientNonces (number || 0x00 || nonce ->
// expiry, 8 bytes big-endian Unix nanoseconds) with an index by expiry in
// bucketNonceExpiry (expiry (8) || number || 0x00 || nonce -> 0x01) so that
// expired entries can be pruned oldest first with bounded work.
var (
	bucketClients      = []byte("clients")
	bucketClientNonces = []byte("client_nonces")
	bucketNonceExpiry  = []byte("client_nonce_expiry")
)

// Role says what a client may call.
type Role string

const (
	// RoleRegister: cash registers and back offices (payment requests,
	// payments, reports).
	RoleRegister Role = "register"
	// RoleFleet: fleet managers (configuration, status).
	RoleFleet Role = "fleet"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleRegister || r == RoleFleet }

// Limits on what PutClient and RotateClientKey accept.
const (
	MaxClientNumber = 64  // bytes of a service number
	MaxClientName   = 200 // bytes of a display name
	MinSecret       = 16  // bytes of a service key (HMAC-SHA256 wants 32)
	MaxSecret       = 128
	maxClientKeys   = 8 // keys kept at once: the current one and those in grace
)

// Client is a registered integrator.
type Client struct {
	Number  string // public service number, e.g. "sn_" + 16 hex digits
	Name    string
	Role    Role
	Keys    []ClientKey // the current key first, then old ones in their grace period
	Revoked time.Time   // zero: active
	Created time.Time
}

// ClientKey is one service key. NotAfter is zero for the current key; an
// old key is honoured while now is before NotAfter.
type ClientKey struct {
	Secret   []byte
	NotAfter time.Time
}

// HonouredKeys returns the secrets a request signed at now may use: the
// current key and every old key whose NotAfter is after now. A revoked
// client has none.
func (c Client) HonouredKeys(now time.Time) [][]byte {
	if !c.Revoked.IsZero() {
		return nil
	}
	var out [][]byte
	for _, k := range c.Keys {
		if k.NotAfter.IsZero() || k.NotAfter.After(now) {
			out = append(out, k.Secret)
		}
	}
	return out
}

type clientRecord struct {
	Number  string       `json:"number"`
	Name    string       `json:"name"`
	Role    Role         `json:"role"`
	Keys    []clientKeyR `json:"keys"`
	Revoked time.Time    `json:"revoked,omitzero"`
	Created time.Time    `json:"created"`
}

// clientKeyR is one key as stored: Sealed under schema 3; Secret, the key
// in the clear, only in schema 2 records, which Open seals.
type clientKeyR struct {
	Secret   []byte    `json:"secret,omitempty"`
	Sealed   []byte    `json:"sealed,omitempty"`
	NotAfter time.Time `json:"not_after,omitzero"`
}

// encodeClient seals every key of c with key and encodes the record.
func encodeClient(c Client, key *sealkey.Key) ([]byte, error) {
	rec := clientRecord{Number: c.Number, Name: c.Name, Role: c.Role,
		Revoked: storeTime(c.Revoked), Created: storeTime(c.Created)}
	rec.Keys = make([]clientKeyR, len(c.Keys))
	for i, k := range c.Keys {
		rec.Keys[i].NotAfter = storeTime(k.NotAfter)
	}
	for i, k := range c.Keys {
		rec.Keys[i].Sealed = key.Seal(k.Secret, clientKeyAD(rec, i))
	}
	return json.Marshal(rec)
}

// decodeClientRecord decodes a stored record without opening its keys. It
// must be stored under its own service number: a record moved to another
// number is damage.
func decodeClientRecord(number, b []byte) (clientRecord, error) {
	var rec clientRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return clientRecord{}, fmt.Errorf("decode client: %v: %w", err, ErrCorrupt)
	}
	if rec.Number != string(number) {
		return clientRecord{}, fmt.Errorf("the record stored under this number is client %q's: %w", rec.Number, ErrCorrupt)
	}
	return rec, nil
}

// decodeClient decodes a stored (schema 3) record and opens its keys with
// key. A key in the clear, or one that does not open, is damage.
func decodeClient(number, b []byte, key *sealkey.Key) (Client, error) {
	rec, err := decodeClientRecord(number, b)
	if err != nil {
		return Client{}, err
	}
	c := clientMeta(rec)
	for i, k := range rec.Keys {
		if k.Secret != nil {
			return Client{}, fmt.Errorf("key %d is stored in the clear, which this schema never does: %w", i, ErrCorrupt)
		}
		secret, err := key.Open(k.Sealed, clientKeyAD(rec, i))
		if err != nil {
			return Client{}, fmt.Errorf("key %d does not open with the sealing key %s (changed, or moved from another client or place): %v: %w", i, key, err, ErrCorrupt)
		}
		c.Keys = append(c.Keys, ClientKey{Secret: secret, NotAfter: k.NotAfter})
	}
	return c, nil
}

// clientMeta is the record's client without its keys.
func clientMeta(rec clientRecord) Client {
	return Client{Number: rec.Number, Name: rec.Name, Role: rec.Role,
		Revoked: rec.Revoked, Created: rec.Created}
}

// clientKeyAD is the associated data that binds key i of rec to the rest
// of the record: a domain, then length-prefixed number and role, the
// creation and revocation times, the key's index, the number of keys and
// the key's NotAfter. Times are written as a flag (0 zero, 1 set) and, when
// set, Unix seconds and nanoseconds, so the binding does not depend on how
// a time is formatted.
func clientKeyAD(rec clientRecord, i int) []byte {
	ad := append([]byte(nil), "showpos/outbox/client-key/1\x00"...)
	for _, s := range []string{rec.Number, string(rec.Role)} {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(s)))
		ad = append(ad, s...)
	}
	ad = appendTime(ad, rec.Created)
	ad = appendTime(ad, rec.Revoked)
	ad = binary.BigEndian.AppendUint32(ad, uint32(i))
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(rec.Keys)))
	return appendTime(ad, rec.Keys[i].NotAfter)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// validNumber: printable ASCII without space; in particular no 0x00, which
// separates number and nonce in keys.
func validNumber(n string) error {
	if n == "" || len(n) > MaxClientNumber {
		return fmt.Errorf("service number of %d bytes: want 1 to %d", len(n), MaxClientNumber)
	}
	for i := 0; i < len(n); i++ {
		if n[i] <= ' ' || n[i] > '~' {
			return fmt.Errorf("service number %q: byte %d is not printable ASCII", n, i)
		}
	}
	return nil
}

func validSecret(s []byte) error {
	if len(s) < MinSecret || len(s) > MaxSecret {
		return fmt.Errorf("service key of %d bytes: want %d to %d", len(s), MinSecret, MaxSecret)
	}
	return nil
}

// Client returns the client with that service number; ErrUnknownClient if
// there is none. It answers in a store out of service too (the clients
// are checked at Open, before READY): integrators and the fleet still
// authenticate to read the status that reports the damage.
func (s *Store) Client(number string) (Client, error) {
	var c Client
	err := s.viewAny(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketClients, []byte(number))
		if err != nil {
			return fmt.Errorf("client %q: %w", number, err)
		}
		if v == nil {
			return fmt.Errorf("client %q: %w", number, ErrUnknownClient)
		}
		c, err = decodeClient([]byte(number), v, s.key)
		if err != nil {
			return fmt.Errorf("client %q: %w", number, err)
		}
		return nil
	})
	return c, err
}

// Clients returns every client, revoked ones included, in service number
// order.
func (s *Store) Clients() ([]Client, error) {
	var out []Client
	err := s.viewAny(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketClients).ForEach(func(k, v []byte) error {
			v, err := checkValue(bucketClients, k, v)
			if err != nil {
				return err
			}
			c, err := decodeClient(k, v, s.key)
			if err != nil {
				return fmt.Errorf("client %q: %w", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}
