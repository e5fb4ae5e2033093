package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"showpos/terminal/procio"
)

// Some figures are posd's own, said in its text log (cmd/posd logs with
// slog.NewTextHandler: key=value pairs, a value quoted when it must be).
// posbench reads the line from this posd's part of its log.

// logLine is one line of posd's text log, its fields by key.
type logLine map[string]string

// ownLog opens this posd's part of the log: what it wrote since it started.
func (d *daemon) ownLog() (io.ReadCloser, error) {
	f, err := os.Open(d.log.Name())
	if err != nil {
		return nil, fmt.Errorf("posd's log: %w", err)
	}
	if _, err := f.Seek(d.logFrom, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("posd's log: %w", err)
	}
	return f, nil
}

// lastLogged returns the last line of a posd text log whose msg is msg;
// an error if there is none. Lines that are not slog's (a panic's) are
// passed over.
func lastLogged(r io.Reader, msg string) (logLine, error) {
	var last logLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l, ok := parseLogLine(sc.Text()); ok && l["msg"] == msg {
			last = l
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("posd's log: %w", err)
	}
	if last == nil {
		return nil, fmt.Errorf("no %q line in posd's log", msg)
	}
	return last, nil
}

// field is the value of key on the line; an error if the line has none.
func (l logLine) field(key string) (string, error) {
	v, ok := l[key]
	if !ok {
		return "", fmt.Errorf("posd's %q line has no %s", l["msg"], key)
	}
	return v, nil
}

// number is the value of key on the line as a whole number.
func (l logLine) number(key string) (int64, error) {
	v, err := l.field(key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("posd's %q line: %s: %w", l["msg"], key, err)
	}
	return n, nil
}

// parseLogLine splits a slog text line into its fields: key=value
// separated by spaces, a value in Go's double quotes when it holds a
// space, a quote or an equals sign (so a quoted path holding "read_bytes="
// is not taken for the field). ok is false for a line slog did not write.
func parseLogLine(line string) (logLine, bool) {
	l := logLine{}
	for s := line; s != ""; {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || k == "" || strings.ContainsAny(k, ` "`) {
			return nil, false
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, false
			}
			v, _ = strconv.Unquote(q)
			if rest = rest[len(q):]; rest != "" && rest[0] != ' ' {
				return nil, false
			}
			rest = strings.TrimPrefix(rest, " ")
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		l[k] = v
		s = rest
	}
	if _, ok := l["msg"]; !ok {
		return nil, false
	}
	return l, true
}

// bootRead is what posd says it read before READY=1: read_bytes and
// rchar of the "posd ready" line it logs just before it sends READY=1,
// from its own /proc/self/io.
func (d *daemon) bootRead() (procio.IO, error) {
	f, err := d.ownLog()
	if err != nil {
		return procio.IO{}, err
	}
	defer f.Close()
	return bootReadIn(f)
}

// bootReadIn reads read_bytes and rchar of the last "posd ready" line of a
// posd text log; both are required (a posd that could not read its
// /proc/self/io logs read_io_error instead: an error here, never a zero).
func bootReadIn(r io.Reader) (procio.IO, error) {
	l, err := lastLogged(r, "posd ready")
	if err != nil {
		return procio.IO{}, err
	}
	if e, ok := l["read_io_error"]; ok {
		return procio.IO{}, fmt.Errorf("posd could not read what its boot read: %s", e)
	}
	var io procio.IO
	if io.ReadBytes, err = l.number("read_bytes"); err != nil {
		return procio.IO{}, err
	}
	if io.RChar, err = l.number("rchar"); err != nil {
		return procio.IO{}, err
	}
	return io, nil
}
