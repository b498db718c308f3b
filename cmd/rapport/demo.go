package main

import (
	"errors"
	"io"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	return errors.New("demo: generator is being written")
}
