//go:build !race

package snapshots

// raceEnabled scales tests down under the race detector.
const raceEnabled = false
