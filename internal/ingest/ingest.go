// Package ingest is Rapport's tracking API, wire-compatible with the
// Segment HTTP tracking API (so Segment and RudderStack client libraries
// send to Rapport unchanged), its write keys, the group-commit writer that
// makes a 200 mean "committed", and the first-party JS tracker /t.js.
//
// A request is validated and converted at the door, then accepted into the
// store's ingest queue (a group commit shared by concurrent requests); the
// 200 follows that commit, so an acknowledged event survives a crash. The
// applier then resolves identities and stores events, orders and profile
// stats for many requests per transaction, usually within milliseconds
// (Flush waits for it). The package does not serve the REST API
// (internal/api does).
package ingest

import (
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// Service serves the tracking endpoints.
type Service struct {
	store   *store.Store
	log     *slog.Logger
	region  string
	accept  *acceptor
	apply   *applier
	backlog *backlog
	// decoding bounds the requests decoding at once to one fewer than
	// the cores (at least one), so the applier — serial, and the stage
	// that bounds ingestion — finds a core free when it is ready to run:
	// with every core decoding it waited for one, and on 2 cores it ran
	// at about half speed while requests came in (end to end, back to
	// back: 21.9k → 25.9k and 27.6k → 29.5k events/s). Reading the body
	// stays outside, so a slow sender holds no slot.
	decoding chan struct{}
	now      func() time.Time
}

// Options tune a Service.
type Options struct {
	Log    *slog.Logger
	Region string // default phone region for traits.phone
	// MaxGroup caps the events applied in one transaction; 0 means
	// DefaultMaxGroup.
	MaxGroup int
	// MaxBacklog caps the events accepted but not yet applied; senders
	// wait while it is full. 0 means 100,000.
	MaxBacklog int
}

// DefaultMaxGroup is how many queued events the applier takes into one
// transaction. A transaction rewrites every page it touches once, however
// many events land on it (the leaves of the events-by-customer index, the
// stats rows), so larger groups write less per event: on SQLite, 10,000 →
// 40,000 took 800,000 events from 20.5k to 25.2k events/s end to end and
// halved the commit time. The price is latency for other writers: on
// SQLite a write from the UI waits behind a group, about a second at this
// size under full ingestion load.
const DefaultMaxGroup = 40_000

// New returns a Service whose acceptor and applier run until ctx is done;
// requests still waiting to be accepted then are answered 503 (not
// committed), never 200. The applier goes on for a few seconds applying
// what was accepted; anything left stays queued for the next start.
func New(ctx context.Context, s *store.Store, opts Options) *Service {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.MaxGroup <= 0 {
		opts.MaxGroup = DefaultMaxGroup
	}
	if opts.MaxBacklog <= 0 {
		opts.MaxBacklog = 100_000
	}
	b := newBacklog(opts.MaxBacklog)
	acc := newAcceptor(s, opts.Log, b)
	app := &applier{store: s, log: opts.Log, max: opts.MaxGroup, backlog: b, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go acc.run(ctx)
	go app.run(ctx)
	return &Service{store: s, log: opts.Log, region: opts.Region, accept: acc, apply: app, backlog: b,
		decoding: make(chan struct{}, decodeSlots(runtime.GOMAXPROCS(0))), now: time.Now}
}

// decodeSlots is how many requests may decode at once on n cores.
func decodeSlots(n int) int {
	return max(1, n-1)
}

// Flush waits until every request this Service acknowledged before the
// call has been applied (or set aside as failed), or ctx is done.
func (sv *Service) Flush(ctx context.Context) error {
	sv.apply.notify()
	_, chs := sv.backlog.snapshot()
	for _, ch := range chs {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-sv.apply.stopped:
			return errStopped
		}
	}
	return nil
}

// Stopped is closed when the applier has stopped (after ctx is done and
// the drain that follows).
func (sv *Service) Stopped() <-chan struct{} { return sv.apply.stopped }

// Register mounts /v1/{identify,track,page,screen,group,alias,batch} and /t.js.
func (sv *Service) Register(mux *http.ServeMux) {
	for _, t := range Types {
		mux.HandleFunc("/v1/"+t, sv.handle(t))
	}
	mux.HandleFunc("/v1/batch", sv.handle(""))
	mux.HandleFunc("GET /t.js", serveTracker)
}

// CreateSource makes a tracking source and returns its write key, which
// is shown only this once (only its hash is stored).
func CreateSource(ctx context.Context, s *store.Store, a store.Actor, name string) (store.Source, string, error) {
	name = customer.NormalizeText(name)
	if name == "" || len(name) > 100 {
		return store.Source{}, "", errs.Validation(errs.FieldError{Field: "body.name", Message: "is required (at most 100 bytes)", Value: name})
	}
	key := "rwk_" + auth.GeneratePassword() + auth.GeneratePassword()
	src := store.Source{ID: customer.NewID(), Name: name, Prefix: key[:8], KeyHash: auth.HashSecret(key), CreatedBy: a.ID, CreatedAt: time.Now().UTC()}
	if a.Kind != "user" {
		src.CreatedBy = ""
	}
	if err := s.CreateSource(ctx, a, src); err != nil {
		return store.Source{}, "", err
	}
	return src, key, nil
}

// apiError is the JSON error body of the tracking API.
type apiError struct {
	Success bool         `json:"success"`
	Error   string       `json:"error"`
	Errors  []indexError `json:"errors,omitempty"`
}

type indexError struct {
	Index   int    `json:"index"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
}

func fail(w http.ResponseWriter, status int, msg string, list ...indexError) {
	writeJSON(w, status, apiError{Error: msg, Errors: list})
}

// cors lets pages on other origins (the site the tracker runs on) send.
// No cookies are involved: the write key is the credential.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
	h.Set("Access-Control-Max-Age", "86400")
}

// handle serves one tracking endpoint; typ is "" for /v1/batch.
func (sv *Service) handle(typ string) http.HandlerFunc {
	limit := int64(MaxEventBytes)
	if typ == "" {
		limit = MaxBatchBytes
	}
	return func(w http.ResponseWriter, r *http.Request) {
		cors(w)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			fail(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		received := sv.now().UTC()
		var src store.Source
		basicKey, _, _ := r.BasicAuth()
		if basicKey != "" {
			// Check the key before reading the body, so a bad key is a 401
			// whatever was sent.
			var err error
			if src, err = sv.source(r.Context(), basicKey); err != nil {
				sv.denied(w, r, err)
				return
			}
		}
		body, err := readBody(r, limit)
		if err != nil {
			var tooBig *tooLarge
			if errors.As(err, &tooBig) {
				fail(w, http.StatusRequestEntityTooLarge, err.Error())
				return
			}
			fail(w, http.StatusBadRequest, err.Error())
			return
		}
		// Decoding, validating and encoding are the accept path's CPU
		// work: they run in a decode slot, released before the wait for
		// the queue's commit.
		select {
		case sv.decoding <- struct{}{}:
		case <-r.Context().Done():
			fail(w, http.StatusServiceUnavailable, "the request ended while it waited to be decoded; nothing was acknowledged, retry")
			return
		}
		release := sync.OnceFunc(func() { <-sv.decoding })
		defer release()
		var raws []json.RawMessage
		var sentAt, bodyKey string
		if typ == "" {
			var b batchBody
			if err := json.Unmarshal(body, &b); err != nil {
				fail(w, http.StatusBadRequest, "body is not a batch: "+err.Error())
				return
			}
			raws, sentAt, bodyKey = b.Batch, b.SentAt, b.WriteKey
		} else {
			var k struct {
				WriteKey string `json:"writeKey"`
			}
			if err := json.Unmarshal(body, &k); err != nil {
				fail(w, http.StatusBadRequest, "body is not a JSON message: "+err.Error())
				return
			}
			raws, bodyKey = []json.RawMessage{body}, k.WriteKey
		}
		if basicKey == "" {
			if src, err = sv.source(r.Context(), bodyKey); err != nil {
				sv.denied(w, r, err)
				return
			}
		}
		if len(raws) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"success": true})
			return
		}
		for i, raw := range raws {
			if len(raw) > MaxEventBytes {
				fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("message %d is %d bytes; the limit is 32 KB per message", i, len(raw)),
					indexError{Index: i, Message: "larger than 32 KB"})
				return
			}
		}
		events, bad := convertAll(raws, typ, sentAt, src, received, sv.region)
		if len(bad) > 0 {
			// All or nothing: a client that fixes the batch resends it whole.
			fail(w, http.StatusBadRequest, fmt.Sprintf("%d of %d messages are invalid; nothing was stored", len(bad), len(raws)), bad...)
			return
		}
		q, err := store.NewQueuedRequest(src.ID, events)
		if err != nil {
			sv.log.ErrorContext(r.Context(), "encode events", "err", err)
			fail(w, http.StatusInternalServerError, "internal error; nothing was acknowledged, retry")
			return
		}
		release()
		if err := sv.backlog.reserve(r.Context(), len(events)); err != nil {
			fail(w, http.StatusServiceUnavailable, "the server is busy applying earlier events; nothing was acknowledged, retry")
			return
		}
		if _, err := sv.accept.submit(q); err != nil {
			sv.backlog.unreserve(len(events))
			if errors.Is(err, errStopped) {
				fail(w, http.StatusServiceUnavailable, "the server is shutting down; retry")
				return
			}
			sv.log.ErrorContext(r.Context(), "accept events", "err", err)
			fail(w, http.StatusInternalServerError, "internal error; nothing was acknowledged, retry")
			return
		}
		sv.apply.notify()
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
	}
}

// convertAll converts the messages of one request, collecting every bad
// one with its index.
func convertAll(raws []json.RawMessage, typ, sentAt string, src store.Source, received time.Time, region string) ([]store.Event, []indexError) {
	events := make([]store.Event, 0, len(raws))
	var bad []indexError
	for i, raw := range raws {
		ev, err := convert(raw, typ, sentAt, src, received, region)
		if err != nil {
			bad = append(bad, indexError{Index: i, Message: err.Error()})
			continue
		}
		events = append(events, ev)
	}
	return events, bad
}

// ParseBatch reads a /v1/batch body the way the tracking API does, for
// tools that fill the ingest queue themselves (the benchmarks). The error
// names the first bad message.
func ParseBatch(body []byte, src store.Source, received time.Time, region string) ([]store.Event, error) {
	var b batchBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("body is not a batch: %w", err)
	}
	events, bad := convertAll(b.Batch, "", b.SentAt, src, received, region)
	if len(bad) > 0 {
		return nil, fmt.Errorf("message %d: %s", bad[0].Index, bad[0].Message)
	}
	return events, nil
}

// source finds the source of a write key. The Segment libraries send the
// key as the HTTP Basic user name with an empty password; beacons, which
// cannot set headers, send it as the body's writeKey.
func (sv *Service) source(ctx context.Context, key string) (store.Source, error) {
	if key == "" {
		return store.Source{}, errs.E(errs.Unauthorized, "a write key is required: send it as the HTTP Basic user name with an empty password")
	}
	return sv.store.SourceByKeyHash(ctx, auth.HashSecret(key))
}

// denied answers a failed write-key check.
func (sv *Service) denied(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("WWW-Authenticate", `Basic realm="rapport tracking"`)
	if errs.Is(err, errs.Unauthorized) {
		fail(w, http.StatusUnauthorized, err.Error())
		return
	}
	sv.log.ErrorContext(r.Context(), "check write key", "err", err)
	fail(w, http.StatusServiceUnavailable, "cannot check the write key now; retry")
}

type tooLarge struct{ limit int64 }

func (t *tooLarge) Error() string {
	if t.limit == MaxBatchBytes {
		return "the batch is larger than 500 KB; send fewer messages per batch"
	}
	return "the message is larger than 32 KB"
}

// readBody reads at most limit bytes (after gzip decoding, when the
// client compressed the body).
func readBody(r *http.Request, limit int64) ([]byte, error) {
	var rd io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return nil, fmt.Errorf("body is not gzip: %v", err)
		}
		defer gz.Close()
		rd = gz
	}
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, &tooLarge{limit: limit}
	}
	return b, nil
}

//go:embed tracker.js
var tracker []byte

func serveTracker(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(tracker) // the client may be gone; nothing to do
}
