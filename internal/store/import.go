package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// Import statuses.
const (
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// Import is one file import job: what it reads, how far it got and what
// happened to its rows. Merged counts rows that matched an existing
// customer; Unchanged is the part of Merged that changed nothing.
type Import struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Status      string          `json:"status"`
	FileName    string          `json:"file_name"`
	Source      string          `json:"source,omitempty"`
	Header      []string        `json:"header"`
	Mapping     []ColumnMapping `json:"mapping"`
	Ignored     []IgnoredColumn `json:"ignored_columns"`
	Total       int64           `json:"total"`
	Done        int64           `json:"done"`
	Imported    int64           `json:"imported"`
	Merged      int64           `json:"merged"`
	Unchanged   int64           `json:"unchanged"`
	Rejected    int64           `json:"rejected"`
	Error       string          `json:"error,omitempty"`
	CreatedBy   string          `json:"created_by,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
	FirstErrors []ImportReject  `json:"first_errors"`
}

// ColumnMapping says which field a file column fills.
type ColumnMapping struct {
	Column string `json:"column"`
	Field  string `json:"field"`
}

// IgnoredColumn is a file column the import does not use, and why.
type IgnoredColumn struct {
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// ImportReject is one rejected row: its line in the file, its original
// cells and the reason.
type ImportReject struct {
	Line   int      `json:"line"`
	Cells  []string `json:"-"`
	Reason string   `json:"reason"`
}

// ImportCounts are the outcomes of some rows of an import.
type ImportCounts struct {
	Done, Imported, Merged, Unchanged, Rejected int64
}

// Add adds o to c.
func (c *ImportCounts) Add(o ImportCounts) {
	c.Done += o.Done
	c.Imported += o.Imported
	c.Merged += o.Merged
	c.Unchanged += o.Unchanged
	c.Rejected += o.Rejected
}

// CreateImport records a new import job as running.
func (s *Store) CreateImport(ctx context.Context, im Import) error {
	now := ts(time.Now())
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO imports (id, kind, status, file_name, source, header, mapping, ignored, total, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
		im.ID, im.Kind, ImportRunning, im.FileName, im.Source, jsonText(im.Header, "[]"), jsonText(im.Mapping, "[]"),
		jsonText(im.Ignored, "[]"), im.Total, im.CreatedBy, now)
	return wrap("create import", err)
}

// SetImportPlan records the header, mapping, ignored columns and expected
// row count once the file has been opened.
func (s *Store) SetImportPlan(ctx context.Context, id string, header []string, mapping []ColumnMapping, ignored []IgnoredColumn, total int64) error {
	_, err := s.write.ExecContext(ctx, `UPDATE imports SET header = $1, mapping = $2, ignored = $3, total = $4, updated_at = $5 WHERE id = $6`,
		jsonText(header, "[]"), jsonText(mapping, "[]"), jsonText(ignored, "[]"), total, ts(time.Now()), id)
	return wrap("set import plan", err)
}

// FinishImport marks an import done, or failed with a message.
func (s *Store) FinishImport(ctx context.Context, id, status, message string) error {
	now := ts(time.Now())
	_, err := s.write.ExecContext(ctx, `UPDATE imports SET status = $1, error = $2, updated_at = $3, finished_at = $3,
		total = CASE WHEN $1 = 'done' THEN done ELSE total END WHERE id = $4`, status, message, now, id)
	return wrap("finish import", err)
}

// GetImport returns an import job with its first rejected rows.
func (s *Store) GetImport(ctx context.Context, id string, firstErrors int) (Import, error) {
	var im Import
	var header, mapping, ignored []byte
	var created, updated, finished dbTime
	err := s.read.QueryRowContext(ctx, `SELECT id, kind, status, file_name, source, header, mapping, ignored, total, done,
		imported, merged, unchanged, rejected, error, created_by, created_at, updated_at, finished_at FROM imports WHERE id = $1`, id).
		Scan(&im.ID, &im.Kind, &im.Status, &im.FileName, &im.Source, &header, &mapping, &ignored, &im.Total, &im.Done,
			&im.Imported, &im.Merged, &im.Unchanged, &im.Rejected, &im.Error, &im.CreatedBy, &created, &updated, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return im, errs.E(errs.NotFound, "import %s not found", id)
	}
	if err != nil {
		return im, wrap("get import", err)
	}
	im.CreatedAt, im.UpdatedAt, im.FinishedAt = created.Time, updated.Time, finished.ptr()
	for _, j := range []struct {
		b []byte
		v any
	}{{header, &im.Header}, {mapping, &im.Mapping}, {ignored, &im.Ignored}} {
		if err := json.Unmarshal(j.b, j.v); err != nil {
			return im, fmt.Errorf("store: import %s: %w", id, err)
		}
	}
	im.FirstErrors = []ImportReject{}
	err = s.ImportRejects(ctx, id, firstErrors, func(r ImportReject) error {
		im.FirstErrors = append(im.FirstErrors, r)
		return nil
	})
	return im, err
}

// ImportRejects calls fn for the rejected rows of an import in line order,
// at most limit of them (all when limit <= 0).
func (s *Store) ImportRejects(ctx context.Context, id string, limit int, fn func(ImportReject) error) error {
	if limit <= 0 {
		limit = 1 << 62
	}
	rows, err := s.read.QueryContext(ctx, `SELECT line, cells, reason FROM import_rejects WHERE import_id = $1 ORDER BY line LIMIT $2`, id, limit)
	if err != nil {
		return wrap("list import rejects", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ImportReject
		var cells []byte
		if err := rows.Scan(&r.Line, &cells, &r.Reason); err != nil {
			return wrap("list import rejects", err)
		}
		if err := json.Unmarshal(cells, &r.Cells); err != nil {
			return fmt.Errorf("store: import %s line %d: %w", id, r.Line, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return wrap("list import rejects", rows.Err())
}

// ImportKeys are what a chunk of import rows needs looked up.
type ImportKeys struct {
	Identities     []customer.Identity
	OrgNames       []string // organizations to find by exact name
	InteractionIDs []string // interactions to check for
	// OrderIDs are source order ids to check for under OrderSource.
	OrderSource string
	OrderIDs    []string
}

// ImportLookup is what a chunk's keys matched in the database.
type ImportLookup struct {
	// Owners maps each stored identity to its customer's id.
	Owners map[customer.Identity]string
	// Customers are the full records of the owners, deleted ones included
	// (DeletedAt set).
	Customers map[string]*customer.Customer
	// Orgs maps a live organization's name to its id (the oldest one when
	// several share the name).
	Orgs map[string]string
	// Interactions holds the InteractionIDs already stored.
	Interactions map[string]bool
	// Orders holds the OrderIDs already stored.
	Orders map[string]bool
}

// ImportNew is a customer an import creates, ids, timestamps and version
// set. One made by PrepareNew carries its stored rows already built; one
// with only Customer set has them built by the writer.
type ImportNew struct {
	Customer *customer.Customer
	rows     *newRows
}

// newRows are a new customer's stored values: its customers row, its
// identities rows and its creation audit record.
type newRows struct {
	customer   []any
	identities [][]any
	audit      string
}

// PrepareNew builds c's stored rows now, so an import's worker goroutines,
// not its single writer, pay for the search text, sort key (pinyin), JSON
// and audit record. c must not change afterwards.
func PrepareNew(importID string, c *customer.Customer) ImportNew {
	return ImportNew{Customer: c, rows: newCustomerRows(importID, c)}
}

func newCustomerRows(importID string, c *customer.Customer) *newRows {
	created := ts(c.CreatedAt)
	r := &newRows{
		customer: []any{c.ID, string(c.Kind), c.Name, customer.SortKey(c.Name), jsonText(c.Attributes, "{}"), jsonText(c.Tags, "[]"),
			nullString(c.OwnerID), created, ts(c.UpdatedAt), c.Version, customer.SearchText(c.Name, c.Identities)},
		identities: make([][]any, len(c.Identities)),
		audit:      creationAudit(importID, c),
	}
	for i, id := range c.Identities {
		r.identities[i] = []any{id.Type, id.Source, id.Value, c.ID, created}
	}
	return r
}

// creationAudit is the audit record of a customer an import creates: the
// same text as jsonText(importAudit(importID, diff(nil, c)), "{}"), written
// without building the maps (a map per field was a tenth of a large
// import's allocations). The keys are sorted as encoding/json sorts map
// keys, and each value is encoded by encoding/json as it would be inside
// the map.
func creationAudit(importID string, c *customer.Customer) string {
	type field struct {
		key string
		val any
	}
	fields := make([]field, 0, 7+len(c.Attributes))
	add := func(key string, val any, empty bool) {
		if !empty {
			fields = append(fields, field{key, val})
		}
	}
	add("kind", c.Kind, c.Kind == "")
	add("name", c.Name, c.Name == "")
	add("owner_id", c.OwnerID, c.OwnerID == "")
	add("identities", c.Identities, len(c.Identities) == 0)
	add("tags", c.Tags, len(c.Tags) == 0)
	ms := ownMemberships(*c)
	add("memberships", ms, len(ms) == 0)
	for k, v := range c.Attributes {
		add("attributes."+k, v, false)
	}
	add("import", importID, importID == "")
	slices.SortFunc(fields, func(a, b field) int { return strings.Compare(a.key, b.key) })
	var b strings.Builder
	b.WriteString("{")
	for i, f := range fields {
		key, err := json.Marshal(f.key)
		if err != nil {
			return jsonText(importAudit(importID, diff(nil, c)), "{}")
		}
		val, err := json.Marshal(f.val)
		if err != nil {
			return jsonText(importAudit(importID, diff(nil, c)), "{}")
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.Write(key)
		b.WriteString(`:{"after":`)
		b.Write(val)
		b.WriteString("}")
	}
	b.WriteString("}")
	return b.String()
}

// ImportUpdate is a change to an existing customer found by an import.
type ImportUpdate struct {
	Before, After customer.Customer
}

// ImportWrite is what an import decided for a chunk of rows.
type ImportWrite struct {
	// Create are new customers.
	Create []ImportNew
	// Update are changed existing customers; After.Version is bumped here.
	Update []ImportUpdate
	// Interactions are new interactions. With ids derived from their
	// content and ImportLookup.Interactions, a re-import adds none.
	Interactions []customer.Interaction
	Rejects      []ImportReject
	Counts       ImportCounts
}

// ImportChunk looks the keys up and lets plan decide what to write, then
// writes it, the chunk's rejected rows and the job's progress in one
// transaction. With dryRun, the lookup reads committed data and nothing is
// written. importID may be empty (no job record). It returns how many
// interactions were new.
func (s *Store) ImportChunk(ctx context.Context, a Actor, importID string, keys ImportKeys, dryRun bool,
	plan func(ImportLookup) (ImportWrite, error)) (int, error) {
	return s.importChunk(ctx, a, importID, keys, dryRun, false, plan)
}

// importChunk is ImportChunk; with deferred, the new customers go to the
// search backlog (Bulk).
func (s *Store) importChunk(ctx context.Context, a Actor, importID string, keys ImportKeys, dryRun, deferred bool,
	plan func(ImportLookup) (ImportWrite, error)) (int, error) {
	if dryRun {
		look, err := s.importLookup(ctx, s.read, keys)
		if err != nil {
			return 0, wrap("import lookup", err)
		}
		_, err = plan(look)
		return 0, err
	}
	var w ImportWrite
	var added []string
	err := s.tx(ctx, func(tx *Tx) error {
		look, err := s.importLookup(ctx, tx, keys)
		if err != nil {
			return err
		}
		if w, err = plan(look); err != nil {
			return err
		}
		if deferred {
			if err := deferSearch(ctx, tx); err != nil {
				return err
			}
		}
		if err := s.importCreate(ctx, tx, a, importID, w); err != nil {
			return err
		}
		if deferred {
			if err := undeferSearch(ctx, tx); err != nil {
				return err
			}
		}
		if err := s.importUpdate(ctx, tx, a, importID, w.Update); err != nil {
			return err
		}
		if added, err = importInteractions(ctx, tx, a, importID, w.Interactions); err != nil {
			return err
		}
		return recordImportChunk(ctx, tx, importID, w.Rejects, w.Counts)
	})
	if err != nil {
		return 0, wrap("import chunk", err)
	}
	ids := make([]string, 0, len(w.Create)+len(w.Update)+len(added))
	for _, n := range w.Create {
		ids = append(ids, n.Customer.ID)
	}
	for _, u := range w.Update {
		ids = append(ids, u.After.ID)
	}
	s.changed(ctx, append(ids, added...)...)
	return len(added), nil
}

// RecordImportChunk adds rejected rows and progress to an import job, for
// rows whose records were written elsewhere (orders).
func (s *Store) RecordImportChunk(ctx context.Context, importID string, rejects []ImportReject, c ImportCounts) error {
	if importID == "" {
		return nil
	}
	return wrap("record import progress", s.tx(ctx, func(tx *Tx) error { return recordImportChunk(ctx, tx, importID, rejects, c) }))
}

func recordImportChunk(ctx context.Context, tx *Tx, importID string, rejects []ImportReject, c ImportCounts) error {
	if importID == "" {
		return nil
	}
	rows := make([][]any, len(rejects))
	for i, r := range rejects {
		rows[i] = []any{importID, r.Line, jsonText(r.Cells, "[]"), r.Reason}
	}
	if err := insertRows(ctx, tx, "import_rejects", []string{"import_id", "line", "cells", "reason"}, rows); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE imports SET done = done + $1, imported = imported + $2, merged = merged + $3,
		unchanged = unchanged + $4, rejected = rejected + $5, updated_at = $6 WHERE id = $7`,
		c.Done, c.Imported, c.Merged, c.Unchanged, c.Rejected, ts(time.Now()), importID)
	return err
}

