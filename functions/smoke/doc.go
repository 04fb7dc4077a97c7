// Package smoke holds the tests of the real Lambda binaries, for the
// module's maintainers and `make test`: each function, built as `make
// build` builds it, runs under the AWS Lambda Runtime Interface Emulator
// and answers a sample event from events/ (TestBinariesUnderRIE); each
// stays within its size target (TestBinarySizes) and links only what it may
// (TestWhatShips). It has no code; `go test ./functions/smoke` runs them.
package smoke
