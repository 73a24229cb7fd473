package control

import "github.com/prometheus/client_golang/prometheus"

// CallsCounter exposes the call counter of method and code to tests.
func CallsCounter(method, code string) prometheus.Counter {
	return apiCalls.WithLabelValues(method, code)
}
