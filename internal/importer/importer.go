package importer

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// DefaultSource is the source system recorded for external ids and orders
// when the caller names none.
const DefaultSource = "import"

// Options say how to run one import.
type Options struct {
	Kind   Kind
	Source string // source system of external ids and order ids; DefaultSource when empty
	DryRun bool   // decide every row, write nothing
	Map    map[string]string
	Actor  store.Actor
	Rules  customer.Rules
	// ImportID is the job record to keep current; empty for none.
	ImportID string
	// Location reads dates and times written without a zone; time.Local when nil.
	Location *time.Location
	Workers  int // parse/validate goroutines; GOMAXPROCS-1 (at least 1) when 0
	Chunk    int // rows per transaction; 25,000 when 0
	Preview  int // row outcomes kept in the report
	// Progress is called after each chunk with the rows decided so far and
	// the expected total.
	Progress func(done, total int64)
	// Reject is called for every rejected row once its chunk is decided.
	Reject func(store.ImportReject)
}

// Outcomes of a row.
const (
	OutcomeImported  = "imported"
	OutcomeMerged    = "merged"
	OutcomeUnchanged = "unchanged"
	OutcomeRejected  = "rejected"
)

// PreviewRow says what happened (or, in a dry run, would happen) to a row.
type PreviewRow struct {
	Line       int      `json:"line"`
	Outcome    string   `json:"outcome"`
	CustomerID string   `json:"customer_id,omitempty"`
	Name       string   `json:"name,omitempty"`
	Changes    []string `json:"changes,omitempty"`
	Reason     string   `json:"reason,omitempty"`
}

// Report is the result of an import.
type Report struct {
	Kind      Kind                  `json:"kind"`
	DryRun    bool                  `json:"dry_run"`
	Format    string                `json:"format"`
	Encoding  string                `json:"encoding"`
	Delimiter string                `json:"delimiter,omitempty"`
	Header    []string              `json:"header"`
	Mapping   []store.ColumnMapping `json:"mapping"`
	Ignored   []store.IgnoredColumn `json:"ignored_columns"`
	Rows      int64                 `json:"rows"`
	Blank     int64                 `json:"blank_rows"`
	Imported  int64                 `json:"imported"`
	Merged    int64                 `json:"merged"`
	Unchanged int64                 `json:"unchanged"`
	Rejected  int64                 `json:"rejected"`
	// Organizations created from company columns.
	Organizations int64        `json:"organizations_created"`
	Orders        int64        `json:"orders,omitempty"`
	Preview       []PreviewRow `json:"preview"`
	Seconds       float64      `json:"seconds"`
}

// Summary is the one-line result the CLI prints.
func (r Report) Summary() string {
	s := fmt.Sprintf("imported=%d merged=%d rejected=%d unchanged=%d blank=%d", r.Imported, r.Merged, r.Rejected, r.Unchanged, r.Blank)
	if r.Kind == Customers {
		s += fmt.Sprintf(" organizations=%d", r.Organizations)
	}
	if r.Kind == Orders {
		s += fmt.Sprintf(" orders=%d", r.Orders)
	}
	if r.DryRun {
		s += " dry_run=true"
	}
	return s
}

// Plan opens nothing and writes nothing: it guesses the mapping for a
// table so callers can show it before importing.
func Plan(t *Table, kind Kind, rules customer.Rules, overrides map[string]string) (Mapping, error) {
	return GuessMapping(kind, t.Header, rules.Fields, overrides)
}

