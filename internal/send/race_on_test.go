//go:build race

package send_test

// raceEnabled shrinks the simulation: pure-Go SQLite runs ~30× slower under
// the race detector. CI runs it at full size without -race too.
const raceEnabled = true
