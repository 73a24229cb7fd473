// Package cluster is cairn's Docker cluster fault suite, run by
// `make test-cluster` (and by .ci/run when a Docker engine answers).
//
// The tests, behind the dockercluster build tag so that `go test ./...`
// skips them, build bin/cairn and the probe (./probe: a static NFSv3
// writer and verifier), put both on an empty image (Dockerfile), and
// start the documented cluster, deploy/docker-compose.yml (gossip, chunks
// and etcd all over mutual TLS with the nodes' bundles), with the
// test's additions (compose.test.yml: short grace, settle and repair
// timings, no restart policy, an admin container). Nothing is published
// to the host: the probe runs inside the gateway container and talks to
// it on 127.0.0.1, and the cluster CLI runs in the admin container, both
// through `docker exec`.
//
// Scenarios, in order, on one cluster:
//
//   - bring-up: every node sees four alive members, status is healthy;
//   - kill: `docker kill` of a storage node while the probe writes; the
//     writer goes on (R=3, write quorum 2), the node is started again and
//     the cluster heals by itself (no under-replicated chunk, the same
//     chunks on every node);
//   - partition-storage: `docker network disconnect` of one storage node:
//     writes go on, and it rejoins and heals once reconnected;
//   - partition-gateway: the gateway is cut off: COMMITs fail (NFS3ERR_IO)
//     instead of being acknowledged, and once reconnected writes resume
//     by themselves;
//   - rolling-restart: node1..3 restarted one at a time while the probe
//     writes.
//
// Every scenario ends by reading back every acknowledged record; at the
// end the gateway is restarted and every file is verified again.
//
// Run it with `make test-cluster`, or
//
//	go test -tags dockercluster -v -timeout 20m ./test/cluster/
//
// Environment: CAIRN_TEST_COMPOSE ("docker compose" or "docker-compose";
// default: whichever works), CAIRN_TEST_PROJECT (compose project name,
// default cairntest), CAIRN_TEST_KEEP=1 (leave the cluster running),
// CAIRN_TEST_LOGS (directory for the containers' logs; default a new
// temporary directory, kept when the test fails).
package cluster
