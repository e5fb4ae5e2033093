package chain

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"

	"github.com/ethereum/go-ethereum/rpc"
)

func TestReasonOf(t *testing.T) {
	op := func(e error) error { return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", e)} }
	for _, tc := range []struct {
		err  error
		want string
	}{
		{rpc.HTTPError{StatusCode: 502, Status: "502 Bad Gateway"}, "HTTP 502 Bad Gateway"},
		{rpc.HTTPError{StatusCode: 401, Status: "401 Unauthorized"}, "HTTP 401 Unauthorized"},
		{op(syscall.ECONNREFUSED), "connection refused"},
		{op(syscall.ECONNRESET), "connection reset"},
		{op(syscall.EHOSTUNREACH), "network unreachable"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "timeout"},
		{&net.DNSError{Err: "no such host", Name: "rpc.example", IsNotFound: true}, "no such host"},
		{&net.DNSError{Err: "server misbehaving", Name: "rpc.example", IsTemporary: true}, "DNS failure"},
		{&tlsErr{x509.UnknownAuthorityError{}}, "TLS failure"},
		{io.ErrUnexpectedEOF, "connection closed"},
		{errResponseTooLarge, "response too large"},
		{&json.SyntaxError{}, "not a JSON-RPC answer"},
		{errors.New("something else"), "unreachable"},
	} {
		if got := reasonOf(tc.err); got != tc.want {
			t.Errorf("reasonOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

type tlsErr struct{ error }

func (e *tlsErr) Unwrap() error { return e.error }

// An https endpoint with a certificate we do not trust is a transport
// failure, named as such.
func TestUntrustedCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	c := newTestClient(t, Options{}, srv.URL)
	if st := c.Probe(context.Background()); st.Online || st.Err != "TLS failure" {
		t.Errorf("status %+v", st)
	}
}

func TestNodeErrorText(t *testing.T) {
	if got := (&NodeError{Code: -32000, Message: "already known"}).Error(); got != "already known" {
		t.Errorf("%q", got)
	}
	if got := (&NodeError{Code: -32000}).Error(); got != "json-rpc error -32000" {
		t.Errorf("%q", got)
	}
}
