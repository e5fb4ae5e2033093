package outbox

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Integrator clients: cash registers, back offices and fleet managers that
// call the terminal's network API. Each is registered by the operator with
// a public service number and a secret service key (see terminal/auth for
// how requests are signed with it).
//
// Secrets are stored as given, in the clear, in the store file (mode 0600):
// whoever can read the file can sign requests as any client, so a leak of
// the store file is a leak of every service key, and must be answered by
// rotating them all.
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

type clientKeyR struct {
	Secret   []byte    `json:"secret"`
	NotAfter time.Time `json:"not_after,omitzero"`
}

func encodeClient(c Client) ([]byte, error) {
	rec := clientRecord{Number: c.Number, Name: c.Name, Role: c.Role,
		Revoked: storeTime(c.Revoked), Created: storeTime(c.Created)}
	for _, k := range c.Keys {
		rec.Keys = append(rec.Keys, clientKeyR{Secret: k.Secret, NotAfter: storeTime(k.NotAfter)})
	}
	return json.Marshal(rec)
}

func decodeClient(b []byte) (Client, error) {
	var rec clientRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return Client{}, fmt.Errorf("decode client: %v: %w", err, ErrCorrupt)
	}
	c := Client{Number: rec.Number, Name: rec.Name, Role: rec.Role,
		Revoked: rec.Revoked, Created: rec.Created}
	for _, k := range rec.Keys {
		c.Keys = append(c.Keys, ClientKey{Secret: k.Secret, NotAfter: k.NotAfter})
	}
	return c, nil
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
// there is none.
func (s *Store) Client(number string) (Client, error) {
	var c Client
	err := s.view(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketClients, []byte(number))
		if err != nil {
			return fmt.Errorf("client %q: %w", number, err)
		}
		if v == nil {
			return fmt.Errorf("client %q: %w", number, ErrUnknownClient)
		}
		c, err = decodeClient(v)
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
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketClients).ForEach(func(k, v []byte) error {
			v, err := checkValue(bucketClients, k, v)
			if err != nil {
				return err
			}
			c, err := decodeClient(v)
			if err != nil {
				return fmt.Errorf("client %q: %w", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}
