package main

import (
	"errors"
	"io"

	"google.golang.org/grpc"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
)

// untilReport reads a maintenance stream (gc, fsck): it shows each
// progress message and returns the report, which the daemon sends last.
func untilReport[M any, P interface {
	*M
	GetProgress() *cairnv1.Progress
}, R comparable](stream grpc.ServerStreamingClient[M], report func(P) R, show func(*cairnv1.Progress)) (R, error) {
	var none R
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return none, errors.New("the daemon ended the stream without a report")
		}
		if err != nil {
			return none, err
		}
		if p := P(msg).GetProgress(); p != nil {
			show(p)
		}
		if r := report(msg); r != none {
			return r, nil
		}
	}
}

// phaseProgress returns a function showing progress messages on stderr,
// one progress line per phase, named by names (the phase itself if not).
func phaseProgress(names map[string]string) func(*cairnv1.Progress) {
	phases := map[string]*progress{}
	return func(p *cairnv1.Progress) {
		pr := phases[p.GetPhase()]
		if pr == nil {
			name := names[p.GetPhase()]
			if name == "" {
				name = p.GetPhase()
			}
			pr = newProgress(name)
			phases[p.GetPhase()] = pr
		}
		pr.update(int(p.GetDone()), int(max(p.GetTotal(), p.GetDone())))
	}
}
