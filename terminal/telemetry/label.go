package telemetry

import (
	"strings"
	"sync"
)

// other is the label value every value past a family's cap is counted as.
const other = "other"

// maxIdentLen is the longest code or outcome taken as its own label value.
const maxIdentLen = 64

// labelCap admits at most limit distinct values of one label, "other"
// included; it never forgets a value, so a series, once created, keeps its
// name for the life of the process.
type labelCap struct {
	limit int
	mu    sync.Mutex
	seen  map[string]struct{}
}

func newLabelCap(limit int) *labelCap {
	return &labelCap{limit: limit, seen: make(map[string]struct{})}
}

// admit returns v if it is a plain identifier that fits under the cap (or
// already did), else "other". Its result is safe inside a quoted label.
func (c *labelCap) admit(v string) string {
	if !isIdent(v) {
		v = other
	}
	return c.admitEscaped(v)
}

// admitEscaped is admit for values that are not identifiers, such as
// ServeMux patterns: v is escaped for a quoted label instead of refused.
func (c *labelCap) admitEscaped(v string) string {
	v = escapeLabel(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[v]; ok {
		return v
	}
	// Keep the last slot for "other".
	if v != other && len(c.seen) >= c.limit-1 {
		v = other
	}
	c.seen[v] = struct{}{}
	return v
}

// isIdent reports whether s looks like a stable code: 1 to maxIdentLen
// bytes of letters, digits and _ . : -.
func isIdent(s string) bool {
	if s == "" || len(s) > maxIdentLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9',
			b == '_', b == '.', b == ':', b == '-':
		default:
			return false
		}
	}
	return true
}

// escapeLabel makes s safe between the quotes of a label value: valid UTF-8,
// with backslash, quote and newline escaped as the text format wants.
func escapeLabel(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
