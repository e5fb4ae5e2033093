package webhook

import (
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// Whether a webhook may reach the terminal itself. A register client sets
// its own webhook over the network, and reads each attempt's HTTP status
// or error back (GET /v1/webhook): pointed at the terminal's loopback, that
// would scan and poke services bound there for it. So httpapi refuses such
// a URL from a client (unless webhooks.allow_loopback), and the deliverer's
// own client refuses to connect to the terminal through a name that
// resolves to it; the operator may still set 127.0.0.1 or localhost (a
// register on the same box), written as such. Private LAN addresses are not
// refused: a shop's register is on its LAN, and the client is there too,
// able to reach them without the terminal's help.

// SelfHost reports whether host, a URL's host without its port, names the
// terminal itself: localhost (or a name under .localhost), a loopback or
// unspecified address (0.0.0.0 reaches local services), or an address of
// one of its interfaces (its API port among them). It resolves no name.
func SelfHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && selfIP(ip)
}

func selfIP(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// errSelf refuses a connection to the terminal itself.
type errSelf struct{ ip string }

func (e errSelf) Error() string {
	return fmt.Sprintf("the name resolves to %s, the terminal itself: not connected (write the address as such on the operator socket, or set webhooks.allow_loopback)", e.ip)
}

// dialer connects the deliverer's own client. Unless allowSelf, a host
// that is not written as the terminal's own (SelfHost: an operator's
// 127.0.0.1 or localhost) may not resolve to it: the check is on the
// address actually dialled, so a name that resolves to 127.0.0.1 (or is
// rebound to it after the URL was set) does not get through.
func dialer(timeout time.Duration, allowSelf bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	plain := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	guarded := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			h, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(h); ip == nil || selfIP(ip) {
				return errSelf{h}
			}
			return nil
		}}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		h, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if allowSelf || h == "localhost" || net.ParseIP(h) != nil {
			return plain.DialContext(ctx, network, addr)
		}
		return guarded.DialContext(ctx, network, addr)
	}
}
