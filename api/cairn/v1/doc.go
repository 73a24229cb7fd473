// Package cairnv1 is the generated code of the cairn.v1 control API
// (the .proto files beside it): messages, and gRPC clients and servers
// of the Volumes, Snapshots, Mounts, Maintenance, Cluster and Health
// services. Regenerate with `make proto`.
package cairnv1
