package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/importer"
	"github.com/rapportcrm/rapport/internal/store"
)

// The import wizard: upload a file, fix the guessed column mapping, dry
// run, then import in the background while the page polls for progress.
// The uploaded file stays on the server between steps (never uploaded
// twice) and belongs to the user who sent it.

const (
	defaultMaxUpload = 100 << 20
	uploadTTL        = 2 * time.Hour
	rejectsPreview   = 100 // rejected rows a dry run shows
	sampleRows       = 3   // example values per column on the mapping page
)

// registerImports mounts the wizard; the API's permission for imports is
// customers:write.
func (s *Server) registerImports(h func(string, http.HandlerFunc)) {
	if s.Imports == nil {
		s.Imports = importer.NewJobs(context.Background(), s.Log)
	}
	h("GET /imports", s.page(auth.WriteCustomers, "imports", s.importForm))
	h("POST /imports", s.page(auth.WriteCustomers, "imports", s.uploadImport))
	h("GET /imports/uploads/{id}", s.page(auth.WriteCustomers, "imports", s.importMapping))
	h("POST /imports/uploads/{id}", s.page(auth.WriteCustomers, "imports", s.importStep))
	h("GET /imports/jobs/{id}", s.page(auth.WriteCustomers, "imports", s.importStatus))
	h("GET /imports/jobs/{id}/progress", s.page(auth.WriteCustomers, "imports", s.importProgress))
	h("GET /imports/jobs/{id}/rejects.csv", s.page(auth.WriteCustomers, "imports", s.importRejects))
}

// upload is a file waiting between the wizard's steps.
type upload struct {
	ID       string
	UserID   string
	Path     string
	FileName string
	Kind     importer.Kind
	Header   []string
	Samples  [][]string // first rows, by column
	Format   string
	Encoding string
	Created  time.Time
}

// uploads are the files of unfinished wizards, in one server-side folder.
// An upload is removed when its import starts (the job deletes the file
// when it ends) or when it has waited longer than uploadTTL.
type uploads struct {
	mu  sync.Mutex
	dir string
	m   map[string]*upload
}

func (u *uploads) folder() (string, error) {
	if u.dir == "" {
		d := filepath.Join(os.TempDir(), "rapport-uploads")
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", fmt.Errorf("web: upload folder: %w", err)
		}
		u.dir = d
	}
	return u.dir, nil
}

// add keeps an upload, first removing expired ones (and files a previous
// process left behind).
func (u *uploads) add(up *upload, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[string]*upload{}
	}
	for id, old := range u.m {
		if now.Sub(old.Created) > uploadTTL {
			os.Remove(old.Path)
			delete(u.m, id)
		}
	}
	if entries, err := os.ReadDir(u.dir); err == nil {
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > uploadTTL {
				os.Remove(filepath.Join(u.dir, e.Name()))
			}
		}
	}
	u.m[up.ID] = up
}

// get returns the user's upload id, or not found (also for someone else's).
func (u *uploads) get(id, userID string, now time.Time) (*upload, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up, ok := u.m[id]
	if !ok || up.UserID != userID || now.Sub(up.Created) > uploadTTL {
		return nil, errs.E(errs.NotFound, "upload not found or expired")
	}
	return up, nil
}

// take removes an upload from the wizard (its file is the job's now).
func (u *uploads) take(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, id)
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// importFields are the fields a column can fill, per kind, in the order the
// mapping page offers them (the importer's core fields for each kind;
// customers also take declared custom fields as attributes.KEY).
var importFields = map[importer.Kind][]importer.Field{
	importer.Customers: {importer.FieldName, importer.FieldGivenName, importer.FieldSurname, importer.FieldPhone, importer.FieldEmail,
		importer.FieldExternalID, importer.FieldCompany, importer.FieldKind, importer.FieldTags, importer.FieldTitle},
	importer.Orders: {importer.FieldPhone, importer.FieldEmail, importer.FieldExternalID, importer.FieldOrderID, importer.FieldPlacedAt,
		importer.FieldTotal, importer.FieldCurrency, importer.FieldStatus, importer.FieldProductID, importer.FieldSKU, importer.FieldProduct,
		importer.FieldCategory, importer.FieldPrice, importer.FieldQuantity, importer.FieldUnitCost},
	importer.Interactions: {importer.FieldPhone, importer.FieldEmail, importer.FieldExternalID, importer.FieldInteractionKind,
		importer.FieldAt, importer.FieldSummary},
}

