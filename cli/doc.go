// Package cli is the recs command tree. Each subcommand lives in its own
// file with an options struct, its flags and a RunE that validates the
// flags and calls the library packages; this package only parses flags,
// wires progress and logging, and prints results.
package cli
