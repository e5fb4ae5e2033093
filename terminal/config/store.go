package config

import (
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
}

type fileStore struct {
	Keep *string `toml:"keep"`
}

// maxKeep bounds store.keep: ten years, past which "keep" means forever
// and the arithmetic on times stays far from overflow.
const maxKeep = 10 * 365 * 24 * time.Hour

func (f fileStore) check() (Store, error) {
	if f.Keep == nil {
		return Store{}, nil
	}
	d, err := ParseKeep(*f.Keep)
	if err != nil {
		return Store{}, invalid("store.keep: %v", err)
	}
	return Store{Keep: &d}, nil
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
