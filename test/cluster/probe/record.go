package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/fnv"
)

// A record is one fixed-size, self-checking block of a probe file:
//
//	[0,8)        magic "CAIRNREC"
//	[8,16)       sequence number, big endian; record n lives at n*size
//	[16,24)      the file's tag (a hash of its name)
//	[24,size-32) pseudo-random bytes derived from tag and sequence
//	[size-32,size) SHA-256 of everything before it
//
// The content depends only on (tag, seq, size), so a record can be
// rewritten identically after a failure and checked without a log.
const (
	recMagic   = "CAIRNREC"
	recHeader  = 24
	recSumSize = sha256.Size
	// minRecord is the smallest record size: header and checksum.
	minRecord = recHeader + recSumSize
)

// fileTag is the tag of the probe file named name.
func fileTag(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// makeRecord returns record seq of the file tagged tag.
func makeRecord(tag, seq uint64, size int) []byte {
	b := make([]byte, size)
	copy(b, recMagic)
	binary.BigEndian.PutUint64(b[8:], seq)
	binary.BigEndian.PutUint64(b[16:], tag)
	x := tag ^ (seq+1)*0x9e3779b97f4a7c15
	body := b[recHeader : size-recSumSize]
	for i := 0; i < len(body); i += 8 {
		x = splitmix64(x)
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], x)
		copy(body[i:], w[:])
	}
	sum := sha256.Sum256(b[:size-recSumSize])
	copy(b[size-recSumSize:], sum[:])
	return b
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	z := x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Outcomes of checkRecord.
const (
	recOK        = "ok"
	recMissing   = "missing"   // zeros: never written, or lost
	recCorrupt   = "corrupt"   // bad magic or checksum
	recMisplaced = "misplaced" // a valid record of another position or file
)

// checkRecord says whether b is record seq of the file tagged tag.
func checkRecord(b []byte, tag, seq uint64) string {
	if bytes.Equal(b, makeRecord(tag, seq, len(b))) {
		return recOK
	}
	if len(b) < minRecord {
		return recCorrupt
	}
	if bytes.Count(b, []byte{0}) == len(b) {
		return recMissing
	}
	sum := sha256.Sum256(b[:len(b)-recSumSize])
	if string(b[:8]) == recMagic && bytes.Equal(sum[:], b[len(b)-recSumSize:]) {
		return recMisplaced
	}
	return recCorrupt
}
