//go:build race

package inbox_test

// raceEnabled shrinks the backfill test under the race detector.
const raceEnabled = true
