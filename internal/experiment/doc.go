// Package experiment assigns customers to the arms of a controlled
// experiment and reads the results: deterministic SHA-256 assignment,
// stratified holdouts, two-proportion and Welch tests of each arm against
// the control, and a sample-ratio-mismatch check.
//
// It is pure computation over values handed to it: it must not touch the
// database, the network or the clock, so every result can be recomputed
// and audited from its inputs.
package experiment
