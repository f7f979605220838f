package main

import (
	"errors"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

// checkSpec checks a job's parameters before anything is sent, with the
// rules the leader applies again (proto.JobSpec.CheckParams), and names the
// flag that is wrong. A flag the user did not set holds the algorithm's
// default; one set to a value out of range is an error, never replaced.
func checkSpec(cmd *cobra.Command, spec *proto.JobSpec) error {
	if err := builtin.CheckParams(spec); err != nil {
		var pe *proto.ParamError
		if errors.As(err, &pe) {
			return errors.New(pe.FlagError())
		}
		return err
	}
	return nil
}

// checkName checks a name the cluster would refuse, before anything is sent.
func checkName(flag, name string) error {
	if !coordinator.ValidName(name) {
		return fmt.Errorf("%s %q is not a valid name: letters, digits, _ . - (at most 128, starting with a letter or digit)", flag, name)
	}
	return nil
}

// checkInt checks an integer flag's range.
func checkInt(flag string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s %d is out of range: must be an integer from %d to %d", flag, v, lo, hi)
	}
	return nil
}
