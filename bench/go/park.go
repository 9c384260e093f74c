package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // the same server serves /debug/pprof in every variant
	"os"
	"runtime"
	"sync"
	"time"
)

// The waits the goroutines park in, a quarter each: the shapes leaks have.
var (
	never   chan int // receive: nobody ever sends
	nilChan chan int // select on nil channels: never ready
	held    sync.Mutex
	block   = make(chan struct{})
)

// depth frames of user code above the wait, as real stacks have.
func nest(depth int, wait func()) {
	if depth == 0 {
		wait()
		return
	}
	nest(depth-1, wait)
}

func waitRecv() { <-never }
func waitSelect() {
	select {
	case <-nilChan:
	case <-block:
	}
}
func waitLock()  { held.Lock() }
func waitSleep() { time.Sleep(1000 * time.Hour) }

var hello = []byte("hello from a server with many parked goroutines\n")

func handle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", fmt.Sprint(len(hello)))
	w.Write(hello)
}

func park(args []string) error {
	fs := flag.NewFlagSet("park", flag.ExitOnError)
	n := fs.Int("n", 1000, "goroutines to park")
	addr := fs.String("http", "", "serve HTTP on this address (/ and /debug/pprof)")
	exitAfter := fs.Duration("exit-after", 10*time.Minute, "exit after this long")
	fs.Parse(args)

	held.Lock()
	never = make(chan int)
	waits := []func(){waitRecv, waitSelect, waitLock, waitSleep}
	before := runtime.NumGoroutine()
	var started sync.WaitGroup
	started.Add(*n)
	for i := 0; i < *n; i++ {
		wait := waits[i%len(waits)]
		go func() {
			started.Done()
			nest(4, wait)
		}()
	}
	started.Wait()
	// Each is a few instructions from its wait once it ran: let them get there.
	time.Sleep(200 * time.Millisecond)
	if *addr != "" {
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		http.HandleFunc("/", handle)
		go http.Serve(ln, nil)
		fmt.Printf("addr %s\n", ln.Addr())
	}
	runtime.GC()
	fmt.Printf("pid %d\ngoroutines %d parked %d before %d\nready\n", os.Getpid(),
		runtime.NumGoroutine(), *n, before)
	time.Sleep(*exitAfter)
	return nil
}
