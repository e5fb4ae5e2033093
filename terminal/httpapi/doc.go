// Package httpapi serves the terminal over HTTP: the payer API that phones
// call (open, since payloads carry their own signatures) and the operator API
// that posctl calls over a unix socket guarded by file permissions.
//
// Every error is a JSON body {"error":{"code":"…","message":"…"}} with a
// stable code and the matching status; bodies are size-capped and servers
// have read, write and idle timeouts, so a slow or hostile client holds
// nothing for long.
package httpapi
