// Package cdp drives a headless Chromium over the DevTools protocol, for
// browser tests of the simulator's page (the virtual board's own, and the
// whole terminal's). It carries its own minimal WebSocket
// client (RFC 6455, client side: masked text frames out; text,
// continuation, ping and close frames in) because the module has no
// WebSocket dependency.
package cdp

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Flags are the headless flags that work on this kind of machine (see
// /work/shared/FIELD-NOTES.md), plus no network but loopback.
var Flags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-dev-shm-usage",
	"--disable-extensions",
	"--no-first-run",
	"--no-default-browser-check",
	"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
	"--window-size=800,900",
	"--force-device-scale-factor=1",
}

// Browser is a running Chromium and a WebSocket to its DevTools endpoint.
type Browser struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
	exited chan struct{}
	conn   *Conn
}

// Chromium finds the browser: $SHOWPOS_CHROMIUM, else chromium (or
// chromium-browser, google-chrome) on the PATH.
func Chromium() (string, error) {
	if p := os.Getenv("SHOWPOS_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found (Debian: apt-get install chromium; or set SHOWPOS_CHROMIUM)")
}

// Launch starts path (a chromium binary) with a fresh profile under dir
// and connects to it.
func Launch(ctx context.Context, path, dir string, extra ...string) (*Browser, error) {
	args := append(append([]string{}, Flags...), extra...)
	args = append(args, "--user-data-dir="+dir, "--remote-debugging-port=0", "about:blank")
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stdout = io.Discard
	cmd.Stderr = &lockedWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &Browser{cmd: cmd, stderr: &stderr, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(b.exited) }()

	// Chromium writes "PORT\n/devtools/browser/ID" once it listens.
	portFile := filepath.Join(dir, "DevToolsActivePort")
	var wsURL string
	for wsURL == "" {
		if data, err := os.ReadFile(portFile); err == nil {
			if port, path, ok := strings.Cut(strings.TrimSpace(string(data)), "\n"); ok {
				wsURL = "ws://127.0.0.1:" + port + path
				break
			}
		}
		select {
		case <-ctx.Done():
			b.kill()
			return nil, fmt.Errorf("cdp: chromium did not start: %w; stderr: %s", ctx.Err(), b.Stderr())
		case <-b.exited:
			return nil, fmt.Errorf("cdp: chromium exited: %s", b.Stderr())
		case <-time.After(20 * time.Millisecond):
		}
	}
	conn, err := Dial(ctx, wsURL)
	if err != nil {
		b.kill()
		return nil, err
	}
	b.conn = conn
	return b, nil
}

// Stderr is what chromium wrote to its stderr so far.
func (b *Browser) Stderr() string {
	return b.stderr.String()
}

// Conn is the browser-level DevTools connection.
func (b *Browser) Conn() *Conn { return b.conn }

// Close asks the browser to quit, then kills its process group.
func (b *Browser) Close() error {
	if b.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		b.conn.Call(ctx, "", "Browser.close", nil, nil)
		cancel()
		b.conn.Close()
	}
	select {
	case <-b.exited:
	case <-time.After(3 * time.Second):
	}
	b.kill()
	return nil
}

func (b *Browser) kill() {
	// The group of the process we started: chromium's zygote and renderers.
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	<-b.exited
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Page is a tab attached over the browser's connection (flat sessions).
type Page struct {
	conn    *Conn
	session string
}

// NewPage opens a blank tab and attaches to it.
func (b *Browser) NewPage(ctx context.Context) (*Page, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.conn.Call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.conn.Call(ctx, "", "Target.attachToTarget",
		map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	return &Page{conn: b.conn, session: att.SessionID}, nil
}

// Call sends a command to the page.
func (p *Page) Call(ctx context.Context, method string, params, result any) error {
	return p.conn.Call(ctx, p.session, method, params, result)
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(ctx context.Context, url string) error {
	if err := p.Call(ctx, "Page.enable", nil, nil); err != nil {
		return err
	}
	loaded := p.conn.waitEvent(p.session, "Page.loadEventFired")
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.Call(ctx, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("cdp: navigate %s: %s", url, nav.ErrorText)
	}
	select {
	case <-loaded:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Eval evaluates expr in the page, awaits it if it is a promise, and
// decodes its JSON value into result.
func (p *Page) Eval(ctx context.Context, expr string, result any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.Call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "awaitPromise": true, "returnByValue": true,
	}, &r)
	if err != nil {
		return err
	}
	if e := r.ExceptionDetails; e != nil {
		return fmt.Errorf("cdp: %s: %s %s", expr, e.Text, e.Exception.Description)
	}
	if result == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, result)
}

// Key presses and releases one key, as the keyboard would (key as in
// KeyboardEvent.key, code as in KeyboardEvent.code).
func (p *Page) Key(ctx context.Context, key, code string, keyCode int) error {
	for _, typ := range []string{"keyDown", "keyUp"} {
		params := map[string]any{"type": typ, "key": key, "code": code, "windowsVirtualKeyCode": keyCode}
		if err := p.Call(ctx, "Input.dispatchKeyEvent", params, nil); err != nil {
			return err
		}
	}
	return nil
}

// Screenshot returns a PNG of the viewport.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data []byte `json:"data"` // base64 in JSON
	}
	err := p.Call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &r)
	return r.Data, err
}

