// The oracle test_go_binary compares go_pclntab_frames with: for each pc on
// stdin (of this binary's own code, not PIE), the innermost frame that
// runtime.CallersFrames gives, as "pc func file:line".
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		pc, err := strconv.ParseUint(in.Text(), 0, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// CallersFrames takes return addresses: it looks up pc - 1.
		f, _ := runtime.CallersFrames([]uintptr{uintptr(pc) + 1}).Next()
		fmt.Fprintf(out, "%#x %s %s:%d\n", pc, f.Function, f.File, f.Line)
	}
}
