package exec

// memAccount tracks the bytes one operator holds against the query's
// Memory: set reserves or releases the difference to a new total.
type memAccount struct {
	mem   *Memory
	owner string
	held  int64
}

// set makes the account hold n bytes, failing with ErrMemoryLimit (wrapped)
// when the growth does not fit.
func (a *memAccount) set(n int64) error {
	switch {
	case n > a.held:
		if err := a.mem.Reserve(a.owner, n-a.held); err != nil {
			return err
		}
	case n < a.held:
		a.mem.Release(a.held - n)
	}
	a.held = n
	return nil
}

// add grows the account by n bytes.
func (a *memAccount) add(n int64) error { return a.set(a.held + n) }

// close releases everything the account holds.
func (a *memAccount) close() {
	if a.mem != nil {
		a.mem.Release(a.held)
	}
	a.held = 0
}
