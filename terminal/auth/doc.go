// Package auth authenticates calls to the terminal's network API from
// integrators: cash registers and back offices (role "register") and fleet
// managers (role "fleet"). Clients, their keys and the nonces they have
// used live in the store (terminal/store); this package signs and verifies.
//
// # The scheme
//
// Each client holds a public service number and a secret service key. Every
// request carries four headers:
//
//	X-Showpos-Client     the service number
//	X-Showpos-Timestamp  Unix seconds, decimal, no sign or leading zeros
//	X-Showpos-Nonce      16 to 64 characters of [A-Za-z0-9_-], new for every request
//	X-Showpos-Signature  hex(HMAC-SHA256(service key, string to sign)), 64 hex digits
//
// The string to sign is five lines joined by "\n" (0x0A), with no trailing
// newline:
//
//	METHOD
//	TARGET
//	TIMESTAMP
//	NONCE
//	hex(SHA-256(body))
//
// METHOD is the request method as sent ("POST"). TARGET is the request
// target of the HTTP request line, byte for byte: the path exactly as
// escaped on the wire, then, if there is a query, "?" and the raw query in
// the order sent (no re-encoding, no sorting). TIMESTAMP and NONCE are the
// header values. The body hash is lowercase hex; a request without a body
// hashes the empty string (e3b0c442…b855).
//
// # Worked example
//
// Service number sn_00a1b2c3d4e5f607, service key the 32 ASCII bytes
// "example-service-key-0123456789ab", at 2025-03-01T12:00:00Z
// (1740830400), nonce Zq3v9Xc1Lr7sTm2P:
//
//	POST /v1/requests?ref=till-4&dry_run=1 HTTP/1.1
//	Content-Type: application/json
//
//	{"asset":"ETH","amount":"1000000000000000"}
//
// The body (43 bytes, no trailing newline) hashes to
// d1a3dd2347ed84a2c209e90fbdd19751fe0a2decc6b054ae728cff1d70164a9b, so
// the string to sign is
//
//	POST\n/v1/requests?ref=till-4&dry_run=1\n1740830400\nZq3v9Xc1Lr7sTm2P\nd1a3dd2347ed84a2c209e90fbdd19751fe0a2decc6b054ae728cff1d70164a9b
//
// and the request is sent with
//
//	X-Showpos-Client: sn_00a1b2c3d4e5f607
//	X-Showpos-Timestamp: 1740830400
//	X-Showpos-Nonce: Zq3v9Xc1Lr7sTm2P
//	X-Showpos-Signature: d3d16f2ef5d70f687d45d0fe959172c3f3440933e045d4225527a8f17e0a5499
//
// The package Example computes exactly these values, so the test suite
// keeps this text true. From a shell:
//
//	printf 'POST\n/v1/requests?ref=till-4&dry_run=1\n1740830400\nZq3v9Xc1Lr7sTm2P\nd1a3dd2347ed84a2c209e90fbdd19751fe0a2decc6b054ae728cff1d70164a9b' |
//	  openssl dgst -sha256 -hmac 'example-service-key-0123456789ab'
//
// # What the terminal checks
//
// Verifier.Verify refuses, with a stable code (see the Code constants):
// a missing header; an unknown or revoked service number; a timestamp more
// than Window (300 s) from the terminal's clock either way; a malformed
// nonce; a body over MaxBody (413); a signature that matches none of the
// client's honoured keys (the current one, and an old one until the end of
// its rotation grace period), compared with hmac.Equal, in constant time;
// and a nonce the client already used within the window. The nonce is
// recorded, durably and so across restarts, only after the signature
// verifies: a forged request cannot use up an honest client's nonce.
// Require adds a role check (403 forbidden_role) and answers refusals as
// {"error":{"code":…,"message":…}}.
//
// A terminal without a real-time clock boots in 1970: every request is then
// stale until the clock is set, which is the safe failure.
//
// Service keys are stored in the store file as given; whoever reads that
// file can sign as any client.
package auth