// Conn is a DevTools protocol connection: numbered calls, their replies,
// and events.
type Conn struct {
	ws *WebSocket

	mu      sync.Mutex
	nextID  int64
	calls   map[int64]chan message
	waiters map[string][]chan struct{} // session+" "+method
	err     error
	done    chan struct{}
}

type message struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    any             `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Dial connects to a DevTools WebSocket URL.
func Dial(ctx context.Context, wsURL string) (*Conn, error) {
	ws, err := DialWebSocket(ctx, wsURL)
	if err != nil {
		return nil, err
	}
	c := &Conn{ws: ws, calls: map[int64]chan message{}, waiters: map[string][]chan struct{}{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *Conn) read() {
	defer close(c.done)
	for {
		data, err := c.ws.Read()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		var m message
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch, ok := c.calls[m.ID]; ok {
				delete(c.calls, m.ID)
				ch <- m
			}
		} else if m.Method != "" {
			k := m.SessionID + " " + m.Method
			for _, ch := range c.waiters[k] {
				close(ch)
			}
			delete(c.waiters, k)
		}
		c.mu.Unlock()
	}
}

// waitEvent returns a channel closed at the next event method in session.
func (c *Conn) waitEvent(session, method string) <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	k := session + " " + method
	c.waiters[k] = append(c.waiters[k], ch)
	c.mu.Unlock()
	return ch
}

// Call sends method with params (in session, "" for the browser) and
// decodes the result into result (if not nil).
func (c *Conn) Call(ctx context.Context, session, method string, params, result any) error {
	ch := make(chan message, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.nextID++
	id := c.nextID
	c.calls[id] = ch
	c.mu.Unlock()
	if params == nil {
		params = struct{}{}
	}
	data, err := json.Marshal(message{ID: id, SessionID: session, Method: method, Params: params})
	if err != nil {
		return err
	}
	if err := c.ws.WriteText(data); err != nil {
		return err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("cdp: %s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cdp: %s: %w", method, ctx.Err())
	case <-c.done:
		return fmt.Errorf("cdp: %s: connection closed: %v", method, c.err)
	}
}

// Close closes the connection and waits for its reader.
func (c *Conn) Close() error {
	err := c.ws.Close()
	<-c.done
	return err
}

// WebSocket is the client end of an RFC 6455 connection.
type WebSocket struct {
	conn net.Conn
	r    *bufio.Reader
	wmu  sync.Mutex
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// maxMessage bounds one incoming message (screenshots are the big ones).
const maxMessage = 64 << 20

// DialWebSocket opens a ws:// URL.
func DialWebSocket(ctx context.Context, rawURL string) (*WebSocket, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "ws" {
		return nil, fmt.Errorf("websocket: bad URL %q", rawURL)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	key := base64.StdEncoding.EncodeToString(nonce)
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("websocket: handshake: %w", err)
	}
	resp.Body.Close()
	sum := sha1.Sum([]byte(key + wsGUID))
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, fmt.Errorf("websocket: handshake refused: %s", resp.Status)
	}
	conn.SetDeadline(time.Time{})
	return &WebSocket{conn: conn, r: r}, nil
}

// WriteText sends one masked text frame.
func (w *WebSocket) WriteText(p []byte) error { return w.writeFrame(0x1, p) }

func (w *WebSocket) writeFrame(op byte, p []byte) error {
	hdr := []byte{0x80 | op, 0}
	switch n := len(p); {
	case n < 126:
		hdr[1] = byte(n)
	case n <= 0xFFFF:
		hdr[1] = 126
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr[1] = 127
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	hdr[1] |= 0x80 // clients mask every frame
	var mask [4]byte
	rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	frame := append(hdr, p...)
	body := frame[len(hdr):]
	for i := range body {
		body[i] ^= mask[i%4]
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_, err := w.conn.Write(frame)
	return err
}

// Read returns the next whole text or binary message, answering pings.
func (w *WebSocket) Read() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.r, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0F
		n := uint64(h[1] & 0x7F)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.r, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.r, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		var mask []byte
		if h[1]&0x80 != 0 {
			mask = make([]byte, 4)
			if _, err := io.ReadFull(w.r, mask); err != nil {
				return nil, err
			}
		}
		if n > maxMessage || uint64(len(msg))+n > maxMessage {
			return nil, errors.New("websocket: message too large")
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(w.r, p); err != nil {
			return nil, err
		}
		if mask != nil {
			for i := range p {
				p[i] ^= mask[i%4]
			}
		}
		switch op {
		case 0x0, 0x1, 0x2:
			msg = append(msg, p...)
			if fin {
				return msg, nil
			}
		case 0x8:
			w.writeFrame(0x8, nil)
			return nil, io.EOF
		case 0x9:
			if err := w.writeFrame(0xA, p); err != nil {
				return nil, err
			}
		case 0xA:
		default:
			return nil, fmt.Errorf("websocket: opcode %#x", op)
		}
	}
}

// Close closes the TCP connection.
func (w *WebSocket) Close() error { return w.conn.Close() }