// importLookup finds the owners of the identities, loads those customers
// and finds organizations by name, a few set-wise queries per chunk.
func (s *Store) importLookup(ctx context.Context, q querier, keys ImportKeys) (ImportLookup, error) {
	look := ImportLookup{Owners: map[customer.Identity]string{}, Customers: map[string]*customer.Customer{}, Orgs: map[string]string{},
		Interactions: map[string]bool{}, Orders: map[string]bool{}}
	// One query per identity type and source, with the values in an IN
	// list, so SQLite probes the primary key once per value.
	bySource := map[[2]string][]string{}
	var groups [][2]string
	for _, id := range keys.Identities {
		k := [2]string{id.Type, id.Source}
		if _, ok := bySource[k]; !ok {
			groups = append(groups, k)
		}
		bySource[k] = append(bySource[k], id.Value)
	}
	for _, k := range groups {
		err := queryIn(ctx, q, `SELECT value, customer_id FROM identities WHERE type = $1 AND source = $2 AND value IN `,
			[]any{k[0], k[1]}, bySource[k], func(rows *sql.Rows) error {
				id := customer.Identity{Type: k[0], Source: k[1]}
				var owner string
				if err := rows.Scan(&id.Value, &owner); err != nil {
					return err
				}
				look.Owners[id] = owner
				look.Customers[owner] = nil
				return nil
			})
		if err != nil {
			return look, err
		}
	}
	err := queryIn(ctx, q, `SELECT name, id FROM customers WHERE kind = 'organization' AND deleted_at IS NULL AND name IN `,
		nil, keys.OrgNames, func(rows *sql.Rows) error {
			var name, id string
			if err := rows.Scan(&name, &id); err != nil {
				return err
			}
			if old, ok := look.Orgs[name]; !ok || id < old {
				look.Orgs[name] = id // ids are time-ordered: the oldest wins
			}
			return nil
		})
	if err != nil {
		return look, err
	}
	flag := func(set map[string]bool) func(rows *sql.Rows) error {
		return func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			set[id] = true
			return nil
		}
	}
	if err := queryIn(ctx, q, `SELECT id FROM interactions WHERE id IN `, nil, keys.InteractionIDs, flag(look.Interactions)); err != nil {
		return look, err
	}
	if err := queryIn(ctx, q, `SELECT external_id FROM orders WHERE source = $1 AND external_id IN `,
		[]any{keys.OrderSource}, keys.OrderIDs, flag(look.Orders)); err != nil {
		return look, err
	}
	ids := make([]string, 0, len(look.Customers))
	for id := range look.Customers {
		ids = append(ids, id)
	}
	var list []*customer.Customer
	err = queryIn(ctx, q, `SELECT `+customerColumns+customerFrom+` WHERE c.id IN `, nil, ids, func(rows *sql.Rows) error {
		c, _, err := scanCustomer(rows)
		list = append(list, &c)
		return err
	})
	if err != nil {
		return look, err
	}
	for start := 0; start < len(list); start += maxParams / 2 {
		part := list[start:min(start+maxParams/2, len(list))]
		if err := s.fillIdentities(ctx, q, part); err != nil {
			return look, err
		}
		if err := s.fillMemberships(ctx, q, part); err != nil {
			return look, err
		}
	}
	for _, c := range list {
		look.Customers[c.ID] = c
	}
	for id, c := range look.Customers {
		if c == nil { // an identity whose customer row is gone (purged)
			delete(look.Customers, id)
		}
	}
	return look, nil
}