var importKinds = []importer.Kind{importer.Customers, importer.Orders, importer.Interactions}

type importFormData struct {
	Kinds []importer.Kind
	Kind  string
	Error string
	MaxMB int64
}

func (s *Server) maxUpload() int64 {
	if s.MaxUpload > 0 {
		return s.MaxUpload
	}
	return defaultMaxUpload
}

func (s *Server) importForm(w http.ResponseWriter, r *http.Request, v *view) {
	s.renderImportForm(w, r, v, http.StatusOK, importFormData{Kind: string(importer.Customers)})
}

func (s *Server) renderImportForm(w http.ResponseWriter, r *http.Request, v *view, status int, d importFormData) {
	d.Kinds = importKinds
	d.MaxMB = s.maxUpload() >> 20
	s.render(w, r, v, status, "imports", "", d)
}

// uploadImport keeps the uploaded file and opens the mapping step.
func (s *Server) uploadImport(w http.ResponseWriter, r *http.Request, v *view) {
	limit := s.maxUpload()
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20) // room for the form's other parts
	bad := func(status int, msg string) {
		s.renderImportForm(w, r, v, status, importFormData{Kind: r.FormValue("kind"), Error: msg})
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			bad(http.StatusRequestEntityTooLarge, v.T("imports.too_large", limit>>20))
			return
		}
		bad(http.StatusBadRequest, v.T("imports.need_file"))
		return
	}
	defer r.MultipartForm.RemoveAll()
	kind, err := importer.ParseKind(r.FormValue("kind"))
	if err != nil {
		bad(http.StatusUnprocessableEntity, v.T("imports.need_kind"))
		return
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		bad(http.StatusUnprocessableEntity, v.T("imports.need_file"))
		return
	}
	defer f.Close()
	if fh.Size > limit {
		bad(http.StatusRequestEntityTooLarge, v.T("imports.too_large", limit>>20))
		return
	}
	s.uploads.mu.Lock()
	dir, err := s.uploads.folder()
	s.uploads.mu.Unlock()
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	name := filepath.Base(fh.Filename)
	up := &upload{ID: randomID(), UserID: v.P.UserID, FileName: name, Kind: kind, Created: s.now()}
	up.Path = filepath.Join(dir, up.ID+strings.ToLower(filepath.Ext(name)))
	if err := copyFile(up.Path, f); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if err := up.read(); err != nil {
		os.Remove(up.Path)
		bad(http.StatusUnprocessableEntity, err.Error())
		return
	}
	s.uploads.add(up, s.now())
	http.Redirect(w, r, "/imports/uploads/"+up.ID, http.StatusSeeOther)
}

func copyFile(path string, src io.Reader) error {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("web: keep upload: %w", err)
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		os.Remove(path)
		return fmt.Errorf("web: keep upload: %w", err)
	}
	if err := out.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("web: keep upload: %w", err)
	}
	return nil
}

// read opens the kept file for its header, format and first rows; a file
// the importer cannot read is the user's error.
func (up *upload) read() error {
	t, closeFile, err := up.open()
	if err != nil {
		return err
	}
	defer closeFile()
	up.Header, up.Format, up.Encoding = t.Header, t.Format, t.Encoding
	up.Samples = make([][]string, len(t.Header))
	for range sampleRows {
		row, ok := t.Next()
		if !ok {
			break
		}
		for i := range up.Header {
			if i < len(row.Cells) && strings.TrimSpace(row.Cells[i]) != "" {
				up.Samples[i] = append(up.Samples[i], row.Cells[i])
			}
		}
	}
	return nil
}

