// A tiny Go program the unit tests read as a binary (never run by them):
// an inlined function and a named goroutine function, at known lines.
package main

import (
	"fmt"
	"os"
	"time"
)

var sink int

// add is small enough to be inlined into inlineCaller.
func add(a, b int) int {
	sink += a * b // inlined: line 15
	return a + b
}

//go:noinline
func inlineCaller(n int) int {
	return add(n, 2) + 1
}

//go:noinline
func namedWorker(ch chan int) {
	ch <- inlineCaller(len(os.Args))
}

func main() {
	ch := make(chan int)
	go namedWorker(ch)
	select {
	case v := <-ch:
		fmt.Println(v)
	case <-time.After(time.Second):
	}
}