// Run imports every row of t: each ends up imported, merged into the
// existing customer it identifies, or rejected with its line and reason.
// A mapping that cannot import anything is an error; bad rows are not.
func Run(ctx context.Context, s *store.Store, t *Table, opt Options) (Report, error) {
	start := time.Now()
	if opt.Source == "" {
		opt.Source = DefaultSource
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.Workers <= 0 {
		// One processor is left to the writer, which every row waits for.
		opt.Workers = max(1, runtime.GOMAXPROCS(0)-1)
	}
	if opt.Chunk <= 0 {
		opt.Chunk = defaultChunk
	}
	m, err := GuessMapping(opt.Kind, t.Header, opt.Rules.Fields, opt.Map)
	rep := Report{Kind: opt.Kind, DryRun: opt.DryRun, Format: t.Format, Encoding: t.Encoding, Delimiter: t.Delimiter,
		Header: t.Header, Mapping: m.Used(), Ignored: m.Ignored, Preview: []PreviewRow{}}
	if err != nil {
		return rep, err
	}
	if opt.ImportID != "" && !opt.DryRun {
		if err := s.SetImportPlan(ctx, opt.ImportID, t.Header, rep.Mapping, rep.Ignored, t.Estimate); err != nil {
			return rep, err
		}
	}
	r := &run{s: s, opt: opt, m: m, rep: &rep, total: t.Estimate, chunk: s.ImportChunk}
	var bulk *store.Bulk
	if !opt.DryRun && t.Estimate > bulkRows {
		if bulk, err = s.BeginBulk(ctx); err != nil {
			return rep, err
		}
		r.chunk = bulk.ImportChunk
	}
	if opt.DryRun {
		r.dry = &dryState{owners: map[customer.Identity]string{}, customers: map[string]*customer.Customer{}, orgs: map[string]string{},
			interactions: map[string]bool{}}
	}
	if opt.Kind == Orders {
		err = r.orders(ctx, t)
	} else {
		err = r.pipeline(ctx, t)
	}
	if bulk != nil {
		// However the import ended, what it committed becomes searchable.
		err = errors.Join(err, bulk.End(context.WithoutCancel(ctx)))
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, err
}

// defaultChunk is how many rows one transaction writes: large enough that
// commits, lookups and per-statement work are a small part of a row's cost.
const defaultChunk = 25_000

// bulkRows is the expected row count above which an import runs as a
// store.Bulk: indexing its customers for search once at the end instead
// of chunk by chunk.
var bulkRows int64 = 50_000

// run is the state of one import.
type run struct {
	s     *store.Store
	chunk func(ctx context.Context, a store.Actor, importID string, keys store.ImportKeys, dryRun bool,
		plan func(store.ImportLookup) (store.ImportWrite, error)) (int, error)
	opt   Options
	m     Mapping
	rep   *Report
	total int64
	done  int64
	dry   *dryState
}

// dryState stands in for the writes a dry run does not make, so later
// chunks see what earlier ones would have created.
type dryState struct {
	owners    map[customer.Identity]string
	customers map[string]*customer.Customer
	orgs      map[string]string
	// interactions are the ids a dry run would have added.
	interactions map[string]bool
}

// prepared is a row parsed, normalized and validated by a worker.
type prepared struct {
	line   int
	cells  []string
	reason string // rejected before any lookup
	// nameMissing is the domain's error for a row without a name: it can
	// still merge into a customer it identifies, but cannot create one.
	nameMissing string
	c           *customer.Customer // normalized record (customers), or holder of identities
	explicit    bool               // the row gives the kind
	company     string
	title       string
	created     store.ImportNew // the stored rows, built while the worker has the row
	inter       customer.Interaction
	order       orderLine
}

type batch struct {
	rows  []prepared
	ready chan struct{}
}

// pipeline reads rows, prepares them on opt.Workers goroutines and writes
// them in file order, one transaction per chunk.
func (r *run) pipeline(ctx context.Context, t *Table) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *batch, r.opt.Workers)
	ordered := make(chan *batch, 2*r.opt.Workers+1)
	var wg sync.WaitGroup
	for range r.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				for i := range b.rows {
					r.prepare(&b.rows[i])
				}
				close(b.ready)
			}
		}()
	}
	var blank int64
	go func() {
		defer close(ordered)
		defer close(work)
		newBatch := func() *batch {
			return &batch{rows: make([]prepared, 0, min(int64(r.opt.Chunk), r.total+1)), ready: make(chan struct{})}
		}
		b := newBatch()
		send := func() bool {
			select {
			case work <- b:
			case <-ctx.Done():
				return false
			}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return false
			}
			b = newBatch()
			return true
		}
		for {
			row, ok := t.Next()
			if !ok {
				break
			}
			if row.Err == nil && isBlank(row.Cells) {
				blank++
				continue
			}
			p := prepared{line: row.Line, cells: row.Cells}
			if row.Err != nil {
				p.reason = rowReason(row.Err)
			}
			b.rows = append(b.rows, p)
			if len(b.rows) == r.opt.Chunk && !send() {
				return
			}
		}
		if len(b.rows) > 0 {
			send()
		}
	}()
	var err error
	for b := range ordered {
		if err != nil {
			continue // drain so the reader can finish
		}
		select {
		case <-b.ready:
		case <-ctx.Done():
			err = ctx.Err()
			cancel()
			continue
		}
		if err = r.write(ctx, b.rows); err != nil {
			cancel()
		}
	}
	wg.Wait()
	r.rep.Blank = blank
	return err
}

func isBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// cellsOf returns the row's cells padded to the header, or a reason when
// the row has more non-empty cells than the header has columns.
func (r *run) cellsOf(p *prepared) ([]string, string) {
	cells := p.cells
	if len(cells) > len(r.m.Header) {
		for _, c := range cells[len(r.m.Header):] {
			if strings.TrimSpace(c) != "" {
				return nil, fmt.Sprintf("row has %d cells but the header has %d columns / 列数多于表头", len(cells), len(r.m.Header))
			}
		}
		cells = cells[:len(r.m.Header)]
	}
	for len(cells) < len(r.m.Header) {
		cells = append(cells, "")
	}
	return cells, ""
}

func (r *run) prepare(p *prepared) {
	if p.reason != "" {
		return
	}
	switch r.opt.Kind {
	case Customers:
		r.prepareCustomer(p)
	case Interactions:
		r.prepareInteraction(p)
	}
}

// write decides one chunk against the database and writes it.
func (r *run) write(ctx context.Context, rows []prepared) error {
	keys := store.ImportKeys{}
	seenID := map[customer.Identity]bool{}
	seenOrg := map[string]bool{}
	for i := range rows {
		p := &rows[i]
		if p.reason != "" || p.c == nil {
			continue
		}
		for _, id := range p.c.Identities {
			if !seenID[id] {
				seenID[id] = true
				keys.Identities = append(keys.Identities, id)
			}
		}
		org := p.company
		if p.c.Kind == customer.Organization {
			org = p.c.Name
		}
		if org != "" && !seenOrg[org] {
			seenOrg[org] = true
			keys.OrgNames = append(keys.OrgNames, org)
		}
		if r.opt.Kind == Interactions {
			keys.InteractionIDs = append(keys.InteractionIDs, p.inter.ID)
		}
	}
	var d *decision
	_, err := r.chunk(ctx, r.opt.Actor, r.opt.ImportID, keys, r.opt.DryRun, func(look store.ImportLookup) (store.ImportWrite, error) {
		d = r.decide(rows, look)
		return d.w, nil
	})
	if err != nil {
		return err
	}
	r.commit(d)
	return nil
}

// commit adds a decided (and, unless dry, written) chunk to the report.
func (r *run) commit(d *decision) {
	c := d.w.Counts
	r.rep.Imported += c.Imported
	r.rep.Merged += c.Merged
	r.rep.Unchanged += c.Unchanged
	r.rep.Rejected += c.Rejected
	r.rep.Rows += c.Done
	r.rep.Organizations += d.orgs
	r.done += c.Done
	for _, p := range d.preview {
		if len(r.rep.Preview) < r.opt.Preview {
			r.rep.Preview = append(r.rep.Preview, p)
		}
	}
	if r.opt.Reject != nil {
		for _, rj := range d.w.Rejects {
			r.opt.Reject(rj)
		}
	}
	if r.dry != nil {
		for _, in := range d.w.Interactions {
			r.dry.interactions[in.ID] = true
		}
		for _, c := range d.touched {
			r.dry.customers[c.ID] = c
			for _, id := range c.Identities {
				r.dry.owners[id] = c.ID
			}
			if c.Kind == customer.Organization {
				if _, ok := r.dry.orgs[c.Name]; !ok {
					r.dry.orgs[c.Name] = c.ID
				}
			}
		}
	}
	if r.opt.Progress != nil {
		r.opt.Progress(r.done, max(r.total, r.done))
	}
}

