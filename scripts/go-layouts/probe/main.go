// The probe scripts/go-layouts.sh builds with each Go release: any program
// with goroutines links the runtime types and runtime.waitReasonStrings.
package main

import "fmt"

func main() {
	ch := make(chan int)
	go func() { ch <- 1 }()
	fmt.Println(<-ch)
}
