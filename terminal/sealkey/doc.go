// Package sealkey keeps the 32-byte key that seals the secrets the store
// must keep but must not give away: the integrator clients' service keys
// (terminal/store). The terminal has to recover each service key to check a
// request's HMAC, so they cannot be hashed; instead each is sealed with
// AES-256-GCM under this key, which lives in its own file, outside the
// store file. A copy of the store file alone then yields no service key;
// a copy of the store file and this key file yields them all.
//
// The key file is 64 hexadecimal digits on one line, like terminal.key.
// [LoadOrCreate] makes it on first start: 32 bytes from crypto/rand,
// written to a temporary file in the same directory with mode 0600,
// fsynced, published under the final name with a hard link (which, unlike
// rename, fails if the name exists: two starters cannot both make a key),
// and the directory fsynced. [Load] reads an existing one and never makes
// one: the store calls it when it already holds sealed secrets, since a new
// key there would open none of them. Either refuses a file with permission
// bits for group or others, a file that is not a regular file, or one that
// does not hold exactly one key; the parent directory is never created.
//
// A sealed value is a version byte (1), a 12-byte random nonce and the
// GCM ciphertext with its 16-byte tag: 29 bytes more than the secret.
// The caller binds each value to what it belongs to with associated data
// (the store uses the client's service number, its other fields and the
// key's place), so a value moved elsewhere does not open.
//
// Why a file of its own, not a key derived (HKDF) from terminal.key: a
// derived key saves one file in the backup, but it would tie the service
// keys to the terminal's identity (replacing terminal.key after a leak or
// at reprovisioning would lock every integrator out), rule out moving the
// signing key into hardware that does not export it, and keep the sealing
// key in the data directory for good. A file of its own can be replaced,
// backed up and placed (terminal.seal_key) apart from both.
//
// Errors wrap [ErrLoosePermissions], [ErrMalformed], [ErrNotOpened] or the
// underlying fs error (fs.ErrNotExist for a missing file), and name the
// path; none quotes a key.
package sealkey
