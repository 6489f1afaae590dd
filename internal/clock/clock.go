// Package clock gives Keel's time-dependent code an injectable source of
// "now", so tests can move time without sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time. Every time Keel stores or compares is read
// from a Clock, never from time.Now directly, so simulated runs stay honest.
type Clock interface {
	// Now returns the current instant in UTC, truncated to microseconds
	// (the precision both storage engines keep).
	Now() time.Time
}

// Normalize returns t in UTC truncated to microseconds. SQLite stores times
// as text, and only one zone and one precision keep text order equal to
// time order.
func Normalize(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// Real is the wall clock.
type Real struct{}

// Now returns the wall-clock time, normalized.
func (Real) Now() time.Time { return Normalize(time.Now()) }

// Fake is a manually driven clock for tests and simulations. It is safe for
// concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a Fake clock set to start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: Normalize(start)}
}

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake clock forward by d and returns the new time.
func (f *Fake) Advance(d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = Normalize(f.now.Add(d))
	return f.now
}

// Set moves the fake clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = Normalize(t)
}
