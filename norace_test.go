//go:build !race

package plock

const raceEnabled = false
