//go:build !race

package clv

const raceEnabled = false
