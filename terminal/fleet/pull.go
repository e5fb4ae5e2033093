package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// Run fetches [fleet] pull_url at once and then every pull_every (plus up
// to a tenth more, at random, so a fleet restarted together does not pull
// together), and takes what it gets as Push does. It returns when ctx is
// done, or at once when the terminal has no pull_url. A failed fetch is
// logged and tried again next interval; a refusal is logged as Push logs
// it, the same one again at debug level only.
func (m *Manager) Run(ctx context.Context) {
	f := m.Current().Fleet
	if f.PullURL == "" {
		return
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.pull(ctx, f.PullURL)
		t.Reset(f.PullEvery + rand.N(f.PullEvery/10+1))
	}
}

func (m *Manager) pull(ctx context.Context, url string) {
	raw, err := m.fetch(ctx, url)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		m.log.Warn("fleet: pull failed; trying again next interval", "url", url, "err", err)
		return
	case raw == nil:
		m.log.Debug("fleet: no bundle published", "url", url)
		return
	}
	var r *Refusal
	if _, err := m.take(ctx, raw, SourcePull); err != nil && !errors.As(err, &r) {
		m.log.Error("fleet: pulled bundle not taken", "url", url, "err", err)
	}
}

// fetch GETs url. A 404 or 204 means nothing is published (nil, nil). The
// body is read up to one byte over MaxBundle, so an oversized bundle is
// refused by Open rather than read whole.
func (m *Manager) fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.o.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusNoContent:
		return nil, nil
	default:
		return nil, fmt.Errorf("GET answered %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBundle+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}
