//go:build race

package clv

// raceEnabled shrinks the slowest tests under the race detector.
const raceEnabled = true
