package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Store is the [store] table: how long the terminal keeps settled
// records (see terminal/store's Prune for what is settled).
type Store struct {
	// Keep is how long settled payments and finished requests are kept
	// after they were accepted or made; nil (store.keep unset) keeps
	// everything, as before the bounded store; 0 prunes them as soon as
	// they are settled, delivered and out of the current Z period.
	Keep *time.Duration
	// ScrubRate bounds, in bytes a second, how fast posd's scrub reads
	// the store after READY to verify what Open did not read
	// (store.scrub_rate; terminal/store's Scrub); 0: as fast as it can.
	ScrubRate int64
}

// DefaultScrubRate is store.scrub_rate unset: 8 MiB a second, a 250 MB
// store verified in about 30 s while a sale's reads still find the medium
// free (an SD card reads about 20 MB/s).
const DefaultScrubRate = 8 << 20

type fileStore struct {
	Keep      *string `toml:"keep"`
	ScrubRate *string `toml:"scrub_rate"`
}

// maxKeep bounds store.keep: ten years, past which "keep" means forever
// and the arithmetic on times stays far from overflow.
const maxKeep = 10 * 365 * 24 * time.Hour

func (f fileStore) check() (Store, error) {
	st := Store{ScrubRate: DefaultScrubRate}
	if f.ScrubRate != nil {
		r, err := ParseRate(*f.ScrubRate)
		if err != nil {
			return Store{}, invalid("store.scrub_rate: %v", err)
		}
		st.ScrubRate = r
	}
	if f.Keep == nil {
		return st, nil
	}
	d, err := ParseKeep(*f.Keep)
	if err != nil {
		return Store{}, invalid("store.keep: %v", err)
	}
	st.Keep = &d
	return st, nil
}

// ParseRate reads a read rate in bytes a second: a whole number with a
// unit, "8MiB", "512KiB", "1GiB" or "4096B"; "0" is unbounded.
func ParseRate(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}} {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(num, 10, 32)
		if err != nil || n == 0 {
			break
		}
		return int64(n) << u.shift, nil
	}
	return 0, fmt.Errorf("%q is not a rate: write a whole number of bytes a second with its unit (\"8MiB\", \"512KiB\", \"4096B\"), or \"0\" for unbounded", s)
}

// ParseKeep reads a keep period: a whole number of days ("90d") or a Go
// duration ("2160h", "0s"); not negative, at most ten years.
func ParseKeep(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 32)
		if err != nil || n > uint64(maxKeep/(24*time.Hour)) {
			return 0, invalidKeep(s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, invalidKeep(s)
		}
	}
	if d < 0 || d > maxKeep {
		return 0, invalidKeep(s)
	}
	return d, nil
}

type keepError string

func (e keepError) Error() string {
	return strconv.Quote(string(e)) + " is not a keep period: write days (\"90d\") or a duration (\"2160h\", \"0s\"), from 0 to 3650d"
}

func invalidKeep(s string) error { return keepError(s) }
