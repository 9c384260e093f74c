package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// loadResult: one line of JSON on stdout.  Latencies in ms; open loop: from
// each request's scheduled time (queueing behind a slow server counts, as in
// wrk2), closed loop: from its send.
type loadResult struct {
	Mode       string        `json:"mode"`
	Rate       float64       `json:"rate"`
	Conns      int           `json:"conns"`
	DurS       float64       `json:"dur_s"`
	Scheduled  int           `json:"scheduled"` // open loop: requests due in the window
	Measured   int           `json:"measured"`  // with a latency
	Done       int           `json:"done"`      // responses completed in the window
	Late       int           `json:"late"`      // scheduled in the window, not answered by its end + 5 s
	Errors     int           `json:"errors"`
	Throughput float64       `json:"throughput"` // done / dur_s
	P50        float64       `json:"p50_ms"`
	P90        float64       `json:"p90_ms"`
	P99        float64       `json:"p99_ms"`
	P999       float64       `json:"p999_ms"`
	Max        float64       `json:"max_ms"`
	CPUS       float64       `json:"cpu_s"`        // this generator's own user+system time
	PacerLagMs float64       `json:"pacer_lag_ms"` // open loop: the pacer's longest lateness (the generator's own)
	PacerLag   time.Duration `json:"-"`
}

type worker struct {
	conn net.Conn
	rd   *bufio.Reader
	lat  []int64 // ns, requests scheduled (or sent) in the window
	done int     // completed in the window
	late int     // open loop: given up unsent at the drain deadline
	errs int
}

var request = []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")

// roundTrip sends one request and reads the whole response.
func (w *worker) roundTrip(addr string) error {
	if w.conn == nil {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		w.conn, w.rd = c, bufio.NewReaderSize(c, 4096)
	}
	w.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := w.conn.Write(request); err != nil {
		return w.fail(err)
	}
	status, err := w.rd.ReadSlice('\n')
	if err != nil {
		return w.fail(err)
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200")) {
		return w.fail(fmt.Errorf("status %q", status))
	}
	length := -1
	for {
		line, err := w.rd.ReadSlice('\n')
		if err != nil {
			return w.fail(err)
		}
		if len(line) <= 2 {
			break
		}
		if k := []byte("content-length:"); len(line) > len(k) && bytes.EqualFold(line[:len(k)], k) {
			length, err = strconv.Atoi(string(bytes.TrimSpace(line[len(k):])))
			if err != nil {
				return w.fail(err)
			}
		}
	}
	if length < 0 {
		return w.fail(errors.New("no Content-Length"))
	}
	if _, err := w.rd.Discard(length); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *worker) fail(err error) error {
	w.conn.Close()
	w.conn = nil
	return err
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	addr := fs.String("addr", "", "server address")
	rate := fs.Float64("rate", 0, "requests per second, open loop; 0: closed loop")
	dur := fs.Duration("dur", 10*time.Second, "measurement window")
	warmup := fs.Duration("warmup", time.Second, "load before the window, not measured")
	conns := fs.Int("conns", 64, "connections (open loop: the most requests in flight)")
	fs.Parse(args)
	if *addr == "" {
		return errors.New("no -addr")
	}
	workers := make([]*worker, *conns)
	for i := range workers {
		workers[i] = &worker{}
		c, err := net.Dial("tcp", *addr)
		if err != nil {
			return err
		}
		workers[i].conn, workers[i].rd = c, bufio.NewReaderSize(c, 4096)
	}
	t0 := time.Now()
	winStart, winEnd := *warmup, *warmup+*dur
	drainEnd := winEnd + 5*time.Second
	inWindow := func(d time.Duration) bool { return d >= winStart && d < winEnd }
	var wg sync.WaitGroup
	var r loadResult
	scheduled := 0
	if *rate > 0 {
		interval := time.Duration(float64(time.Second) / *rate)
		total := int(float64(winEnd) / float64(interval))
		due := make(chan time.Duration, total+1)
		for _, w := range workers {
			wg.Add(1)
			go func(w *worker) {
				defer wg.Done()
				for d := range due {
					if now := time.Since(t0); now > drainEnd {
						// Never sent: its latency is at least this (counted as late).
						if inWindow(d) {
							w.lat = append(w.lat, int64(now-d))
							w.late++
						}
						continue
					}
					err := w.roundTrip(*addr)
					end := time.Since(t0)
					if err != nil {
						w.errs++
						continue
					}
					if inWindow(d) {
						w.lat = append(w.lat, int64(end-d))
					}
					if inWindow(end) {
						w.done++
					}
				}
			}(w)
		}
		// The pacer: wakes every 250 us at most and sends what is due (a
		// sleep per request would cost this CPU more than the requests).
		for i := 0; i < total; {
			now, first := time.Since(t0), i
			for ; i < total && time.Duration(i)*interval <= now; i++ {
				d := time.Duration(i) * interval
				due <- d
				if inWindow(d) {
					scheduled++
				}
			}
			if lag := now - time.Duration(first)*interval; i > first && lag > r.PacerLag {
				r.PacerLag = lag
			}
			time.Sleep(250 * time.Microsecond)
		}
		close(due)
	} else {
		for _, w := range workers {
			wg.Add(1)
			go func(w *worker) {
				defer wg.Done()
				for {
					start := time.Since(t0)
					if start >= winEnd {
						return
					}
					err := w.roundTrip(*addr)
					end := time.Since(t0)
					if err != nil {
						w.errs++
						continue
					}
					if inWindow(start) {
						w.lat = append(w.lat, int64(end-start))
					}
					if inWindow(end) {
						w.done++
					}
				}
			}(w)
		}
	}
	wg.Wait()

	r.Mode, r.Rate, r.Conns, r.DurS, r.Scheduled = "closed", *rate, *conns, dur.Seconds(), scheduled
	if *rate > 0 {
		r.Mode = "open"
	}
	var lat []int64
	for _, w := range workers {
		lat = append(lat, w.lat...)
		r.Done += w.done
		r.Errors += w.errs
		r.Late += w.late
	}
	r.Measured = len(lat)
	r.Throughput = float64(r.Done) / dur.Seconds()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(p * float64(len(lat)))
		if i >= len(lat) {
			i = len(lat) - 1
		}
		return float64(lat[i]) / 1e6
	}
	r.P50, r.P90, r.P99, r.P999, r.Max = q(0.5), q(0.9), q(0.99), q(0.999), q(1)
	r.PacerLagMs = float64(r.PacerLag) / 1e6
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.CPUS = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
