package cron

import (
	"errors"
	"fmt"
)

// Sentinel errors. Parse wraps one of them with the field and the token that
// are wrong; test with errors.Is.
var (
	// ErrSyntax reports an expression that is not valid cron syntax.
	ErrSyntax = errors.New("cron: bad expression")
	// ErrZone reports a CRON_TZ that names no known time zone.
	ErrZone = errors.New("cron: unknown time zone")
)

func syntaxErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, args...))
}

// fieldErr names the field and the offending item in it.
func fieldErr(f *field, token, format string, args ...any) error {
	return fmt.Errorf("%w: %s field: %q: %s", ErrSyntax, f.name, token, fmt.Sprintf(format, args...))
}
