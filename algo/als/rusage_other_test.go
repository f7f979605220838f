//go:build !linux

package als

import "syscall"

// Elsewhere the whole process's usage stands in for the thread's.
const rusageThread = syscall.RUSAGE_SELF
