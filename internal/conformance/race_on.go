//go:build race

package conformance

// raceEnabled: under the race detector the pure-Go SQLite engine runs about
// thirty times slower, so the property test's default shrinks; CI also runs
// the suite without -race at the full size.
const raceEnabled = true
