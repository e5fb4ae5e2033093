package receipt_test

import (
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"

	"showpos/device"
	"showpos/terminal/locale"
	"showpos/terminal/receipt"
)

var update = flag.Bool("update", false, "rewrite the golden receipts in testdata")

// plain renders a job as the paper would show it, in columns characters:
// a rule is dashes, a large line's characters are spaced to double width,
// a QR is [QR payload], a bold line ends in " *" past the paper's edge (so
// the golden shows it without moving the text).
func plain(t *testing.T, job device.PrintJob, columns int) string {
	t.Helper()
	var b strings.Builder
	for i, l := range job.Lines {
		var s string
		switch {
		case l.Rule:
			s = strings.Repeat("-", columns)
		case l.QR != "":
			s = center("[QR "+l.QR+"]", columns)
		case l.Right != "":
			gap := columns - utf8.RuneCountInString(l.Text) - utf8.RuneCountInString(l.Right)
			if gap < 1 {
				t.Errorf("line %d: %q and %q do not fit %d columns", i, l.Text, l.Right, columns)
				gap = 1
			}
			s = l.Text + strings.Repeat(" ", gap) + l.Right
		default:
			text, w := l.Text, columns
			if l.Large {
				text = strings.Join(strings.Split(text, ""), " ") + " "
			}
			if n := utf8.RuneCountInString(text); n > w {
				t.Errorf("line %d: %q is %d wide, the paper %d", i, text, n, w)
			}
			switch l.Align {
			case device.AlignCenter:
				s = center(text, w)
			case device.AlignRight:
				s = strings.Repeat(" ", max(0, w-utf8.RuneCountInString(text))) + text
			default:
				s = text
			}
		}
		s = strings.TrimRight(s, " ")
		if l.Bold {
			s += strings.Repeat(" ", max(0, columns-utf8.RuneCountInString(s))) + " *"
		}
		b.WriteString(s + "\n")
	}
	return b.String()
}

func center(s string, w int) string {
	n := utf8.RuneCountInString(s)
	if n >= w {
		return s
	}
	return strings.Repeat(" ", (w-n)/2) + s
}

func TestJobGoldens(t *testing.T) {
	auth := paidTUSD()
	auth.State, auth.Method, auth.Tip, auth.FiatAmount, auth.Currency, auth.Rate, auth.Memo = receipt.StateAccepted, receipt.MethodAuthorization, nil, "", "", "", ""
	auth.AuthNonce = common.HexToHash("0x1f2e3d4c5b6a79880102030405060708090a0b0c0d0e0f101112131415161718")
	auth.TxHash = common.Hash{}
	rejected := paidTUSD()
	rejected.State, rejected.Reason = receipt.StateRejected, "underpaid: the payment carries 5.0 TUSD, the request asks 5.175"
	rejected.Method, rejected.TxHash, rejected.From = "", common.Hash{}, common.Address{}
	for name, r := range map[string]receipt.Receipt{"paid": paidTUSD(), "authorization": auth, "rejected": rejected} {
		s, err := receipt.Sign(r, termKey(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, cols := range []int{32, 48} {
			t.Run(fmt.Sprintf("%s-%d", name, cols), func(t *testing.T) {
				got := plain(t, receipt.Job(s, cols), cols)
				path := filepath.Join("testdata", fmt.Sprintf("%s-%d.txt", name, cols))
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to write it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the golden:\n%s\nwant:\n%s", path, got, want)
				}
			})
		}
	}
}

// However long a field, no line is wider than the paper.
func TestEveryLineFitsThePaper(t *testing.T) {
	r := paidTUSD()
	r.MerchantName = strings.Repeat("Supercalifragilistic", 5)
	r.Reason = strings.Repeat("x", 100)
	r.Memo = "a memo of many words that goes on and on past the edge of any paper roll"
	r.Amount, _ = new(big.Int).SetString("115792089237316195423570985008687907853269984665640564039457584007913129639935", 10)
	s, err := receipt.Sign(r, termKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, cols := range []int{24, 32, 48} {
		plain(t, receipt.Job(s, cols), cols) // fails the test on a line too wide
	}
}

// The receipt in German on 58 mm paper: the words from the catalog, the
// amounts with a decimal comma (thousands grouped), the date as Germans
// write it, the signed reason (English, "underpaid") printed in German.
func TestJobGoldensInGerman(t *testing.T) {
	de, err := locale.Parse("de")
	if err != nil {
		t.Fatal(err)
	}
	paid := paidTUSD()
	paid.Amount, paid.FiatAmount, paid.Rate = big.NewInt(1_234_567_500), "1133.18", "0.917874"
	accepted := paidTUSD()
	accepted.State = receipt.StateAccepted
	rejected := paidTUSD()
	rejected.State, rejected.Reason = receipt.StateRejected, "underpaid"
	rejected.Method, rejected.TxHash, rejected.From = "", common.Hash{}, common.Address{}
	for name, r := range map[string]receipt.Receipt{"de-paid": paid, "de-accepted": accepted, "de-rejected": rejected} {
		s, err := receipt.Sign(r, termKey(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			const cols = 32
			got := plain(t, receipt.JobIn(de, s, cols), cols)
			path := filepath.Join("testdata", fmt.Sprintf("%s-%d.txt", name, cols))
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the golden:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// Every language's receipt fits the paper in every state, down to
// MinColumns: the state in large letters (two columns each) included.
func TestEveryLanguageFitsThePaper(t *testing.T) {
	for _, l := range locale.All() {
		for _, st := range []receipt.State{receipt.StatePaid, receipt.StateAccepted, receipt.StateRejected, receipt.StateUnpaid} {
			r := paidTUSD()
			r.State, r.Reason = st, "payment expires too soon"
			r.Amount, _ = new(big.Int).SetString("123456789012345678901234567890", 10)
			s, err := receipt.Sign(r, termKey(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, cols := range []int{receipt.MinColumns, 32, 48} {
				t.Run(fmt.Sprintf("%s-%s-%d", l, st, cols), func(t *testing.T) {
					plain(t, receipt.JobIn(l, s, cols), cols) // fails the test on a line too wide
				})
			}
		}
	}
}
