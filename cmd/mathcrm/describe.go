package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/mathcrm/mathcrm/internal/describe"
)

// printDescription prints any model kind's description as text: the
// title, the key figures, every table and the notes (charts are for the
// console).
func printDescription(w io.Writer, d *describe.Description) {
	fmt.Fprintln(w, d.Title)
	if d.Subtitle != "" {
		fmt.Fprintln(w, d.Subtitle)
	}
	if len(d.Figures) > 0 {
		fmt.Fprintln(w)
		tw := table(w)
		for _, f := range d.Figures {
			fmt.Fprintf(tw, "%s:\t%s\n", f.Label, f.Value)
		}
		_ = tw.Flush()
	}
	for _, t := range d.Tables {
		fmt.Fprintf(w, "\n%s:\n", t.Title)
		tw := table(w)
		fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
		for _, r := range t.Rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		_ = tw.Flush()
	}
	for i, n := range d.Notes {
		if i == 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
