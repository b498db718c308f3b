package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The latency runs use a lean HTTP/1.1 keep-alive client instead of
// net/http's: on a 2-core machine the load generator shares the cores
// with the server, and net/http's client costs about as much CPU per
// request as the server's whole read path, so it would measure itself.
// One connection per client, as wrk does.

type rawClient struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func dialRaw(addr string) (*rawClient, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &rawClient{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 4<<10)}, nil
}

// get sends one GET and reads the whole response, returning its status.
func (rc *rawClient) get(host, path, key string) (int, error) {
	fmt.Fprintf(rc.w, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", path, host, key)
	if err := rc.w.Flush(); err != nil {
		return 0, err
	}
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		h, err := rc.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, err
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")) && bytes.EqualFold(value, []byte("chunked")):
			chunked = true
		}
	}
	switch {
	case chunked:
		for {
			szLine, err := rc.r.ReadSlice('\n')
			if err != nil {
				return 0, err
			}
			sz, err := strconv.ParseInt(string(bytes.TrimSpace(szLine)), 16, 64)
			if err != nil {
				return 0, err
			}
			if _, err := rc.r.Discard(int(sz) + 2); err != nil { // the chunk and its CRLF
				return 0, err
			}
			if sz == 0 {
				return status, nil
			}
		}
	case length >= 0:
		_, err = rc.r.Discard(length)
		return status, err
	default:
		return 0, errors.New("response without a length")
	}
}

// latencies runs total GETs from conc clients, each waiting for its answer
// before the next request (a closed loop: the figures include queueing
// behind the other clients), and returns the sorted latencies.
func latencies(base string, conc, total int, pathFor func(int) string, key string) []time.Duration {
	return loadRun(base, conc, total, 0, pathFor, key)
}

// pacedLatencies is latencies with the clients together sending rate
// requests a second on a fixed schedule (an open loop). Each latency runs
// from when the request was due, so a stall also counts against the
// requests that had to wait behind it.
func pacedLatencies(base string, conc, total int, rate float64, pathFor func(int) string, key string) []time.Duration {
	return loadRun(base, conc, total, rate, pathFor, key)
}

func loadRun(base string, conc, total int, rate float64, pathFor func(int) string, key string) []time.Duration {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	out := make([]time.Duration, total)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := dialRaw(u.Host)
			if err != nil {
				fmt.Fprintln(os.Stderr, "dial:", err)
				return
			}
			defer rc.c.Close()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				due := time.Now()
				if rate > 0 {
					due = start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				status, err := rc.get(u.Host, pathFor(i), key)
				out[i] = time.Since(due)
				if err != nil {
					if !errors.Is(err, io.EOF) {
						fmt.Fprintln(os.Stderr, "GET:", err)
					}
					return
				}
				if status != 200 {
					fmt.Fprintf(os.Stderr, "GET %s: %d\n", pathFor(i), status)
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(out)
	return out
}
