// Package hyparviewpb holds the generated wire messages of the HyParView
// core. Regenerate with `go generate ./hyparview/pb/` (needs protoc and
// protoc-gen-go); the generated file is committed so builds need neither.
package hyparviewpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative hyparview.proto
