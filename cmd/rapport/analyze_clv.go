package main

import (
	"errors"
	"io"
)

// runAnalyzeCLV is being written; this placeholder keeps the build green.
func runAnalyzeCLV(args []string, stdout, stderr io.Writer) error {
	return errors.New("analyze clv: not built yet")
}