// queryIn runs query (ending in "IN ") with fixed arguments and then the
// values as a parenthesised list, in batches under the parameter limit,
// and calls scan for every row.
func queryIn(ctx context.Context, q querier, query string, fixed []any, values []string, scan func(*sql.Rows) error) error {
	per := maxParams - len(fixed)
	for start := 0; start < len(values); start += per {
		part := values[start:min(start+per, len(values))]
		args := make([]any, 0, len(fixed)+len(part))
		args = append(args, fixed...)
		for _, v := range part {
			args = append(args, v)
		}
		rows, err := q.QueryContext(ctx, query+"("+placeholders(len(fixed)+1, len(part))+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// importAudit is the audit record of one customer an import wrote: the
// changed fields plus the import that wrote them.
func importAudit(importID string, changes map[string]map[string]any) map[string]map[string]any {
	if importID != "" {
		changes["import"] = map[string]any{"after": importID}
	}
	return changes
}

// importCreate inserts new customers set-wise (plus identities,
// memberships, tags and one audit entry each).
func (s *Store) importCreate(ctx context.Context, tx *Tx, a Actor, importID string, w ImportWrite) error {
	if len(w.Create) == 0 {
		return nil
	}
	crow := make([][]any, 0, len(w.Create))
	irow := make([][]any, 0, 2*len(w.Create))
	arow := make([][]any, 0, len(w.Create))
	var mrow [][]any
	now := ts(time.Now())
	var tagged []any
	for _, n := range w.Create {
		c, rows := n.Customer, n.rows
		if rows == nil {
			rows = newCustomerRows(importID, c)
		}
		crow = append(crow, rows.customer)
		irow = append(irow, rows.identities...)
		for _, m := range ownMemberships(*c) {
			mrow = append(mrow, []any{c.ID, m.OrganizationID, m.Role, ts(c.CreatedAt)})
		}
		arow = append(arow, []any{now, a.ID, a.Kind, "create", "customer", c.ID, c.ID, rows.audit})
		if len(c.Tags) > 0 {
			tagged = append(tagged, c.ID)
		}
	}
	if err := insertRows(ctx, tx, "customers", []string{"id", "kind", "name", "sort_key", "attributes", "tags", "owner_id", "created_at", "updated_at", "version", "search"}, crow); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, "identities", []string{"type", "source", "value", "customer_id", "created_at"}, irow); err != nil {
		if isUniqueViolation(err) {
			return errs.E(errs.Conflict, "an identity in this chunk was claimed by another writer meanwhile; retry the import")
		}
		return err
	}
	if err := insertRows(ctx, tx, "memberships", []string{"person_id", "organization_id", "role", "created_at"}, mrow); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, "audit", []string{"at", "actor_id", "actor_kind", "action", "entity", "entity_id", "customer_id", "changes"}, arow); err != nil {
		return err
	}
	for start := 0; start < len(tagged); start += maxParams {
		part := tagged[start:min(start+maxParams, len(tagged))]
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_tags (tag, customer_seq)
			SELECT DISTINCT t.value, c.seq FROM customers c, `+jsonEach(s.dialect, "c.tags")+`
			WHERE c.id IN (`+placeholders(1, len(part))+`)`, part...); err != nil {
			return err
		}
	}
	return nil
}

// importUpdate writes changed customers: multi-row UPDATEs (checking each
// version), then set-wise inserts of the added
// identities and memberships (an import never removes them), the rewritten
// tags and one audit entry each with the import id.
func (s *Store) importUpdate(ctx context.Context, tx *Tx, a Actor, importID string, us []ImportUpdate) error {
	if len(us) == 0 {
		return nil
	}
	var irow, mrow, arow, urow [][]any
	var retag []any
	now := time.Now().UTC()
	for _, u := range us {
		b, c := u.Before, u.After
		c.Version, c.UpdatedAt = b.Version+1, now
		urow = append(urow, []any{c.ID, b.Version, string(c.Kind), c.Name, customer.SortKey(c.Name), jsonText(c.Attributes, "{}"),
			jsonText(c.Tags, "[]"), nullString(c.OwnerID), ts(c.UpdatedAt), c.Version, customer.SearchText(c.Name, c.Identities)})
		for _, id := range c.Identities {
			if !slices.Contains(b.Identities, id) {
				irow = append(irow, []any{id.Type, id.Source, id.Value, c.ID, ts(now)})
			}
		}
		for _, m := range ownMemberships(c) {
			if !slices.ContainsFunc(ownMemberships(b), func(o customer.Membership) bool { return o.OrganizationID == m.OrganizationID }) {
				mrow = append(mrow, []any{c.ID, m.OrganizationID, m.Role, ts(now)})
			}
		}
		if !slices.Equal(b.Tags, c.Tags) {
			retag = append(retag, c.ID)
		}
		arow = append(arow, []any{ts(now), a.ID, a.Kind, "update", "customer", c.ID, c.ID, jsonText(importAudit(importID, diff(&b, &c)), "{}")})
	}
	// One multi-row UPDATE per parameter-limited batch: every statement
	// that touches customers flushes the search index, so per-row
	// UPDATEs would cost a search index segment each.
	per := maxParams / 11
	for start := 0; start < len(urow); start += per {
		part := urow[start:min(start+per, len(urow))]
		args := make([]any, 0, 11*len(part))
		for _, r := range part {
			args = append(args, r...)
		}
		res, err := tx.ExecContext(ctx, `UPDATE customers SET kind = v.column3, name = v.column4, sort_key = v.column5,
			attributes = `+s.cast("v.column6", "JSONB")+`, tags = `+s.cast("v.column7", "JSONB")+`, owner_id = v.column8,
			updated_at = `+s.cast("v.column9", "TIMESTAMPTZ")+`, version = CAST(v.column10 AS BIGINT), search = v.column11
			FROM (VALUES `+castTuples(len(part), 11, map[int]string{1: "BIGINT", 9: "BIGINT"})+`) AS v
			WHERE customers.id = `+s.noIndex("v.column1")+` AND customers.version = `+s.noIndex("v.column2")+` AND customers.deleted_at IS NULL`, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != int64(len(part)) {
			return errs.E(errs.Conflict, "a customer changed while the import ran; retry the import")
		}
	}
	if err := insertRows(ctx, tx, "identities", []string{"type", "source", "value", "customer_id", "created_at"}, irow); err != nil {
		if isUniqueViolation(err) {
			return errs.E(errs.Conflict, "an identity in this chunk was claimed by another writer meanwhile; retry the import")
		}
		return err
	}
	if err := insertRows(ctx, tx, "memberships", []string{"person_id", "organization_id", "role", "created_at"}, mrow); err != nil {
		return err
	}
	for start := 0; start < len(retag); start += maxParams / 2 {
		part := retag[start:min(start+maxParams/2, len(retag))]
		in := placeholders(1, len(part))
		if _, err := tx.ExecContext(ctx, `DELETE FROM customer_tags WHERE customer_seq IN (SELECT seq FROM customers WHERE id IN (`+in+`))`, part...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_tags (tag, customer_seq)
			SELECT DISTINCT t.value, c.seq FROM customers c, `+jsonEach(s.dialect, "c.tags")+` WHERE c.id IN (`+in+`)`, part...); err != nil {
			return err
		}
	}
	return insertRows(ctx, tx, "audit", []string{"at", "actor_id", "actor_kind", "action", "entity", "entity_id", "customer_id", "changes"}, arow)
}

