package screen

import (
	"fmt"
	"testing"
)

// TestResultMemoShowsWhatADrawingWould: a result shown again (from the
// memo) is the picture a fresh renderer draws for it, also after more
// results than the memo holds pushed it out, and different results never
// share a picture.
func TestResultMemoShowsWhatADrawingWould(t *testing.T) {
	for _, s := range sizes {
		t.Run(fmt.Sprintf("%dx%d", s.W, s.H), func(t *testing.T) {
			r := mustNew(t, s)
			var seq []Result
			for i := range resultMemoSize + 2 {
				seq = append(seq, Result{Kind: ResultKind(i % int(numResults)), Reason: fmt.Sprintf("reason %d", i)})
			}
			seq = append(seq, Result{Kind: ResultAccepted}, Result{Kind: ResultPaid})
			for round := range 2 {
				for i, v := range seq {
					got := r.Result(v)
					want := mustNew(t, s).Result(v)
					if !SamePicture(got, want) {
						t.Fatalf("round %d, result %d %+v: the picture differs from a fresh drawing", round, i, v)
					}
					if i > 0 && SamePicture(got, r.Result(seq[i-1])) {
						t.Fatalf("round %d: results %+v and %+v show the same picture", round, v, seq[i-1])
					}
				}
			}
		})
	}
}
