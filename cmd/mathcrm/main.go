// Command mathcrm is the one binary of a mathcrm cluster: every role
// (dev, coordinator, worker) and every client command.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	err := newRoot().Execute()
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	var ec exitCode
	if errors.As(err, &ec) {
		os.Exit(int(ec))
	}
	os.Exit(1)
}