// noIndex is the dialect seam for a VALUES column a join must probe with,
// not build an index on. Left to itself, SQLite's planner scanned every
// customer against an automatic index on the VALUES list's version column
// (which every row shares), so an update of a few hundred imported
// customers compared each customer with each of them (100 s at 200k
// customers); unary + makes the column an expression, which cannot drive
// an index, so the list is scanned and customers searched by id.
func (s *Store) noIndex(col string) string {
	if s.dialect == SQLite {
		return "+" + col
	}
	return col
}

// cast is the dialect seam for reading a text parameter as a PostgreSQL
// type; SQLite stores the text as it is.
func (s *Store) cast(expr, pgType string) string {
	if s.dialect == Postgres {
		return "CAST(" + expr + " AS " + pgType + ")"
	}
	return expr
}

// castTuples is tuples with the listed 0-based columns cast to a type (both
// engines read CAST(… AS BIGINT) as an integer), so a VALUES list compares
// with typed columns.
func castTuples(n, w int, casts map[int]string) string {
	var b strings.Builder
	p := 1
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for c := range w {
			if c > 0 {
				b.WriteString(", ")
			}
			ph := "$" + strconv.Itoa(p)
			p++
			if t, ok := casts[c]; ok {
				ph = "CAST(" + ph + " AS " + t + ")"
			}
			b.WriteString(ph)
		}
		b.WriteString(")")
	}
	return b.String()
}

