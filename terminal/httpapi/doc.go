// Package httpapi serves the terminal over HTTP:
//
//   - Payer: the payer API that phones call, open, since payloads carry
//     their own signatures;
//   - Operator: the operator API that posctl calls over a unix socket
//     guarded by its file mode (0660): payment requests, payments, totals,
//     the outbox, integrator clients and their keys and webhooks, status,
//     fleet bundles, metrics;
//   - Network: the network listener's handler, the payer API plus the
//     integrator API for cash registers (role register) and fleet managers
//     (role fleet), every integrator call signed as terminal/auth describes;
//     a register sets its own webhook there (webhooks.go).
//
// The register calls (requests, payments, totals) are the same handlers on
// the socket and on the network; only what guards them differs.
//
// Every error is a JSON body {"error":{"code":"…","message":"…"}} with a
// stable code and the matching status; bodies are size-capped and servers
// have read, write and idle timeouts, so a slow or hostile client holds
// nothing for long.
package httpapi
