package screen

import (
	"image"
	"image/color"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

const ellipsis = "…"

type align int

const (
	alignCenter align = iota
	alignLeft
	alignRight
)

// para is a paragraph to lay out: wrapped on spaces at the box's width,
// shrunk from px down to minPx until no word is cut, then cut with "…".
type para struct {
	text     string
	style    style
	px       int
	minPx    int // 0 means the renderer's smallest legible size
	align    align
	fg       color.Color
	maxLines int // 0: as many as fit
}

// line is laid-out text: one line in one face, measured in whole pixels.
type line struct {
	text  string
	face  *faceInfo
	left  int // pixels the ink reaches left of the dot (≤ 0)
	width int // ink and advance, from left
	align align
	fg    color.Color
	gap   int // blank pixels above the line
	para  int // index of the paragraph it is from
}

// minPx is the smallest face the renderer shrinks text to.
func (r *Renderer) minPx() int {
	if r.size.Mono {
		return 9 // below, thresholded glyphs lose strokes
	}
	return 10
}

// measure returns how far s's ink and advance reach left of the dot (≤ 0)
// and its whole width in pixels.
func measure(f font.Face, s string) (left, width int) {
	b, adv := font.BoundString(f, s)
	l := min(0, b.Min.X.Floor())
	right := max(adv.Ceil(), b.Max.X.Ceil())
	return l, right - l
}

func textWidth(f font.Face, s string) int {
	_, w := measure(f, s)
	return w
}

// truncate returns s if it fits w, else the longest prefix of s that fits
// with "…" after it.
func truncate(f font.Face, s string, w int) string {
	if textWidth(f, s) <= w {
		return s
	}
	return withEllipsis(f, s, w)
}

// withEllipsis returns the longest prefix of s that fits w with "…" after
// it, or "" when not even "…" fits.
func withEllipsis(f font.Face, s string, w int) string {
	for {
		s = strings.TrimRight(s, " ")
		if t := s + ellipsis; textWidth(f, t) <= w {
			return t
		}
		if s == "" {
			return ""
		}
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
}

// wrap breaks text into lines no wider than w, at most maxLines of them
// (0: no limit). cut reports whether anything was cut with "…". A newline
// in text starts a new line.
func wrap(f font.Face, text string, w, maxLines int) (lines []string, cut bool) {
	for _, p := range strings.Split(text, "\n") {
		cur := ""
		for _, word := range strings.FieldsFunc(p, isBreak) {
			if cur != "" {
				if c := cur + " " + word; textWidth(f, c) <= w {
					cur = c
					continue
				}
				lines = append(lines, cur)
			}
			cur = word
			if textWidth(f, cur) > w {
				cur, cut = truncate(f, cur, w), true
			}
		}
		lines = append(lines, cur)
	}
	if maxLines > 0 && len(lines) > maxLines {
		lines, cut = lines[:maxLines], true
		lines[maxLines-1] = withEllipsis(f, strings.TrimSuffix(lines[maxLines-1], ellipsis), w)
	}
	return lines, cut
}

// layout lays ps out in a box w wide and at most h tall: each paragraph
// wrapped at its largest face (from px at scale/100 down to minPx) that
// cuts no word, all of them shrunk together while they overflow h. Lines
// that still do not fit are dropped, the last kept one ending in "…".
// r.mu is held.
func (r *Renderer) layout(ps []para, w, h int) []line {
	ls, _ := r.layoutCut(ps, w, h)
	return ls
}

// layoutCut is layout, also returning the texts of the paragraphs it cut
// or dropped lines of.
func (r *Renderer) layoutCut(ps []para, w, h int) ([]line, []string) {
	var out []line
	cut := make([]bool, len(ps))
	for scale := 100; ; scale -= 10 {
		out = out[:0]
		clear(cut)
		atMin := true
		for i, p := range ps {
			lo := p.minPx
			if lo == 0 {
				lo = r.minPx()
			}
			hi := max(lo, p.px*scale/100)
			if hi > lo {
				atMin = false
			}
			var texts []string
			var f *faceInfo
			for px := hi; px >= lo; px-- {
				f = r.face(p.style, px)
				texts, cut[i] = wrap(f, p.text, w, p.maxLines)
				if !cut[i] {
					break
				}
			}
			gap := 0
			if i > 0 {
				gap = max(1, f.px/4)
			}
			for j, t := range texts {
				left, width := measure(f, t)
				out = append(out, line{text: t, face: f, left: left, width: width, align: p.align, fg: p.fg, para: i})
				if j == 0 {
					out[len(out)-1].gap = gap
				}
			}
		}
		if blockHeight(out) <= h || atMin {
			break
		}
	}
	// Drop what still overflows; say so on the last line kept.
	for len(out) > 0 && blockHeight(out) > h {
		cut[out[len(out)-1].para] = true
		out = out[:len(out)-1]
		if n := len(out); n > 0 {
			l := &out[n-1]
			cut[l.para] = true
			l.text = withEllipsis(l.face, strings.TrimSuffix(l.text, ellipsis), w)
			l.left, l.width = measure(l.face, l.text)
		}
	}
	var texts []string
	for i, c := range cut {
		if c {
			texts = append(texts, ps[i].text)
		}
	}
	return out, texts
}

func blockHeight(ls []line) int {
	h := 0
	for _, l := range ls {
		h += l.gap + l.face.adv
	}
	return h
}

type valign int

const (
	vCenter valign = iota
	vTop
	vBottom
)

// drawBlock lays ps out in box and draws them, aligned vertically as v. It
// returns the rectangle the lines took.
func (r *Renderer) drawBlock(c *canvas, ps []para, box image.Rectangle, v valign) image.Rectangle {
	ls, cut := r.layoutCut(ps, box.Dx(), box.Dy())
	r.cut = append(r.cut, cut...)
	h := blockHeight(ls)
	y := box.Min.Y
	switch v {
	case vCenter:
		y += (box.Dy() - h) / 2
	case vBottom:
		y = box.Max.Y - h
	}
	used := image.Rect(box.Min.X, y, box.Max.X, y+h)
	for _, l := range ls {
		y += l.gap
		x := box.Min.X
		switch l.align {
		case alignCenter:
			x += (box.Dx() - l.width) / 2
		case alignRight:
			x = box.Max.X - l.width
		}
		d := font.Drawer{Dst: c.Image, Src: image.NewUniform(l.fg), Face: l.face,
			Dot: fixed.P(x-l.left, y+l.face.ascent)}
		d.DrawString(l.text)
		y += l.face.adv
	}
	return used
}

// isBreak reports whether text may break at r: at spaces, but not at a
// no-break space (U+00A0), which French puts in amounts ("1 234,50") and
// before ":" and "?".
func isBreak(r rune) bool { return r == ' ' || r == '\t' }
