//go:build race

package chunks

// raceEnabled lets tests shrink their data: the race detector slows the
// chunking loop by over 10x.
const raceEnabled = true
