//go:build race

package forecast_test

// raceEnabled skips the second 14-day engine run: pure-Go SQLite runs ~30×
// slower under the race detector. The first still runs; CI runs both
// without -race too.
const raceEnabled = true