// decision is what a chunk's rows came to.
type decision struct {
	w       store.ImportWrite
	preview []PreviewRow
	keep    int // preview rows the report still takes
	orgs    int64
	touched []*customer.Customer // every record created or merged into (dry runs keep them)
}

func (d *decision) reject(p *prepared, reason string) {
	d.w.Rejects = append(d.w.Rejects, store.ImportReject{Line: p.line, Cells: p.cells, Reason: reason})
	d.w.Counts.Rejected++
	d.w.Counts.Done++
	if len(d.preview) < d.keep {
		d.preview = append(d.preview, PreviewRow{Line: p.line, Outcome: OutcomeRejected, Reason: reason})
	}
}

// newDecision starts a chunk's decision, keeping only the preview rows the
// report has room for (a million-row import previews a few).
func (r *run) newDecision() *decision {
	return &decision{keep: max(0, r.opt.Preview-len(r.rep.Preview))}
}

func (d *decision) outcome(p *prepared, outcome string, c *customer.Customer, changes []string) {
	d.w.Counts.Done++
	switch outcome {
	case OutcomeImported:
		d.w.Counts.Imported++
	case OutcomeMerged:
		d.w.Counts.Merged++
	case OutcomeUnchanged:
		d.w.Counts.Merged++
		d.w.Counts.Unchanged++
	}
	if len(d.preview) >= d.keep {
		return
	}
	pr := PreviewRow{Line: p.line, Outcome: outcome, Changes: changes}
	if c != nil {
		pr.CustomerID, pr.Name = c.ID, c.Name
	}
	d.preview = append(d.preview, pr)
}

// target is a customer a chunk creates or merges into.
type target struct {
	before *customer.Customer // nil when the chunk creates it
	after  *customer.Customer
	built  store.ImportNew // a new customer's rows as a worker built them (store.PrepareNew), while they match after
}

// resolver finds the customers a chunk's rows identify, seeing the chunk's
// own creations and merges as it goes.
type resolver struct {
	r       *run
	look    store.ImportLookup
	targets map[string]*target
	order   []string
	orgs    map[string]string // organizations created in this chunk
	seen    map[string]bool   // interaction ids decided in this chunk
	d       *decision
}

func (v *resolver) owner(id customer.Identity) (string, bool) {
	if o, ok := v.look.Owners[id]; ok {
		return o, true
	}
	if v.r.dry != nil {
		o, ok := v.r.dry.owners[id]
		return o, ok
	}
	return "", false
}

// matches returns the distinct customers the identities belong to, in
// order, with the first identity that found each.
func (v *resolver) matches(ids []customer.Identity) ([]string, []customer.Identity) {
	var owners []string
	var via []customer.Identity
	for _, id := range ids {
		if o, ok := v.owner(id); ok && !slices.Contains(owners, o) {
			owners = append(owners, o)
			via = append(via, id)
		}
	}
	return owners, via
}

// target returns the working record of an existing customer, or a reason
// it cannot take the row.
func (v *resolver) target(id string) (*target, string) {
	if t, ok := v.targets[id]; ok {
		return t, ""
	}
	c := v.look.Customers[id]
	if v.r.dry != nil {
		if dc, ok := v.r.dry.customers[id]; ok {
			c = dc
		}
	}
	if c == nil {
		return nil, fmt.Sprintf("its identity belongs to customer %s, which no longer exists / 匹配的客户已不存在", id)
	}
	if c.DeletedAt != nil {
		return nil, fmt.Sprintf("it matches customer %s (%s), which is deleted; restore it first / 匹配到已删除的客户，请先恢复", id, c.Name)
	}
	before := cloneCustomer(*c)
	after := cloneCustomer(*c)
	t := &target{before: &before, after: &after}
	v.targets[id] = t
	v.order = append(v.order, id)
	return t, ""
}

