package peers

import (
	"errors"
	"net"
	"testing"

	"github.com/hashicorp/serf/serf"
)

func member(tags map[string]string) serf.Member {
	return serf.Member{Name: "n1", Addr: net.ParseIP("127.0.0.1"), Port: 7946, Tags: tags, Status: serf.StatusAlive}
}

func TestRoundTrip(t *testing.T) {
	in := Peer{Name: "n1", Addr: "127.0.0.1:7373", Zone: "a", Capacity: 1 << 40, Version: Version,
		Role: RoleStorage, Draining: true, Status: StatusAlive, Gossip: "127.0.0.1:7946",
		Replicas: 3, WriteQuorum: 2, Meta: "https://10.0.0.1:2379"}
	out, err := Parse(member(in.Tags()))
	if err != nil || out != in {
		t.Fatalf("Parse(Tags()) = %+v, %v; want %+v", out, err, in)
	}
	gw := Peer{Name: "n1", Version: Version, Role: RoleGateway, Status: StatusAlive, Gossip: "127.0.0.1:7946"}
	if out, err := Parse(member(gw.Tags())); err != nil || out != gw {
		t.Fatalf("gateway: Parse = %+v, %v", out, err)
	}
}

func TestParseRejects(t *testing.T) {
	good := Peer{Addr: "127.0.0.1:1", Capacity: 10, Version: Version, Role: RoleStorage}.Tags()
	if _, err := Parse(member(map[string]string{"role": "storage"})); !errors.Is(err, ErrNotCairn) {
		t.Errorf("foreign member: %v", err)
	}
	for _, bad := range []struct{ key, val string }{
		{"ver", "x"}, {"ver", "99"}, {"cap", "0"}, {"cap", ""}, {"rpc", "nohost"}, {"role", "boss"},
		{"r", "3"}, {"r", "0/0"}, {"r", "2/3"}, {"r", "x/1"}, {"r", "3/-1"},
	} {
		tags := map[string]string{}
		for k, v := range good {
			tags[k] = v
		}
		tags[bad.key] = bad.val
		if _, err := Parse(member(tags)); err == nil {
			t.Errorf("Parse accepted %s=%q", bad.key, bad.val)
		}
	}
}
