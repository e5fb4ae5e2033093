package store

import "errors"

// Sentinel errors of the integrator clients and their nonces (see
// clients.go). Like those in errors.go they are returned wrapped with the
// operation and its subject; test with errors.Is.
var (
	// ErrUnknownClient: no client with that service number is stored.
	ErrUnknownClient = errors.New("unknown client")
	// ErrClientExists: PutClient was given a service number already stored.
	ErrClientExists = errors.New("client already exists")
	// ErrClientRevoked: the client is revoked; its keys cannot be rotated.
	ErrClientRevoked = errors.New("client revoked")
	// ErrSealKey: Open was given no sealing key file, or one holding
	// another key, for a store that holds sealed service keys. The store
	// itself is intact; the key file that belongs with it is wanted.
	ErrSealKey = errors.New("sealing key missing or not the store's")
	// ErrNonceReplayed: UseNonce was given a (service number, nonce) pair
	// already seen and not yet expired.
	ErrNonceReplayed = errors.New("nonce already used")
)