// importInteractions inserts new interactions (the plan has left out the
// ones already stored; a repeated id is written once) and counts them in
// their customers' stats. It returns the customers that got interactions.
func importInteractions(ctx context.Context, tx *Tx, a Actor, importID string, ins []customer.Interaction) ([]string, error) {
	if len(ins) == 0 {
		return nil, nil
	}
	stored := map[string]bool{}
	type agg struct {
		n           int
		first, last time.Time
	}
	per := map[string]*agg{}
	var order []string
	var irow, arow [][]any
	now := ts(time.Now())
	for _, in := range ins {
		if stored[in.ID] {
			continue
		}
		stored[in.ID] = true // a file may repeat a row
		irow = append(irow, []any{in.ID, in.CustomerID, nullString(in.UserID), in.Kind, ts(in.At), in.Summary, ts(in.CreatedAt)})
		changes := map[string]any{"kind": map[string]any{"after": in.Kind}, "summary": map[string]any{"after": in.Summary}}
		if importID != "" {
			changes["import"] = map[string]any{"after": importID}
		}
		arow = append(arow, []any{now, a.ID, a.Kind, "create", "interaction", in.ID, in.CustomerID, jsonText(changes, "{}")})
		g := per[in.CustomerID]
		if g == nil {
			g = &agg{first: in.At, last: in.At}
			per[in.CustomerID] = g
			order = append(order, in.CustomerID)
		}
		g.n++
		if in.At.Before(g.first) {
			g.first = in.At
		}
		if in.At.After(g.last) {
			g.last = in.At
		}
	}
	if err := insertRows(ctx, tx, "interactions", []string{"id", "customer_id", "user_id", "kind", "at", "summary", "created_at"}, irow); err != nil {
		return nil, err
	}
	if err := insertRows(ctx, tx, "audit", []string{"at", "actor_id", "actor_kind", "action", "entity", "entity_id", "customer_id", "changes"}, arow); err != nil {
		return nil, err
	}
	for _, id := range order {
		g := per[id]
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_stats (customer_id, interactions, first_seen, last_seen) VALUES ($1, $2, $3, $4)
			ON CONFLICT (customer_id) DO UPDATE SET interactions = customer_stats.interactions + excluded.interactions,
			first_seen = CASE WHEN customer_stats.first_seen IS NULL OR customer_stats.first_seen > excluded.first_seen THEN excluded.first_seen ELSE customer_stats.first_seen END,
			last_seen = CASE WHEN customer_stats.last_seen IS NULL OR customer_stats.last_seen < excluded.last_seen THEN excluded.last_seen ELSE customer_stats.last_seen END`,
			id, g.n, ts(g.first), ts(g.last)); err != nil {
			return nil, err
		}
		if err := MarkScoresStale(ctx, tx, id); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// CustomerChanges lists the fields that differ between two records of a
// customer, in the audit log's form; empty means an import would change
// nothing.
func CustomerChanges(before, after customer.Customer) map[string]map[string]any {
	return diff(&before, &after)
}
