//go:build !race

package chaos

// raceEnabled: the chaos run measures real processes, and under the race
// detector the test binary's own load would starve them on a small machine.
const raceEnabled = false
