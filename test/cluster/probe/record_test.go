package main

import "testing"

func TestRecords(t *testing.T) {
	tag := fileTag("f")
	r := makeRecord(tag, 7, 4096)
	if got := checkRecord(r, tag, 7); got != recOK {
		t.Fatalf("record 7 checks %s", got)
	}
	if got := checkRecord(r, tag, 8); got != recMisplaced {
		t.Fatalf("record 7 at 8 checks %s, want misplaced", got)
	}
	if got := checkRecord(r, fileTag("g"), 7); got != recMisplaced {
		t.Fatalf("record of f in g checks %s, want misplaced", got)
	}
	if got := checkRecord(make([]byte, 4096), tag, 7); got != recMissing {
		t.Fatalf("zeros check %s, want missing", got)
	}
	r[100] ^= 1
	if got := checkRecord(r, tag, 7); got != recCorrupt {
		t.Fatalf("flipped bit checks %s, want corrupt", got)
	}
	if a, b := makeRecord(tag, 1, 64), makeRecord(tag, 2, 64); string(a[24:32]) == string(b[24:32]) {
		t.Fatal("records 1 and 2 share their payload")
	}
}
