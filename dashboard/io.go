package dashboard

import (
	"html/template"
	"net/http"
)

// ioData are a volume's live graphs.
type ioData struct {
	Volume     string
	Samples    int
	Throughput template.HTML
	IOPS       template.HTML
	Latency    template.HTML
}

// ioOf draws volume's graphs from the sampled counters.
func (s *Server) ioOf(volume string) ioData {
	r := s.io.rates(volume)
	return ioData{Volume: volume, Samples: len(r.at),
		Throughput: chart("Throughput", perSecondBytes,
			series{Name: "read", Class: "read", Points: r.readBps}, series{Name: "write", Class: "write", Points: r.writeBps}),
		IOPS: chart("Operations", perSecond,
			series{Name: "reads", Class: "read", Points: r.readIOPS}, series{Name: "writes", Class: "write", Points: r.writeIOPS}),
		Latency: chart("Mean latency", millis,
			series{Name: "read", Class: "read", Points: r.readLatMs}, series{Name: "write", Class: "write", Points: r.writeLatMs}),
	}
}

// ioFragment is a volume's graphs alone, refreshed live.
func (s *Server) ioFragment(w http.ResponseWriter, r *http.Request, sess *session) {
	s.fragment(w, r, sess, "volume", "io", volumeData{IO: s.ioOf(r.PathValue("name"))})
}