func (up *upload) open() (*importer.Table, func(), error) {
	f, err := os.Open(up.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("web: open upload: %w", err)
	}
	t, err := importer.Open(f, up.FileName)
	if err != nil {
		f.Close()
		return nil, nil, errs.E(errs.Invalid, "%s", strings.TrimPrefix(err.Error(), "import: "))
	}
	return t, func() { t.Close(); f.Close() }, nil
}

// fieldOption is one choice in a column's select.
type fieldOption struct {
	Value, Label string
}

// mappingColumn is one file column on the mapping page.
type mappingColumn struct {
	Index    int
	Header   string
	Samples  []string
	Selected string
	Ignored  string // why the importer ignores it
}

type mappingData struct {
	Upload  *upload
	Columns []mappingColumn
	Options []fieldOption
	Error   string
	Report  *importer.Report
	Rejects []store.ImportReject
	More    bool // more rows were rejected than shown
}

// importOptions are the choices for a column of kind, with labels.
func (s *Server) importOptions(r *http.Request, v *view, kind importer.Kind) ([]fieldOption, error) {
	var out []fieldOption
	for _, f := range importFields[kind] {
		out = append(out, fieldOption{Value: string(f), Label: v.T("imports.field." + string(f))})
	}
	if kind == importer.Customers {
		fields, err := s.Store.Fields(r.Context())
		if err != nil {
			return nil, err
		}
		for _, fd := range fields {
			out = append(out, fieldOption{Value: "attributes." + fd.Key, Label: v.L.Label(fd.LabelEn, fd.LabelZh) + " (" + fd.Key + ")"})
		}
	}
	return out, nil
}

func (s *Server) importMapping(w http.ResponseWriter, r *http.Request, v *view) {
	up, err := s.uploads.get(r.PathValue("id"), v.P.UserID, s.now())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.renderMapping(w, r, v, http.StatusOK, up, nil, mappingData{})
}

