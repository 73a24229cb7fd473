package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// printProto prints an API message as indented JSON: --json output is the
// control API's own schema (field names as in api/cairn/v1/*.proto), the
// same whether a daemon answered or the command served itself.
func printProto(m proto.Message) error {
	b, err := protoJSON(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(os.Stdout, string(b))
	return err
}

// protoJSON encodes m compactly with protojson, then indents it with
// encoding/json: protojson's own indentation varies its spacing on
// purpose (to keep callers from depending on its bytes), and a CLI's
// output should be the same every run.
func protoJSON(m proto.Message) ([]byte, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
