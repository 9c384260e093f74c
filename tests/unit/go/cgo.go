//go:build cgo

package main

// static int twice(int x) { return 2 * x; }
import "C"

// The cgo build links externally with libc, as real cgo programs do.
func init() {
	sink += int(C.twice(1))
}
