package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// Jobs runs imports in the background (for the API) and lets callers wait
// for one to finish. Its context is the owner: when it is cancelled,
// running imports stop after their current chunk and are marked failed.
type Jobs struct {
	ctx  context.Context
	log  *slog.Logger
	mu   sync.Mutex
	done map[string]chan struct{}
	wg   sync.WaitGroup
}

// NewJobs returns a runner whose imports live as long as ctx.
func NewJobs(ctx context.Context, log *slog.Logger) *Jobs {
	if log == nil {
		log = slog.Default()
	}
	return &Jobs{ctx: ctx, log: log, done: map[string]chan struct{}{}}
}

// Start imports the file at path (which the job removes when it ends) in
// the background and returns the job id. The file is opened and its
// columns mapped before Start returns, so an unreadable file or a mapping
// that can import nothing is an error here, not a failed job.
func (j *Jobs) Start(ctx context.Context, s *store.Store, path, fileName string, opt Options) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("import: open upload: %w", err)
	}
	cleanup := func() {
		f.Close()
		os.Remove(path)
	}
	t, err := Open(f, fileName)
	if err != nil {
		cleanup()
		return "", err
	}
	if _, err := Plan(t, opt.Kind, opt.Rules, opt.Map); err != nil {
		t.Close()
		cleanup()
		return "", err
	}
	opt.ImportID = customer.NewID()
	opt.DryRun = false
	if err := s.CreateImport(ctx, store.Import{ID: opt.ImportID, Kind: string(opt.Kind), FileName: fileName, Source: opt.Source,
		Total: t.Estimate, CreatedBy: opt.Actor.ID}); err != nil {
		t.Close()
		cleanup()
		return "", err
	}
	done := make(chan struct{})
	j.mu.Lock()
	j.done[opt.ImportID] = done
	j.mu.Unlock()
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		defer close(done)
		defer cleanup()
		defer t.Close()
		_, err := Run(j.ctx, s, t, opt)
		status, msg := store.ImportDone, ""
		if err != nil {
			status, msg = store.ImportFailed, err.Error()
			if errors.Is(err, context.Canceled) {
				msg = "the server stopped during the import; import the file again (rows already imported are merged, not duplicated)"
			}
			j.log.Error("import failed", "import", opt.ImportID, "err", err)
		}
		if err := s.FinishImport(context.WithoutCancel(j.ctx), opt.ImportID, status, msg); err != nil {
			j.log.Error("import: record the end", "import", opt.ImportID, "err", err)
		}
		j.mu.Lock()
		delete(j.done, opt.ImportID)
		j.mu.Unlock()
	}()
	return opt.ImportID, nil
}

// Wait returns when the import id is no longer running in this process
// (finished, or never started here) or ctx ends.
func (j *Jobs) Wait(ctx context.Context, id string) {
	j.mu.Lock()
	done, ok := j.done[id]
	j.mu.Unlock()
	if !ok {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Close waits for every running import to end; cancel the context given
// to NewJobs first to make them stop early.
func (j *Jobs) Close() { j.wg.Wait() }
