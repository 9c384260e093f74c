package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"
)

// pollResult: one line of JSON on stdout when the poller ends (-dur or SIGTERM).
type pollResult struct {
	Fetches  int     `json:"fetches"`   // completed
	Errors   int     `json:"errors"`    // failed
	Aborted  int     `json:"aborted"`   // cut short by the end (a fetch longer than the run)
	MedianMs float64 `json:"median_ms"` // one completed fetch, request to last byte
	MaxMs    float64 `json:"max_ms"`
	Bytes    int64   `json:"bytes_per_fetch"`
}

// poll fetches a URL every period, start to start (the next starts at once
// when one took longer), as a monitoring agent scraping pprof would.
func poll(args []string) error {
	fs := flag.NewFlagSet("poll", flag.ExitOnError)
	url := fs.String("url", "", "what to fetch")
	every := fs.Duration("every", time.Second, "period")
	dur := fs.Duration("dur", time.Hour, "stop after")
	fs.Parse(args)
	if *url == "" {
		return errors.New("no -url")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	ctx, cancelDur := context.WithTimeout(ctx, *dur)
	defer cancelDur()
	tick := time.NewTicker(*every)
	defer tick.Stop()
	var took []float64
	var r pollResult
	for ctx.Err() == nil {
		start := time.Now()
		n, err := fetch(ctx, *url)
		switch {
		case ctx.Err() != nil:
			r.Aborted++
		case err != nil:
			r.Errors++
		default:
			r.Fetches++
			r.Bytes = n
			took = append(took, float64(time.Since(start).Nanoseconds())/1e6)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	sort.Float64s(took)
	if len(took) > 0 {
		r.MedianMs, r.MaxMs = took[len(took)/2], took[len(took)-1]
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func fetch(ctx context.Context, url string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}