// create adds a new customer to the chunk, with its rows when a worker
// built them (n.Customer is c).
func (v *resolver) create(c *customer.Customer, n store.ImportNew) {
	if n.Customer != c {
		n = store.ImportNew{}
	}
	v.targets[c.ID] = &target{after: c, built: n}
	v.order = append(v.order, c.ID)
	for _, id := range c.Identities {
		v.look.Owners[id] = c.ID
	}
}

// org returns the id of the organization named name, creating it (through
// the domain rules) when there is none.
func (v *resolver) org(name string) (string, string) {
	if id, ok := v.look.Orgs[name]; ok {
		return id, ""
	}
	if id, ok := v.orgs[name]; ok {
		return id, ""
	}
	if v.r.dry != nil {
		if id, ok := v.r.dry.orgs[name]; ok {
			return id, ""
		}
	}
	now := time.Now().UTC()
	o := &customer.Customer{ID: customer.NewID(), CreatedAt: now, UpdatedAt: now, Version: 1, Attributes: map[string]any{},
		Tags: []string{}, Identities: []customer.Identity{}, Memberships: []customer.Membership{}}
	kind := customer.Organization
	if err := v.r.opt.Rules.Apply(o, customer.Input{Kind: &kind, Name: &name}, true); err != nil {
		return "", "company: " + reasonOf(err, nil)
	}
	v.orgs[name] = o.ID
	v.d.orgs++
	v.create(o, store.ImportNew{})
	return o.ID, ""
}

func (r *run) decide(rows []prepared, look store.ImportLookup) *decision {
	d := r.newDecision()
	v := &resolver{r: r, look: look, targets: map[string]*target{}, orgs: map[string]string{}, seen: map[string]bool{}, d: d}
	for i := range rows {
		p := &rows[i]
		if p.reason != "" {
			d.reject(p, p.reason)
			continue
		}
		switch r.opt.Kind {
		case Customers:
			v.customerRow(p)
		case Interactions:
			v.interactionRow(p)
		}
	}
	for _, id := range v.order {
		t := v.targets[id]
		d.touched = append(d.touched, t.after)
		if t.before == nil {
			n := t.built
			if n.Customer == nil {
				n = store.ImportNew{Customer: t.after}
			}
			d.w.Create = append(d.w.Create, n)
			continue
		}
		if len(store.CustomerChanges(*t.before, *t.after)) > 0 {
			d.w.Update = append(d.w.Update, store.ImportUpdate{Before: *t.before, After: *t.after})
		}
	}
	return d
}

// conflict explains a row whose identities belong to different customers.
func (v *resolver) conflict(owners []string, via []customer.Identity) string {
	parts := make([]string, len(owners))
	for i, o := range owners {
		name := ""
		if c := v.look.Customers[o]; c != nil {
			name = " " + strconv.Quote(c.Name)
		} else if t, ok := v.targets[o]; ok {
			name = " " + strconv.Quote(t.after.Name)
		}
		parts[i] = fmt.Sprintf("customer %s%s (by %s %s)", o, name, via[i].Type, via[i].Value)
	}
	return "its identities belong to different customers: " + strings.Join(parts, " and ") +
		"; merge them or correct the row / 该行的标识属于不同的客户，请先合并或更正"
}

func cloneCustomer(c customer.Customer) customer.Customer {
	out := c
	out.Identities = slices.Clone(c.Identities)
	out.Tags = slices.Clone(c.Tags)
	out.Memberships = slices.Clone(c.Memberships)
	out.Attributes = make(map[string]any, len(c.Attributes))
	for k, val := range c.Attributes {
		out.Attributes[k] = val
	}
	return out
}
