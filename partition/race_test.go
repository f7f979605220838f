//go:build race

package partition

// raceEnabled reports a build with the race detector, which makes the
// largest imports too slow for the default test run.
const raceEnabled = true
