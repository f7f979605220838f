//go:build !unix

package inuse

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("inuse: would block")

// flock is a no-op where there is no flock: the directory is not guarded.
func flock(*os.File) error { return nil }
