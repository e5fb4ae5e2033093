// Package fleet lets a fleet manager configure many terminals with signed
// config bundles, and keeps each terminal's effective config: its local
// TOML file with the last accepted bundle laid over it (config.Overlay).
//
// # Trust
//
// A terminal trusts one ed25519 key, pinned at provisioning in its local
// file ([fleet] public_key, 64 hex digits). A terminal without one takes no
// bundles. A bundle may set only the live keys (see config.Overlay):
// merchant.address, terminal.merchant_name, terminal.request_ttl,
// terminal.certificate, terminal.currency, terminal.locale, [texts],
// [payments], [[assets]] and chain.rpc; they change without a restart.
//
// The same key also signs terminal certificates (Certify, OpenCertificate):
// its word, for payers, that a terminal's request-signing key belongs to
// the fleet's merchant. A certificate's payload carries a "kind" that no
// bundle payload may have, so one cannot be taken for the other.
//
// # Wire format
//
// A bundle is a JSON object of two strings, both standard base64 with
// padding (RFC 4648 §4); no other members are allowed. Envelope and payload
// are read with strictjson: every member name spelled exactly as here
// (case-sensitive: "Version" or "verſion" is not "version"), none twice in
// any object, nothing after the value; anything else is bad_bundle naming
// the member, so the terminal applies what any other JSON reader of the
// signed bytes sees:
//
//	{"payload":"<base64 of the payload bytes>","signature":"<base64 of the 64-byte signature>"}
//
// The signature is ed25519.Sign(fleetKey, payloadBytes) over the exact
// payload bytes as they are after base64 decoding; nothing is canonicalised,
// so the signer may format the payload as it likes. The payload is a JSON
// object (UTF-8, unknown members refused; the comments here are not part
// of it):
//
//	{
//	  "version": 12,                          // integer 1..2^64-1; each accepted bundle must be above the last
//	  "issued":  "2025-03-01T12:00:00Z",      // RFC 3339
//	  "expires": "2025-03-08T12:00:00Z",      // RFC 3339, after issued; not taken at or after this instant
//	  "targets": {"terminals": ["till-01"], "groups": ["cafes"]},
//	  "config":  "[texts]\nwelcome = \"Hi\"\n" // a TOML fragment of live keys
//	}
//
// "targets" and either of its lists may be left out or empty; with no
// target at all the bundle is for every terminal that trusts the key,
// otherwise for terminals whose [terminal] id is listed or that are in a
// listed [fleet] group. The whole bundle is at most MaxBundle bytes. Sign
// produces this format; a third party can too with any JSON, base64 and
// ed25519 library.
//
// # Acceptance
//
// A bundle arrives by push (Manager.Push, from the HTTP API), by pull
// (Manager.Run fetches [fleet] pull_url every pull_every) or on an MQTT
// config topic (Manager.TakeMQTT, from sync/uplink). It is checked in
// this order, and the first failure is the refusal (a Refusal with a stable
// code; the running config is kept): size and format (bad_bundle), the
// signature against the pinned key (bad_bundle_signature), the target
// (wrong_target), expiry against the terminal's clock (expired), the issue
// time at most ClockSkew ahead of that clock (not_yet_valid: a board
// without a real-time clock boots in 1970 and takes no bundle until its
// clock is set), the version above the highest ever accepted (not_newer),
// and the effective config it would make (bad_config). Once signature and
// target pass, the byte-identical bundle already running is a success that
// changes nothing, whether it has expired since or not, so pulling the same
// bundle again is quiet. A bundle stays in effect after it expires: expiry
// only bounds when it may be taken.
//
// An accepted bundle is stored with its version as the highest accepted in
// one store transaction (store.Store.PutFleetBundle), and only then
// applied. The effective config at start is computed from the local file
// and the stored bundle alone, so a crash at any point leaves the old
// config or the new one, never a mix; and a version once accepted is never
// rolled back, by a restart or a clock set back either.
package fleet
