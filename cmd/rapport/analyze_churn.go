package main

import (
	"errors"
	"io"
)

// runAnalyzeChurn is being written; this placeholder keeps the build green.
func runAnalyzeChurn(args []string, stdout, stderr io.Writer) error {
	return errors.New("analyze churn: not built yet")
}
