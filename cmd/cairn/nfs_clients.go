package main

import (
	"github.com/cairn-storage/cairn/control"
	"github.com/cairn-storage/cairn/nfsgw"
)

// nfsClients is the NFS gateway as control.NFSClients: the clients the
// control API names when a volume in use is refused (delete, restore)
// and lists with the mounts. The two packages keep their own types so
// that neither depends on the other's.
type nfsClients struct{ srv *nfsgw.Server }

var _ control.NFSClients = nfsClients{}

// Clients lists the gateway's recent clients.
func (n nfsClients) Clients() []control.NFSClient {
	cs := n.srv.Clients()
	out := make([]control.NFSClient, len(cs))
	for i, c := range cs {
		out[i] = control.NFSClient{Address: c.Address, Volume: c.Volume, LastSeen: c.LastSeen}
	}
	return out
}
