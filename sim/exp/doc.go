// Package exp holds the experiments that `hearsay sim ...` runs on the
// simulator: each builds a network of real cores, drives a scenario from
// one seed, and reports what it measured as a Table (printed on the
// terminal, or written as CSV). Progress is reported through a callback so
// the command line can draw a progress bar.
package exp
