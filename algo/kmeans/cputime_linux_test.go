package kmeans

import "syscall"

// threadCPU returns the CPU time the calling thread has used, in ns
// (getrusage RUSAGE_THREAD): on a shared machine it counts only the time
// the benchmark ran, not the time it waited for a core.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
