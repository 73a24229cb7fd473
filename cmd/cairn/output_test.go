package main

import (
	"bytes"
	"testing"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// --json output is stable: the same message prints the same bytes, with
// the API's field names.
func TestProtoJSONStable(t *testing.T) {
	m := &cairnv1.Volume{Id: 2, Name: "web", Quota: 10 << 30, Labels: map[string]string{"b": "2", "a": "1"}}
	first, err := protoJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"id\": \"2\",\n  \"name\": \"web\",\n  \"created\": null,\n  \"quota\": \"10737418240\",\n" +
		"  \"compress\": false,\n  \"replicas\": 0,\n  \"read_only\": false,\n  \"labels\": {\n    \"a\": \"1\",\n    \"b\": \"2\"\n  },\n" +
		"  \"used_bytes\": \"0\",\n  \"files\": \"0\"\n}"
	if string(first) != want {
		t.Fatalf("got\n%s\nwant\n%s", first, want)
	}
	for range 20 {
		again, err := protoJSON(m)
		if err != nil || !bytes.Equal(again, first) {
			t.Fatalf("output changed between runs: %s vs %s (%v)", again, first, err)
		}
	}
}