// renderMapping shows the columns with the mapping the importer guesses
// after the user's overrides (none on the first visit).
func (s *Server) renderMapping(w http.ResponseWriter, r *http.Request, v *view, status int, up *upload, overrides map[string]string, d mappingData) {
	rules, err := s.rules(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if d.Options, err = s.importOptions(r, v, up.Kind); err != nil {
		s.fail(w, r, v, err)
		return
	}
	m, err := importer.GuessMapping(up.Kind, up.Header, rules.Fields, overrides)
	if err != nil && d.Error == "" {
		d.Error = err.Error()
	}
	reasons := map[string]string{}
	for _, ig := range m.Ignored {
		reasons[ig.Column] = ig.Reason
	}
	d.Upload = up
	for i, h := range up.Header {
		c := mappingColumn{Index: i, Header: h, Samples: up.Samples[i]}
		if i < len(m.Columns) {
			c.Selected = string(m.Columns[i])
		}
		if c.Selected == "" {
			c.Ignored = reasons[h]
		}
		d.Columns = append(d.Columns, c)
	}
	s.render(w, r, v, status, "imports-map", "", d)
}

// overrides reads the mapping form: every column mapped explicitly, "-"
// for ignored, only to fields offered for the kind.
func overridesFrom(r *http.Request, up *upload, opts []fieldOption) (map[string]string, error) {
	out := map[string]string{}
	for i, h := range up.Header {
		val := strings.TrimSpace(r.PostFormValue("col." + strconv.Itoa(i)))
		if val != "" && !slices.ContainsFunc(opts, func(o fieldOption) bool { return o.Value == val }) {
			return nil, errs.E(errs.Invalid, "column %q: unknown field %q", h, val)
		}
		if val == "" {
			val = "-"
		}
		if _, dup := out[h]; !dup { // two columns with one header: the first decides
			out[h] = val
		}
	}
	return out, nil
}

// importStep is the mapping form's two buttons: a dry run, or the import.
func (s *Server) importStep(w http.ResponseWriter, r *http.Request, v *view) {
	up, err := s.uploads.get(r.PathValue("id"), v.P.UserID, s.now())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	opts, err := s.importOptions(r, v, up.Kind)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	overrides, err := overridesFrom(r, up, opts)
	if err != nil {
		s.renderMapping(w, r, v, http.StatusUnprocessableEntity, up, nil, mappingData{Error: err.Error()})
		return
	}
	rules, err := s.rules(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	opt := importer.Options{Kind: up.Kind, Map: overrides, Actor: v.P.Actor(), Rules: rules}
	if _, err := importer.GuessMapping(up.Kind, up.Header, rules.Fields, overrides); err != nil {
		s.renderMapping(w, r, v, http.StatusUnprocessableEntity, up, overrides, mappingData{})
		return
	}
	if r.PostFormValue("action") == "run" {
		s.uploads.take(up.ID)
		id, err := s.Imports.Start(r.Context(), s.Store, up.Path, up.FileName, opt)
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		http.Redirect(w, r, "/imports/jobs/"+id, http.StatusSeeOther)
		return
	}
	t, closeFile, err := up.open()
	if err != nil {
		s.renderMapping(w, r, v, http.StatusUnprocessableEntity, up, overrides, mappingData{Error: err.Error()})
		return
	}
	defer closeFile()
	d := mappingData{Rejects: []store.ImportReject{}}
	opt.DryRun = true
	opt.Reject = func(rj store.ImportReject) {
		if len(d.Rejects) < rejectsPreview {
			d.Rejects = append(d.Rejects, rj)
		}
	}
	rep, err := importer.Run(r.Context(), s.Store, t, opt)
	if k := errs.KindOf(err); k == errs.Invalid {
		d.Error = err.Error()
	} else if err != nil {
		s.fail(w, r, v, err)
		return
	} else {
		d.Report, d.More = &rep, rep.Rejected > int64(len(d.Rejects))
	}
	s.renderMapping(w, r, v, http.StatusOK, up, overrides, d)
}

// importJob returns an import the user may see: their own, or any for
// someone who manages settings.
func (s *Server) importJob(r *http.Request, v *view, firstErrors int) (store.Import, error) {
	im, err := s.Store.GetImport(r.Context(), r.PathValue("id"), firstErrors)
	if err != nil {
		return im, err
	}
	if im.CreatedBy != v.P.UserID && !v.P.Role.Can(auth.ManageSettings) {
		return store.Import{}, errs.E(errs.NotFound, "import not found")
	}
	return im, nil
}

// importView is an import with its progress for the status page.
type importView struct {
	store.Import
	Percent int
}

func importViewOf(im store.Import) importView {
	iv := importView{Import: im}
	switch {
	case im.Status == store.ImportDone:
		iv.Percent = 100
	case im.Total > 0:
		iv.Percent = int(min(100, im.Done*100/im.Total))
	}
	return iv
}

func (s *Server) importStatus(w http.ResponseWriter, r *http.Request, v *view) {
	im, err := s.importJob(r, v, 20)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "imports-status", "", importViewOf(im))
}

// importProgress is the status fragment the page polls while the import
// runs; once it has ended the fragment stops polling.
func (s *Server) importProgress(w http.ResponseWriter, r *http.Request, v *view) {
	im, err := s.importJob(r, v, 20)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "imports-status", "import-progress", importViewOf(im))
}

// importRejects downloads the rejected rows: the file's columns and an
// error column, ready to fix and import again.
func (s *Server) importRejects(w http.ResponseWriter, r *http.Request, v *view) {
	im, err := s.importJob(r, v, 0)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="rejects-`+im.ID+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	rw, err := importer.NewRejectsWriter(w, im.Header)
	if err == nil {
		err = s.Store.ImportRejects(r.Context(), im.ID, 0, rw.Write)
	}
	if err == nil {
		err = rw.Flush()
	}
	if err != nil {
		// The status is sent; a cut-short download is all the browser sees.
		s.Log.ErrorContext(r.Context(), "write import rejects", "import", im.ID, "err", err)
	}
}
