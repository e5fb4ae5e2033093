package store

import (
	"context"
	"fmt"
)

// openOrScrub is the promise a damaged store is held to since the scrub
// (issue 19): Open refuses it, or opens it and a scrub run to its end
// finds the damage. It returns Open's error, or one wrapping ErrCorrupt
// naming the file and the scrub's first damage; nil if neither found any.
func openOrScrub(path string, o *Options) error {
	s, err := Open(path, o)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Scrub(context.Background(), ScrubOptions{}); err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	in := s.Integrity()
	if !in.Verified {
		return fmt.Errorf("scrub returned but Integrity says not verified: %+v", in)
	}
	if in.Damaged == 0 {
		return nil
	}
	return fmt.Errorf("store: %s: the scrub found %d damaged (money %v): %s %s: %s: %w", path, in.Damaged, in.MoneyDamaged, in.Damage[0].Bucket, in.Damage[0].Key, in.Damage[0].Err, ErrCorrupt)
}
