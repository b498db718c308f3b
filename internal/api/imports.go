package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/importer"
	"github.com/rapportcrm/rapport/internal/store"
)

// importForm is the multipart upload of an import.
type importForm struct {
	File   huma.FormFile `form:"file" contentType:"text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/octet-stream" required:"true" doc:"CSV (UTF-8, UTF-8 with BOM, GBK/GB18030; comma, tab or semicolon) or XLSX"`
	Kind   string        `form:"kind" enum:"customers,orders,interactions" required:"true" doc:"What the file holds"`
	Map    string        `form:"map" required:"false" doc:"Column overrides header=field,… (a field, attributes.KEY, or - to ignore)"`
	Source string        `form:"source" required:"false" doc:"Source system of customer and order ids (default import)"`
}

type importUpload struct {
	RawBody huma.MultipartFormFiles[importForm]
}

// importStatus is an import job with its progress as a fraction.
type importStatus struct {
	store.Import
	Progress float64 `json:"progress" doc:"done / total, 0–1"`
}

type importOutput struct {
	Location string `header:"Location"`
	Body     importStatus
}

type importGetInput struct {
	ID   string `path:"id" maxLength:"64"`
	Wait int    `query:"wait" minimum:"0" maximum:"30" doc:"Wait up to this many seconds for a running import to finish before answering"`
}

type dryRunOutput struct {
	Body importer.Report
}

func importStatusOf(im store.Import) importStatus {
	st := importStatus{Import: im}
	switch {
	case im.Status == store.ImportDone:
		st.Progress = 1
	case im.Total > 0:
		st.Progress = min(1, float64(im.Done)/float64(im.Total))
	}
	return st
}

// saveUpload copies an uploaded file to a temporary file the import owns
// (the request's own copy goes away when the request ends).
func saveUpload(f huma.FormFile) (string, error) {
	if !f.IsSet {
		return "", errs.Validation(errs.FieldError{Field: "body.file", Message: "is required"})
	}
	defer f.Close()
	tmp, err := os.CreateTemp("", "rapport-import-*"+filepath.Ext(f.Filename))
	if err != nil {
		return "", fmt.Errorf("import: store upload: %w", err)
	}
	if _, err := io.Copy(tmp, f); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("import: store upload: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("import: store upload: %w", err)
	}
	return tmp.Name(), nil
}

// importOptions reads the form into importer options for the caller.
func (s *Server) importOptions(ctx context.Context, form *importForm) (importer.Options, error) {
	kind, err := importer.ParseKind(form.Kind)
	if err != nil {
		return importer.Options{}, errs.Validation(errs.FieldError{Field: "body.kind", Message: err.Error(), Value: form.Kind})
	}
	overrides, err := importer.ParseMap(form.Map)
	if err != nil {
		return importer.Options{}, errs.Validation(errs.FieldError{Field: "body.map", Message: err.Error(), Value: form.Map})
	}
	rules, err := s.rules(ctx)
	if err != nil {
		return importer.Options{}, err
	}
	return importer.Options{Kind: kind, Source: form.Source, Map: overrides, Actor: principal(ctx).Actor(), Rules: rules}, nil
}

func (s *Server) registerImports(api huma.API) {
	if s.Imports == nil {
		s.Imports = importer.NewJobs(context.Background(), s.Log)
	}

	start := op("create-import", http.MethodPost, "/api/v1/imports",
		"Import a CSV or XLSX file of customers, orders or interactions in the background; poll GET /api/v1/imports/{id}", auth.WriteCustomers, "imports")
	start.DefaultStatus = http.StatusAccepted
	huma.Register(api, start, func(ctx context.Context, in *importUpload) (*importOutput, error) {
		form := in.RawBody.Data()
		opt, err := s.importOptions(ctx, form)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		path, err := saveUpload(form.File)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		id, err := s.Imports.Start(ctx, s.Store, path, filepath.Base(form.File.Filename), opt)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		im, err := s.Store.GetImport(ctx, id, 0)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &importOutput{Location: "/api/v1/imports/" + id, Body: importStatusOf(im)}, nil
	})

	dry := op("dry-run-import", http.MethodPost, "/api/v1/imports/dry-run",
		"Show what importing a file would do, writing nothing: the guessed column mapping, ignored columns, counts and a row-by-row preview", auth.WriteCustomers, "imports")
	huma.Register(api, dry, func(ctx context.Context, in *importUpload) (*dryRunOutput, error) {
		form := in.RawBody.Data()
		opt, err := s.importOptions(ctx, form)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		if !form.File.IsSet {
			return nil, s.problem(ctx, errs.Validation(errs.FieldError{Field: "body.file", Message: "is required"}))
		}
		defer form.File.Close()
		t, err := importer.Open(form.File, filepath.Base(form.File.Filename))
		if err != nil {
			return nil, s.problem(ctx, errs.E(errs.Invalid, "%s", err.Error()))
		}
		defer t.Close()
		opt.DryRun, opt.Preview = true, 100
		rep, err := importer.Run(ctx, s.Store, t, opt)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &dryRunOutput{Body: rep}, nil
	})

	huma.Register(api, op("get-import", http.MethodGet, "/api/v1/imports/{id}",
		"An import's status, progress (rows done of total), counts and first rejected rows", auth.ReadCustomers, "imports"),
		func(ctx context.Context, in *importGetInput) (*importOutput, error) {
			if in.Wait > 0 {
				wctx, cancel := context.WithTimeout(ctx, time.Duration(in.Wait)*time.Second)
				s.Imports.Wait(wctx, in.ID)
				cancel()
			}
			im, err := s.Store.GetImport(ctx, in.ID, 20)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &importOutput{Body: importStatusOf(im)}, nil
		})

	rejects := op("get-import-rejects", http.MethodGet, "/api/v1/imports/{id}/rejects.csv",
		"The rejected rows as CSV: the file's columns plus an error column", auth.ReadCustomers, "imports")
	rejects.Responses = map[string]*huma.Response{"200": {Description: "CSV (UTF-8 with BOM)", Content: map[string]*huma.MediaType{"text/csv": {}}}}
	huma.Register(api, rejects, func(ctx context.Context, in *idPath) (*huma.StreamResponse, error) {
		im, err := s.Store.GetImport(ctx, in.ID, 1)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &huma.StreamResponse{Body: func(hc huma.Context) {
			hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
			hc.SetHeader("Content-Disposition", `attachment; filename="rejects-`+im.ID+`.csv"`)
			hc.SetStatus(http.StatusOK)
			w, err := importer.NewRejectsWriter(hc.BodyWriter(), im.Header)
			if err == nil {
				err = s.Store.ImportRejects(ctx, im.ID, 0, w.Write)
			}
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				// The status is sent; a cut-short download is all the client sees.
				s.Log.ErrorContext(ctx, "write import rejects", "import", im.ID, "err", err)
			}
		}}, nil
	})
}
