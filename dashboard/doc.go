// Package dashboard is cairn's web dashboard: server-rendered pages over
// the node daemon's control API, served by `cairn server` under /ui/ on
// its HTTP address (the one of /metrics).
//
// Every page is HTML rendered here from Go templates and every action is a
// plain form POST answered with a redirect, so the dashboard works without
// JavaScript; a small embedded script only refreshes the live parts
// (graphs, job progress, events). The dashboard is a client of the API
// like the CLI: each action is one API call, with the API's checks.
//
// Access: on a loopback address the pages are open to local users; bound
// to any other address they need a login with the daemon's API token (or
// a client certificate of the cluster CA when served over TLS). Every
// form carries a per-session CSRF token, and requests whose Host or
// Origin names another site are refused (DNS rebinding, cross-site posts).
package dashboard
