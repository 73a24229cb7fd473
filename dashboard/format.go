package dashboard

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// funcs are the template helpers.
var funcs = template.FuncMap{
	"bytes":   func(n any) string { return humanize.IBytes(toUint(n)) },
	"count":   func(n any) string { return humanize.Comma(int64(toUint(n))) },
	"ts":      formatTime,
	"ago":     ago,
	"pct":     pct,
	"ratio":   func(f float64) string { return fmt.Sprintf("%.2f×", f) },
	"path":    url.PathEscape,
	"query":   url.QueryEscape,
	"join":    strings.Join,
	"dur":     func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"seconds": func(d time.Duration) string { return d.Round(time.Second).String() },
	"add":     func(a, b int) int { return a + b },
	"short":   short,
	"sub":     func(a, b uint64) uint64 { return a - min(a, b) },
	"iso":     func(t *timestamppb.Timestamp) string { return t.AsTime().UTC().Format(time.RFC3339) },
}

// toUint converts the counter types of the API messages.
func toUint(n any) uint64 {
	switch v := n.(type) {
	case uint64:
		return v
	case int64:
		if v < 0 {
			return 0
		}
		return uint64(v)
	case int:
		if v < 0 {
			return 0
		}
		return uint64(v)
	case int32:
		if v < 0 {
			return 0
		}
		return uint64(v)
	case float64:
		if v < 0 {
			return 0
		}
		return uint64(v)
	}
	return 0
}

// formatTime prints a timestamp in UTC, to the second.
func formatTime(t any) string {
	switch v := t.(type) {
	case *timestamppb.Timestamp:
		if v == nil {
			return "—"
		}
		return v.AsTime().UTC().Format("2006-01-02 15:04:05 UTC")
	case time.Time:
		if v.IsZero() {
			return "—"
		}
		return v.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return "—"
}

// ago prints how long ago a timestamp was, roughly.
func ago(t *timestamppb.Timestamp) string {
	if t == nil {
		return "—"
	}
	return humanize.Time(t.AsTime())
}

// pct is part of whole in percent, for bars.
func pct(part, whole any) float64 {
	p, w := toUint(part), toUint(whole)
	if w == 0 {
		return 0
	}
	return min(100, float64(p)*100/float64(w))
}

func pathEscape(s string) string  { return url.PathEscape(s) }
func queryEscape(s string) string { return url.QueryEscape(s) }

// short cuts a long value (a tree hash, a path) for a table cell; the
// whole value is in the title attribute where the templates need it.
func short(s string) string {
	if r := []rune(s); len(r) > 24 {
		return string(r[:20]) + "…"
	}
	return s
}
