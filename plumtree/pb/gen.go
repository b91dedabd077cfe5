// Package pb holds the plumtree wire messages, generated from
// plumtree.proto.
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative plumtree.proto
