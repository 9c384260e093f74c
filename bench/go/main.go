// gobench: the Go side of the goroutine benchmarks (bench/go_scan.sh,
// bench/go_latency.sh).  Standard library only.
//
//	gobench park -n N [-http ADDR] [-exit-after S]  N parked goroutines (and an HTTP server)
//	gobench load -addr A [-rate R] -dur D -conns C  HTTP load: open loop at R req/s, or closed loop
//	gobench poll -url U -every D -dur D             fetch U every D (pprof's goroutine dump)
//	gobench version                                 the Go it was built with
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gobench park|load|poll [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "park":
		err = park(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	case "poll":
		err = poll(os.Args[2:])
	case "version":
		fmt.Println(runtime.Version())
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gobench:", err)
		os.Exit(1)
	}
}
