//go:build race

package send

// raceDetector shrinks property tests under the race detector.
const raceDetector = true
