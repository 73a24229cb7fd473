package badgerkv

import (
	"fmt"
	"log/slog"
	"strings"
)

// slogLogger routes badger's warnings and errors to log/slog and drops its
// chatty info and debug messages.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Errorf(format string, args ...any) {
	s.l.Error(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (s slogLogger) Warningf(format string, args ...any) {
	s.l.Warn(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (slogLogger) Infof(string, ...any)  {}
func (slogLogger) Debugf(string, ...any) {}
