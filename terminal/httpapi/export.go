package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"showpos/terminal/checkout"
	"showpos/terminal/store"
)

// Exporting payments for archiving (GET /v1/payments/export on the
// operator socket): every payment accepted in [from, to), in every state,
// then the unmatched receipts of the same period, streamed a page at a
// time as CSV (RFC 4180, a header row) or JSON lines. It reads through
// the running daemon, so it works while posd holds the store file.
//
// A stream cut short by an error has no trailer Showpos-Export-Rows: the
// client tells a whole export (the trailer, with the number of rows) from
// a broken one.

// ExportHold keeps the bounded store's pruner off what an export reads.
// Hold returns once no prune write is under way; from then until release
// is called the pruner deletes nothing accepted at or after from (zero
// from: nothing at all). So an export whose trailer says it is whole has
// every row the store held in its period when it began, however long the
// client takes to read it (a page at a time, exportPage rows a read). It
// is the consumer's interface: posd's pruner (cmd/posd/prune.go) has it.
type ExportHold interface {
	Hold(from time.Time) (release func())
}

// ExportColumns are the export's columns, in order: the CSV header row
// and the JSON lines' keys.
var ExportColumns = []string{
	"id", "source", "request_id", "from", "nonce", "asset", "amount", "amount_display",
	"state", "reason", "accepted_at", "updated_at", "seq", "block", "block_hash", "settlement", "acknowledged_at",
}

// ExportRowsTrailer is the trailer that ends a whole export with its
// number of rows.
const ExportRowsTrailer = "Showpos-Export-Rows"

// exportPage is how many payments one read of the store takes.
const exportPage = 500

func exportRow(p checkout.PaymentView) []string {
	block := ""
	if p.Block > 0 {
		block = strconv.FormatUint(p.Block, 10)
	}
	acked := ""
	if !p.AcknowledgedAt.IsZero() {
		acked = p.AcknowledgedAt.UTC().Format(time.RFC3339Nano)
	}
	return []string{
		p.TxHash, string(p.Source), p.RequestID, p.From, strconv.FormatUint(p.Nonce, 10), p.Asset, p.Amount, p.AmountDisplay,
		string(p.State), p.Reason, p.AcceptedAt.UTC().Format(time.RFC3339Nano), p.UpdatedAt.UTC().Format(time.RFC3339Nano),
		strconv.FormatUint(p.Seq, 10), block, p.BlockHash, p.Settlement, acked,
	}
}

func (a *api) exportPayments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.PaymentFilter
	var err error
	if f.Since, err = timeParam(q.Get("from")); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "from: "+err.Error())
		return
	}
	if f.Until, err = timeParam(q.Get("to")); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "to: "+err.Error())
		return
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "to must be after from")
		return
	}
	format := q.Get("format")
	switch format {
	case "":
		format = "csv"
	case "csv", "jsonl":
	default:
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "format must be csv or jsonl")
		return
	}
	// Held before the first read: no page of this period goes while the
	// export runs.
	if a.exportHold != nil {
		release := a.exportHold.Hold(f.Since)
		defer release()
	}
	// Read the first page before answering, so a store that cannot be
	// read is an error status, not an empty file.
	f.Limit = exportPage
	page, err := a.reg.Payments(f)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	w.Header().Set("Trailer", ExportRowsTrailer)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	} else {
		w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	}
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	enc := json.NewEncoder(w)
	if format == "csv" {
		_ = cw.Write(ExportColumns)
	}
	rows := 0
	write := func(p checkout.PaymentView) error {
		row := exportRow(p)
		rows++
		if format == "csv" {
			return cw.Write(row)
		}
		obj := make(map[string]string, len(row))
		for i, c := range ExportColumns {
			obj[c] = row[i]
		}
		return enc.Encode(obj)
	}
	// Payments (all states but unmatched), then unmatched receipts: each
	// in its own order, paged by Seq.
	for _, state := range []store.PaymentState{"", store.PaymentUnmatched} {
		f.State, f.AfterSeq = state, 0
		if state != "" {
			if page, err = a.reg.Payments(f); err != nil {
				a.log.Error("export: read payments", "err", err)
				return
			}
		}
		for {
			for _, p := range page {
				if err := write(p); err != nil {
					return // the client went away
				}
			}
			cw.Flush()
			if err := cw.Error(); err != nil || r.Context().Err() != nil {
				return
			}
			if len(page) < f.Limit {
				break
			}
			f.AfterSeq = page[len(page)-1].Seq
			if page, err = a.reg.Payments(f); err != nil {
				a.log.Error("export: read payments", "err", err)
				return
			}
		}
	}
	w.Header().Set(ExportRowsTrailer, strconv.Itoa(rows))
}
