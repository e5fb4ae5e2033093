package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
)

// link is the TCP front of the dev chain: it forwards connections on addr
// to the node, and can be cut and restored while the chain keeps its
// state, so a demo can take a terminal offline and back without losing
// the payers' nonces (restarting devnet would).
type link struct {
	addr, upstream string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newLink(addr, upstream string) (*link, error) {
	l := &link{addr: addr, upstream: upstream, conns: map[net.Conn]struct{}{}}
	if err := l.restore(); err != nil {
		return nil, err
	}
	return l, nil
}

// up reports whether the link is taking connections.
func (l *link) up() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ln != nil
}

// restore listens again; a no-op when up.
func (l *link) restore() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return fmt.Errorf("link on %s: %w", l.addr, err)
	}
	l.addr = ln.Addr().String() // a port 0 stays the port it got
	l.ln = ln
	l.wg.Go(func() { l.accept(ln) })
	return nil
}

// cut closes the listener and every open connection.
func (l *link) cut() {
	l.mu.Lock()
	ln := l.ln
	l.ln = nil
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

// close cuts the link and waits for its goroutines.
func (l *link) close() {
	l.cut()
	l.wg.Wait()
}

func (l *link) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // cut or closed
		}
		l.wg.Go(func() { l.forward(c) })
	}
}

func (l *link) forward(c net.Conn) {
	var d net.Dialer
	up, err := d.DialContext(context.Background(), "tcp", l.upstream)
	if err != nil {
		c.Close()
		return
	}
	l.mu.Lock()
	if l.ln == nil { // cut meanwhile
		l.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	l.conns[c], l.conns[up] = struct{}{}, struct{}{}
	l.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src) // ends when either side closes, or the link is cut
		dst.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
	l.mu.Lock()
	delete(l.conns, c)
	delete(l.conns, up)
	l.mu.Unlock()
}
