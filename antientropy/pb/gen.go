// Package antientropypb holds the anti-entropy core's wire messages.
package antientropypb

//go:generate protoc --go_out=. --go_opt=paths=source_relative antientropy.proto
