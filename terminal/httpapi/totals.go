package httpapi

import (
	"bytes"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"showpos/terminal/checkout"
)

// totalsCSVHeader is the header row of GET /v1/totals as CSV. Each asset
// on each network (network: its name in the config, last so that readers
// of the columns before it read them where they were) then has one row
// per state, in this order: taken (confirmed + pending),
// confirmed, pending (queued or broadcast, or seen on chain), failed,
// unmatched (money received on chain that paid no request: not a sale). amount is in base
// units, amount_display in the asset's unit; from and to are RFC 3339.
var totalsCSVHeader = []string{"from", "to", "asset", "decimals", "state", "count", "amount", "amount_display", "network"}

func (a *api) totals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, err := a.totalsRange(q)
	if err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	asCSV, err := wantsCSV(q.Get("format"), r.Header.Get("Accept"))
	if err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	t, err := a.reg.Totals(from, to)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	if !asCSV {
		writeJSON(w, http.StatusOK, t)
		return
	}
	b, err := totalsCSV(t)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="totals-`+from.Format("2006-01-02")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// totalsRange reads the period of a totals call: day=YYYY-MM-DD (local
// midnight to the next), or from= and to= in RFC 3339, or, with neither,
// today in the terminal's time zone.
func (a *api) totalsRange(q url.Values) (from, to time.Time, err error) {
	day, fromText, toText := q.Get("day"), q.Get("from"), q.Get("to")
	switch {
	case day != "" && (fromText != "" || toText != ""):
		return from, to, errors.New("give day, or from and to, not both")
	case fromText != "" || toText != "":
		if fromText == "" || toText == "" {
			return from, to, errors.New("from and to go together")
		}
		if from, err = time.Parse(time.RFC3339, fromText); err != nil {
			return from, to, errors.New("from must be an RFC 3339 time, e.g. 2026-11-23T00:00:00+01:00")
		}
		if to, err = time.Parse(time.RFC3339, toText); err != nil {
			return from, to, errors.New("to must be an RFC 3339 time, e.g. 2026-11-24T00:00:00+01:00")
		}
		if !to.After(from) {
			return from, to, errors.New("to must be after from")
		}
		return from, to, nil
	case day != "":
		// Parsed in UTC, where every midnight exists; the date alone is
		// taken into the terminal's zone.
		d, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return from, to, errors.New("day must be YYYY-MM-DD")
		}
		from, to = checkout.Day(time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, a.loc))
		return from, to, nil
	}
	from, to = checkout.Day(a.clock.Now().In(a.loc))
	return from, to, nil
}

// wantsCSV reads format= (json or csv), else whether Accept names text/csv.
func wantsCSV(format, accept string) (bool, error) {
	switch format {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, errors.New("format must be json or csv")
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mediaType), "text/csv") {
			return true, nil
		}
	}
	return false, nil
}

// tipsOf is at's tips, or an empty sum when none.
func tipsOf(at checkout.AssetTotal) checkout.Sum {
	if at.Tips == nil {
		return checkout.Sum{}
	}
	return *at.Tips
}

func totalsCSV(t checkout.Totals) ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(totalsCSVHeader)
	from, to := t.From.Format(time.RFC3339), t.To.Format(time.RFC3339)
	for _, at := range t.Assets {
		for _, s := range []struct {
			state string
			sum   checkout.Sum
		}{{"taken", at.Taken}, {"confirmed", at.Confirmed}, {"pending", at.Pending}, {"failed", at.Failed}, {"unmatched", at.Unmatched}, {"tips", tipsOf(at)}} {
			if s.state == "tips" && at.Tips == nil {
				continue
			}
			_ = cw.Write([]string{from, to, at.Asset, strconv.Itoa(int(at.Decimals)), s.state,
				strconv.Itoa(s.sum.Count), s.sum.Amount, s.sum.AmountDisplay, at.Network})
		}
	}
	cw.Flush()
	return b.Bytes(), cw.Error()
}
