package main

import (
	"errors"
	"io"
)

// runAnalyzeExperiment is being written; this placeholder keeps the build green.
func runAnalyzeExperiment(args []string, stdout, stderr io.Writer) error {
	return errors.New("analyze experiment: not built yet")
}
