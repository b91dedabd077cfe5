// Package pb holds the wire messages of the SWIM core, generated from
// swim.proto.
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative swim.proto
