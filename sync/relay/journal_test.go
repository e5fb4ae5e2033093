package relay

import (
	"slices"
	"sync"
)

// memJournal is a hand-written Queue and Journal in memory: what the store
// will do in bbolt. It keeps every transaction and every outcome, in
// order, so tests can read the history.
type memJournal struct {
	mu       sync.Mutex
	auths    []Authorization
	txs      map[uint64]Tx
	records  []Tx      // every Record, in order
	outcomes []Outcome // every Report, in order
}

func newMemJournal(auths ...Authorization) *memJournal {
	return &memJournal{auths: auths, txs: map[uint64]Tx{}}
}

func (j *memJournal) add(a Authorization) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.auths = append(j.auths, a)
}

func (j *memJournal) ended(id string) bool {
	for _, o := range j.outcomes {
		if o.AuthID == id && (o.State == OutcomeFinal || o.State == OutcomeFailed) {
			return true
		}
	}
	return false
}

func (j *memJournal) Open(after string, limit int) ([]Authorization, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	start := 0
	if after != "" {
		start = slices.IndexFunc(j.auths, func(a Authorization) bool { return a.ID == after }) + 1
	}
	var out []Authorization
	for _, a := range j.auths[start:] {
		if len(out) == limit {
			break
		}
		if !j.ended(a.ID) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (j *memJournal) Txs() ([]Tx, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Tx
	for _, t := range j.txs {
		if t.State == TxSent || t.State == TxMined {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Tx) int { return int(a.Nonce) - int(b.Nonce) })
	return out, nil
}

func (j *memJournal) Record(t Tx) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	t.Hashes = slices.Clone(t.Hashes)
	j.txs[t.Nonce] = t
	j.records = append(j.records, t)
	return nil
}

func (j *memJournal) Report(o Outcome) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.outcomes = append(j.outcomes, o)
	return nil
}

// states is the sequence of outcome states (and reasons) reported for id.
func (j *memJournal) states(id string) []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []string
	for _, o := range j.outcomes {
		if o.AuthID == id {
			s := string(o.State)
			if o.Reason != "" {
				s += " " + o.Reason
			}
			out = append(out, s)
		}
	}
	return out
}

// carrying is every transaction ever recorded for id, by nonce.
func (j *memJournal) carrying(id string) []Tx {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Tx
	for _, t := range j.txs {
		if t.AuthID == id {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Tx) int { return int(a.Nonce) - int(b.Nonce) })
	return out
}
