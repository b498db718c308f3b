package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/textcheck"
)

// RestoreWindow is how long a deleted customer can be restored.
const RestoreWindow = 30 * 24 * time.Hour

// CreateCustomers stores new, already validated customers in one
// transaction: all of them or none. Their ids and timestamps must be set.
// It works set-wise (multi-row inserts per chunk), so a batch costs a few
// statements, not a few per customer.
//
// Identities taken by stored customers are not looked up first: the
// identities key refuses them, and only then (the transaction rolled back)
// is the clash looked up to say which identity belongs to whom. A lookup
// per identity beforehand doubled the index work of every batch.
func (s *Store) CreateCustomers(ctx context.Context, a Actor, cs []*customer.Customer) error {
	owner := map[customer.Identity]int{} // an identity twice in the batch
	for i, c := range cs {
		for j, id := range c.Identities {
			if k, dup := owner[id]; dup && k != i {
				return wrap("create customers", identityConflict(len(cs), i, j, id, cs[k].ID))
			}
			owner[id] = i
		}
	}
	err := s.tx(ctx, func(tx *Tx) error {
		for start := 0; start < len(cs); start += 1000 {
			if err := s.createChunk(ctx, tx, a, cs, start, min(start+1000, len(cs))); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errIdentityTaken) {
		err = s.identityClash(ctx, cs)
	}
	if err != nil {
		return wrap("create customers", err)
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	s.changed(ctx, ids...)
	return nil
}

// errIdentityTaken says the identities key refused a new customer's
// identity: a stored customer has it.
var errIdentityTaken = errors.New("store: an identity belongs to a stored customer")

// identityClash finds which identity of cs a stored customer owns, for the
// conflict error, looked up per type and source (an index probe per value
// on both engines; PostgreSQL plans a tuple IN (VALUES …) list over
// millions of identities as a scan).
func (s *Store) identityClash(ctx context.Context, cs []*customer.Customer) error {
	type ns struct{ typ, source string }
	type at struct{ i, j int }
	where := map[customer.Identity]at{}
	values := map[ns][]string{}
	for i, c := range cs {
		for j, id := range c.Identities {
			where[id] = at{i, j}
			values[ns{id.Type, id.Source}] = append(values[ns{id.Type, id.Source}], id.Value)
		}
	}
	for k, vs := range values {
		for start := 0; start < len(vs); start += 5000 {
			rows, err := s.queryKeys(ctx, s.read, identityOwnersQuery,
				[]any{k.typ, k.source}, vs[start:min(start+5000, len(vs))])
			if err != nil {
				return err
			}
			found := false
			var id customer.Identity
			var owner string
			if rows.Next() {
				id = customer.Identity{Type: k.typ, Source: k.source}
				found = rows.Scan(&id.Value, &owner) == nil
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if found {
				w := where[id]
				return identityConflict(len(cs), w.i, w.j, id, owner)
			}
		}
	}
	// Gone by now (deleted meanwhile): still a conflict, worth a retry.
	return errs.E(errs.Conflict, "an identity of this batch belonged to another customer; retry")
}

func (s *Store) createChunk(ctx context.Context, tx *Tx, a Actor, all []*customer.Customer, lo, hi int) error {
	cs := all[lo:hi]
	// Memberships must point at live organizations (stored, or earlier in this batch).
	var orgArgs []any
	batchKind := map[string]customer.Kind{}
	for _, c := range all[:hi] {
		batchKind[c.ID] = c.Kind
	}
	for _, c := range cs {
		for _, m := range c.Memberships {
			if _, ok := batchKind[m.OrganizationID]; !ok {
				orgArgs = append(orgArgs, m.OrganizationID)
			}
		}
	}
	if len(orgArgs) > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT id, kind FROM customers WHERE deleted_at IS NULL AND id IN (`+placeholders(1, len(orgArgs))+`)`, orgArgs...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, kind string
			if err := rows.Scan(&id, &kind); err != nil {
				rows.Close()
				return err
			}
			batchKind[id] = customer.Kind(kind)
		}
		rows.Close()
	}
	var crow, irow, mrow, arow [][]any
	now := ts(time.Now())
	for i, c := range cs {
		for j, m := range c.Memberships {
			if batchKind[m.OrganizationID] != customer.Organization {
				return indexed(errs.Validation(errs.FieldError{Field: fmt.Sprintf("body.memberships[%d].organization_id", j),
					Message: "is not an existing organization", Value: m.OrganizationID}), len(all), lo+i)
			}
			mrow = append(mrow, []any{c.ID, m.OrganizationID, m.Role, ts(c.UpdatedAt)})
		}
		crow = append(crow, []any{c.ID, string(c.Kind), c.Name, customer.SortKey(c.Name), jsonText(c.Attributes, "{}"), jsonText(c.Tags, "[]"),
			nullString(c.OwnerID), ts(c.CreatedAt), ts(c.UpdatedAt), c.Version, customer.SearchText(c.Name, c.Identities)})
		for _, id := range c.Identities {
			irow = append(irow, []any{id.Type, id.Source, id.Value, c.ID, ts(c.CreatedAt)})
		}
		arow = append(arow, []any{now, a.ID, a.Kind, "create", "customer", c.ID, c.ID, jsonText(diff(nil, c), "{}")})
	}
	if err := insertRows(ctx, tx, "customers", []string{"id", "kind", "name", "sort_key", "attributes", "tags", "owner_id", "created_at", "updated_at", "version", "search"}, crow); err != nil {
		if isUniqueViolation(err) {
			return errs.E(errs.Conflict, "a customer with one of these ids already exists")
		}
		return err
	}
	if err := insertRows(ctx, tx, "identities", []string{"type", "source", "value", "customer_id", "created_at"}, irow); err != nil {
		if isUniqueViolation(err) {
			return errIdentityTaken
		}
		return err
	}
	if err := insertRows(ctx, tx, "memberships", []string{"person_id", "organization_id", "role", "created_at"}, mrow); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, "audit", []string{"at", "actor_id", "actor_kind", "action", "entity", "entity_id", "customer_id", "changes"}, arow); err != nil {
		return err
	}
	var tagged []any
	for _, c := range cs {
		if len(c.Tags) > 0 {
			tagged = append(tagged, c.ID)
		}
	}
	if len(tagged) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO customer_tags (tag, customer_seq)
		SELECT DISTINCT t.value, c.seq FROM customers c, `+jsonEach(s.dialect, "c.tags")+`
		WHERE c.id IN (`+placeholders(1, len(tagged))+`)`, tagged...)
	return err
}

func identityConflict(n, i, j int, id customer.Identity, owner string) error {
	return indexed(&errs.Error{Kind: errs.Conflict, Message: "identity belongs to another customer",
		Fields: []errs.FieldError{{Field: fmt.Sprintf("body.identities[%d].value", j),
			Message: fmt.Sprintf("%s %s already identifies customer %s", id.Type, id.Value, owner), Value: id.Value}}}, n, i)
}

// tuples returns "($1, $2, $3), ($4, $5, $6), …" for n rows of width w.
func tuples(n, w int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + placeholders(i*w+1, w) + ")")
	}
	return b.String()
}

// indexed prefixes field locations with the item index in a batch.
func indexed(err error, n, i int) error {
	var e *errs.Error
	if n == 1 || !errors.As(err, &e) {
		return err
	}
	out := &errs.Error{Kind: e.Kind, Message: fmt.Sprintf("item %d: %s", i, e.Message)}
	for _, f := range e.Fields {
		f.Field = strings.Replace(f.Field, "body.", fmt.Sprintf("body.items[%d].", i), 1)
		out.Fields = append(out.Fields, f)
	}
	return out
}

// wrap adds context to unexpected errors and passes application errors
// through untouched, so their kind and message reach the caller.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func (s *Store) insertCustomer(ctx context.Context, tx *Tx, c *customer.Customer) error {
	attrs, tags := jsonText(c.Attributes, "{}"), jsonText(c.Tags, "[]")
	var seq int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO customers (id, kind, name, sort_key, attributes, tags, owner_id, created_at, updated_at, version, search)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq`,
		c.ID, string(c.Kind), c.Name, customer.SortKey(c.Name), attrs, tags, nullString(c.OwnerID),
		ts(c.CreatedAt), ts(c.UpdatedAt), c.Version, customer.SearchText(c.Name, c.Identities)).Scan(&seq)
	if isUniqueViolation(err) {
		return errs.E(errs.Conflict, "customer %s already exists", c.ID)
	}
	if err != nil {
		return err
	}
	if err := s.insertIdentities(ctx, tx, c.ID, c.Identities, c.CreatedAt); err != nil {
		return err
	}
	if err := insertTags(ctx, tx, seq, c.Tags); err != nil {
		return err
	}
	return s.insertMemberships(ctx, tx, c)
}

func (s *Store) insertIdentities(ctx context.Context, tx *Tx, customerID string, ids []customer.Identity, at time.Time) error {
	for i, id := range ids {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT customer_id FROM identities WHERE type = $1 AND source = $2 AND value = $3`,
			id.Type, id.Source, id.Value).Scan(&owner)
		switch {
		case err == nil && owner != customerID:
			return &errs.Error{Kind: errs.Conflict, Message: "identity belongs to another customer",
				Fields: []errs.FieldError{{Field: fmt.Sprintf("body.identities[%d].value", i),
					Message: fmt.Sprintf("%s %s already identifies customer %s", id.Type, id.Value, owner), Value: id.Value}}}
		case err == nil:
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO identities (type, source, value, customer_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id.Type, id.Source, id.Value, customerID, ts(at)); err != nil {
			return err
		}
	}
	return nil
}

func insertTags(ctx context.Context, tx *Tx, seq int64, tags []string) error {
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_tags (tag, customer_seq) VALUES ($1, $2)`, t, seq); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) insertMemberships(ctx context.Context, tx *Tx, c *customer.Customer) error {
	for i, m := range c.Memberships {
		var kind string
		err := tx.QueryRowContext(ctx, `SELECT kind FROM customers WHERE id = $1 AND deleted_at IS NULL`, m.OrganizationID).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != string(customer.Organization)) {
			return errs.Validation(errs.FieldError{Field: fmt.Sprintf("body.memberships[%d].organization_id", i),
				Message: "is not an existing organization", Value: m.OrganizationID})
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO memberships (person_id, organization_id, role, created_at) VALUES ($1, $2, $3, $4)`,
			c.ID, m.OrganizationID, m.Role, ts(c.UpdatedAt)); err != nil {
			return err
		}
	}
	return nil
}

func jsonText(v any, empty string) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return empty
	}
	return string(b)
}

const customerColumns = `c.seq, c.id, c.kind, c.name, c.attributes, c.tags, c.owner_id, c.created_at, c.updated_at, c.deleted_at, c.version,
	COALESCE(st.orders, 0), COALESCE(st.revenue, 0), st.first_order_at, st.last_order_at, st.first_seen, st.last_seen, COALESCE(st.interactions, 0)`

const customerFrom = ` FROM customers c LEFT JOIN customer_stats st ON st.customer_id = c.id`

func scanCustomer(row interface{ Scan(...any) error }) (customer.Customer, int64, error) {
	var c customer.Customer
	var seq int64
	var kind string
	var attrs, tags []byte
	var owner sql.NullString
	var created, updated, deleted, fo, lo, fs, ls dbTime
	err := row.Scan(&seq, &c.ID, &kind, &c.Name, &attrs, &tags, &owner, &created, &updated, &deleted, &c.Version,
		&c.Stats.Orders, &c.Stats.Revenue, &fo, &lo, &fs, &ls, &c.Stats.Interactions)
	if err != nil {
		return c, 0, err
	}
	c.Kind, c.OwnerID = customer.Kind(kind), owner.String
	c.CreatedAt, c.UpdatedAt, c.DeletedAt = created.Time, updated.Time, deleted.ptr()
	c.Stats.FirstOrderAt, c.Stats.LastOrderAt, c.Stats.FirstSeen, c.Stats.LastSeen = fo.ptr(), lo.ptr(), fs.ptr(), ls.ptr()
	if err := json.Unmarshal(attrs, &c.Attributes); err != nil {
		return c, 0, fmt.Errorf("customer %s attributes: %w", c.ID, err)
	}
	if err := json.Unmarshal(tags, &c.Tags); err != nil {
		return c, 0, fmt.Errorf("customer %s tags: %w", c.ID, err)
	}
	return c, seq, nil
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Customer returns one customer with identities and memberships. Deleted
// customers are found too (DeletedAt is set); callers decide what to show.
func (s *Store) Customer(ctx context.Context, id string) (customer.Customer, error) {
	c, err := s.customer(ctx, s.read, id)
	if err != nil {
		return c, wrap("get customer", err)
	}
	return c, nil
}

// customer reads one customer with its identities, memberships, stats and
// scores in one statement: a read is one SQLite step loop (one WAL read
// lock) or one PostgreSQL round trip instead of five.
func (s *Store) customer(ctx context.Context, q querier, id string) (customer.Customer, error) {
	var c customer.Customer
	var kind string
	var attrs, tags, ids, members []byte
	var owner sql.NullString
	var created, updated, deleted dbTime
	var scored bool
	var sc customer.Scores
	var clv, palive, churn sql.NullFloat64
	var next, scoredAt dbTime
	st, err := scanStats(q.QueryRowContext(ctx, s.customerQuery(), id), []any{&c.ID, &kind, &c.Name, &attrs, &tags, &owner, &created, &updated,
		&deleted, &c.Version, &scored, &sc.Tier, &sc.RFMSegment, &sc.R, &sc.F, &sc.M, &clv, &palive, &next, &churn, &scoredAt, &ids, &members}, time.Now())
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.E(errs.NotFound, "customer %s not found", id)
	}
	if err != nil {
		return c, err
	}
	c.Stats = st
	c.Kind, c.OwnerID = customer.Kind(kind), owner.String
	c.CreatedAt, c.UpdatedAt, c.DeletedAt = created.Time, updated.Time, deleted.ptr()
	if err := json.Unmarshal(attrs, &c.Attributes); err != nil {
		return c, fmt.Errorf("customer %s attributes: %w", c.ID, err)
	}
	if err := json.Unmarshal(tags, &c.Tags); err != nil {
		return c, fmt.Errorf("customer %s tags: %w", c.ID, err)
	}
	if scored {
		sc.CLV, sc.PAlive, sc.ChurnRisk = nullFloat(clv), nullFloat(palive), nullFloat(churn)
		sc.ExpectedNextPurchase, sc.UpdatedAt = next.ptr(), scoredAt.Time
		c.Scores = &sc
	}
	if c.Identities, err = decodeIdentities(ids); err != nil {
		return c, fmt.Errorf("customer %s identities: %w", c.ID, err)
	}
	if c.Memberships, err = decodeMemberships(members); err != nil {
		return c, fmt.Errorf("customer %s memberships: %w", c.ID, err)
	}
	return c, nil
}

// customerQuery is the one-customer read: identities and memberships come
// as JSON arrays of arrays, aggregated by the engine's JSON functions.
func (s *Store) customerQuery() string {
	agg, arr, empty := "json_group_array", "json_array", "'[]'"
	if s.dialect == Postgres {
		agg, arr, empty = "json_agg", "json_build_array", "'[]'::json"
	}
	return `SELECT ` + statsColumns + `, c.id, c.kind, c.name, c.attributes, c.tags, c.owner_id, c.created_at, c.updated_at, c.deleted_at, c.version,
		sc.customer_id IS NOT NULL, COALESCE(sc.tier, ''), COALESCE(sc.rfm_segment, ''), COALESCE(sc.r, 0), COALESCE(sc.f, 0), COALESCE(sc.m, 0),
		sc.clv, sc.p_alive, sc.expected_next_purchase, sc.churn_risk, sc.updated_at,
		COALESCE((SELECT ` + agg + `(` + arr + `(i.type, i.source, i.value, i.created_at)) FROM identities i WHERE i.customer_id = c.id), ` + empty + `),
		COALESCE((SELECT ` + agg + `(` + arr + `(m.person_id, m.organization_id, m.role)) FROM memberships m
			WHERE m.person_id = c.id OR m.organization_id = c.id), ` + empty + `)
		FROM customers c LEFT JOIN customer_stats st ON st.customer_id = c.id LEFT JOIN customer_scores sc ON sc.customer_id = c.id
		WHERE c.id = $1`
}

// decodeIdentities reads [[type, source, value, created_at], …] in the
// order fillIdentities gives: oldest first, then by type and value.
func decodeIdentities(b []byte) ([]customer.Identity, error) {
	var rows [][4]string
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, err
	}
	type found struct {
		id customer.Identity
		at time.Time
	}
	all := make([]found, len(rows))
	for i, r := range rows {
		var at dbTime
		if err := at.parse(r[3]); err != nil {
			return nil, err
		}
		all[i] = found{customer.Identity{Type: r[0], Source: r[1], Value: r[2]}, at.Time}
	}
	slices.SortFunc(all, func(a, b found) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.id.Type, b.id.Type), cmp.Compare(a.id.Value, b.id.Value))
	})
	out := make([]customer.Identity, len(all))
	for i, f := range all {
		out[i] = f.id
	}
	return out, nil
}

// decodeMemberships reads [[person_id, organization_id, role], …], sorted
// as fillMemberships sorts.
func decodeMemberships(b []byte) ([]customer.Membership, error) {
	var rows [][3]string
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, err
	}
	out := make([]customer.Membership, len(rows))
	for i, r := range rows {
		out[i] = customer.Membership{PersonID: r[0], OrganizationID: r[1], Role: r[2]}
	}
	slices.SortFunc(out, func(a, b customer.Membership) int {
		return cmp.Or(cmp.Compare(a.PersonID, b.PersonID), cmp.Compare(a.OrganizationID, b.OrganizationID))
	})
	return out, nil
}

func placeholders(start, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(start+i))
	}
	return b.String()
}

func idsOf(cs []*customer.Customer) ([]any, map[string]*customer.Customer) {
	args := make([]any, len(cs))
	byID := make(map[string]*customer.Customer, len(cs))
	for i, c := range cs {
		args[i] = c.ID
		byID[c.ID] = c
	}
	return args, byID
}

func (s *Store) fillIdentities(ctx context.Context, q querier, cs []*customer.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	args, byID := idsOf(cs)
	for _, c := range cs {
		c.Identities = []customer.Identity{}
	}
	// Sorted here, not by ORDER BY: with an ORDER BY and stale statistics,
	// PostgreSQL's generic plan for the prepared statement sorts with
	// parallel workers, which costs 100+ ms per page on a busy server.
	rows, err := q.QueryContext(ctx, `SELECT customer_id, type, source, value, created_at FROM identities
		WHERE customer_id IN (`+placeholders(1, len(args))+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	type found struct {
		cid string
		id  customer.Identity
		at  time.Time
	}
	var all []found
	for rows.Next() {
		var f found
		var at dbTime
		if err := rows.Scan(&f.cid, &f.id.Type, &f.id.Source, &f.id.Value, &at); err != nil {
			return err
		}
		f.at = at.Time
		all = append(all, f)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b found) int {
		return cmp.Or(cmp.Compare(a.cid, b.cid), a.at.Compare(b.at), cmp.Compare(a.id.Type, b.id.Type), cmp.Compare(a.id.Value, b.id.Value))
	})
	for _, f := range all {
		byID[f.cid].Identities = append(byID[f.cid].Identities, f.id)
	}
	return nil
}

func (s *Store) fillMemberships(ctx context.Context, q querier, cs []*customer.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	args, byID := idsOf(cs)
	for _, c := range cs {
		c.Memberships = []customer.Membership{}
	}
	in := placeholders(1, len(cs))
	rows, err := q.QueryContext(ctx, `SELECT person_id, organization_id, role FROM memberships
		WHERE person_id IN (`+in+`) OR organization_id IN (`+in+`)`, args...) // sorted below, as identities are
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m customer.Membership
		if err := rows.Scan(&m.PersonID, &m.OrganizationID, &m.Role); err != nil {
			return err
		}
		if c, ok := byID[m.PersonID]; ok {
			c.Memberships = append(c.Memberships, m)
		}
		if c, ok := byID[m.OrganizationID]; ok && m.PersonID != m.OrganizationID {
			c.Memberships = append(c.Memberships, m)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cs {
		slices.SortFunc(c.Memberships, func(a, b customer.Membership) int {
			return cmp.Or(cmp.Compare(a.PersonID, b.PersonID), cmp.Compare(a.OrganizationID, b.OrganizationID))
		})
	}
	return nil
}

// UpdateCustomer applies change to the current record of a customer inside
// a write transaction. The write happens only when the stored version is
// still ifVersion (optimistic locking: a stale writer gets
// PreconditionFailed, so no update is lost). change validates and mutates.
func (s *Store) UpdateCustomer(ctx context.Context, a Actor, id string, ifVersion int64, change func(c *customer.Customer) error) (customer.Customer, error) {
	var out customer.Customer
	err := s.tx(ctx, func(tx *Tx) error {
		before, err := s.customer(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.DeletedAt != nil {
			return errs.E(errs.NotFound, "customer %s is deleted", id)
		}
		if before.Version != ifVersion {
			return errs.E(errs.PreconditionFailed, "customer %s has changed (version %d, you sent %d); reload and retry", id, before.Version, ifVersion)
		}
		after := cloneCustomer(before)
		if err := change(&after); err != nil {
			return err
		}
		after.Version = before.Version + 1
		after.UpdatedAt = time.Now().UTC()
		res, err := tx.ExecContext(ctx, `
			UPDATE customers SET kind = $1, name = $2, sort_key = $3, attributes = $4, tags = $5, owner_id = $6,
				updated_at = $7, version = $8, search = $9
			WHERE id = $10 AND version = $11`,
			string(after.Kind), after.Name, customer.SortKey(after.Name), jsonText(after.Attributes, "{}"), jsonText(after.Tags, "[]"),
			nullString(after.OwnerID), ts(after.UpdatedAt), after.Version, customer.SearchText(after.Name, after.Identities), id, ifVersion)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.PreconditionFailed, "customer %s has changed; reload and retry", id)
		}
		if !slices.Equal(before.Identities, after.Identities) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE customer_id = $1`, id); err != nil {
				return err
			}
			if err := s.insertIdentities(ctx, tx, id, after.Identities, after.UpdatedAt); err != nil {
				return err
			}
		}
		if !slices.Equal(before.Tags, after.Tags) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM customer_tags WHERE customer_seq = (SELECT seq FROM customers WHERE id = $1)`, id); err != nil {
				return err
			}
			var seq int64
			if err := tx.QueryRowContext(ctx, `SELECT seq FROM customers WHERE id = $1`, id).Scan(&seq); err != nil {
				return err
			}
			if err := insertTags(ctx, tx, seq, after.Tags); err != nil {
				return err
			}
		}
		if !reflect.DeepEqual(ownMemberships(before), ownMemberships(after)) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE person_id = $1`, id); err != nil {
				return err
			}
			after.Memberships = ownMemberships(after)
			if err := s.insertMemberships(ctx, tx, &after); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, a, "update", "customer", id, id, diff(&before, &after)); err != nil {
			return err
		}
		out, err = s.customer(ctx, tx, id)
		return err
	})
	if err != nil {
		return out, wrap("update customer", err)
	}
	s.changed(ctx, id)
	return out, nil
}

// ownMemberships are the memberships where c is the person; the ones where
// c is the organization are edited from the person's side.
func ownMemberships(c customer.Customer) []customer.Membership {
	var out []customer.Membership
	for _, m := range c.Memberships {
		if m.PersonID == c.ID || m.PersonID == "" {
			m.PersonID = c.ID
			out = append(out, m)
		}
	}
	return out
}

func cloneCustomer(c customer.Customer) customer.Customer {
	out := c
	out.Identities = slices.Clone(c.Identities)
	out.Tags = slices.Clone(c.Tags)
	out.Memberships = slices.Clone(c.Memberships)
	out.Attributes = make(map[string]any, len(c.Attributes))
	for k, v := range c.Attributes {
		out.Attributes[k] = v
	}
	return out
}

// diff lists the fields that changed, as {"field": {"before": …, "after": …}}.
func diff(before, after *customer.Customer) map[string]map[string]any {
	out := map[string]map[string]any{}
	add := func(name string, b, a any, bz, az bool) {
		if bz && az {
			return
		}
		if !bz && !az && reflect.DeepEqual(b, a) {
			return
		}
		e := map[string]any{}
		if !bz {
			e["before"] = b
		}
		if !az {
			e["after"] = a
		}
		out[name] = e
	}
	var b customer.Customer
	if before != nil {
		b = *before
	}
	a := *after
	add("kind", b.Kind, a.Kind, b.Kind == "", a.Kind == "")
	add("name", b.Name, a.Name, b.Name == "", a.Name == "")
	add("owner_id", b.OwnerID, a.OwnerID, b.OwnerID == "", a.OwnerID == "")
	add("identities", b.Identities, a.Identities, len(b.Identities) == 0, len(a.Identities) == 0)
	add("tags", b.Tags, a.Tags, len(b.Tags) == 0, len(a.Tags) == 0)
	add("memberships", ownMemberships(b), ownMemberships(a), len(ownMemberships(b)) == 0, len(ownMemberships(a)) == 0)
	keys := map[string]bool{}
	for k := range b.Attributes {
		keys[k] = true
	}
	for k := range a.Attributes {
		keys[k] = true
	}
	for k := range keys {
		bv, bok := b.Attributes[k]
		av, aok := a.Attributes[k]
		add("attributes."+k, bv, av, !bok, !aok)
	}
	if before != nil && (b.DeletedAt == nil) != (a.DeletedAt == nil) {
		add("deleted_at", b.DeletedAt, a.DeletedAt, b.DeletedAt == nil, a.DeletedAt == nil)
	}
	return out
}

// DeleteCustomer soft-deletes a customer; it can be restored within
// RestoreWindow.
func (s *Store) DeleteCustomer(ctx context.Context, a Actor, id string) error {
	err := s.tx(ctx, func(tx *Tx) error {
		before, err := s.customer(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.DeletedAt != nil {
			return errs.E(errs.NotFound, "customer %s is already deleted", id)
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET deleted_at = $1, updated_at = $1, version = version + 1 WHERE id = $2`, ts(now), id); err != nil {
			return err
		}
		after := before
		after.DeletedAt = &now
		return s.audit(ctx, tx, a, "delete", "customer", id, id, diff(&before, &after))
	})
	if err == nil {
		s.changed(ctx, id)
	}
	return wrap("delete customer", err)
}

// RestoreCustomer undoes a soft delete made within RestoreWindow.
func (s *Store) RestoreCustomer(ctx context.Context, a Actor, id string) (customer.Customer, error) {
	var out customer.Customer
	err := s.tx(ctx, func(tx *Tx) error {
		before, err := s.customer(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.DeletedAt == nil {
			return errs.E(errs.Conflict, "customer %s is not deleted", id)
		}
		if time.Since(*before.DeletedAt) > RestoreWindow {
			return errs.E(errs.NotFound, "customer %s was deleted more than 30 days ago and cannot be restored", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET deleted_at = NULL, updated_at = $1, version = version + 1 WHERE id = $2`, ts(time.Now()), id); err != nil {
			return err
		}
		after := before
		after.DeletedAt = nil
		if err := s.audit(ctx, tx, a, "restore", "customer", id, id, diff(&before, &after)); err != nil {
			return err
		}
		out, err = s.customer(ctx, tx, id)
		return err
	})
	if err == nil {
		s.changed(ctx, id)
	}
	return out, wrap("restore customer", err)
}

// PurgeDeleted removes customers deleted longer ago than RestoreWindow,
// with everything that belongs to them, and returns how many it removed.
func (s *Store) PurgeDeleted(ctx context.Context, now time.Time) (int, error) {
	cutoff := ts(now.Add(-RestoreWindow))
	n := 0
	err := s.tx(ctx, func(tx *Tx) error {
		for _, q := range []string{
			`DELETE FROM identities WHERE customer_id IN (SELECT id FROM customers WHERE deleted_at < $1)`,
			`DELETE FROM customer_tags WHERE customer_seq IN (SELECT seq FROM customers WHERE deleted_at < $1)`,
			`DELETE FROM memberships WHERE person_id IN (SELECT id FROM customers WHERE deleted_at < $1) OR organization_id IN (SELECT id FROM customers WHERE deleted_at < $1)`,
			`DELETE FROM notes WHERE customer_id IN (SELECT id FROM customers WHERE deleted_at < $1)`,
			`DELETE FROM interactions WHERE customer_id IN (SELECT id FROM customers WHERE deleted_at < $1)`,
			`DELETE FROM order_items WHERE customer_id IN (SELECT id FROM customers WHERE deleted_at < $1)`,
			`DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE deleted_at < $1)`,
			`DELETE FROM customer_stats WHERE customer_id IN (SELECT id FROM customers WHERE deleted_at < $1)`,
		} {
			if _, err := tx.ExecContext(ctx, q, cutoff); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM customers WHERE deleted_at < $1`, cutoff)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n = int(m)
		return nil
	})
	return n, wrap("purge deleted customers", err)
}

// Filter selects customers for a list.
type Filter struct {
	Q       string            // substring of name, pinyin or an identity
	Kind    string            // person or organization
	Tag     string            // has this tag
	OwnerID string            // owned by this user
	Attrs   map[string]string // attribute equals (compared as text)
	Sort    string            // "" (newest first by creation order) or "name"
	Cursor  string            // opaque, from a previous page
	Limit   int
}

// Page is one page of customers.
type Page struct {
	Items      []customer.Customer
	NextCursor string
}

type cursor struct {
	Seq  int64  `json:"s"`
	Name string `json:"n,omitempty"`
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil {
		err = textcheck.String(c.Name) // a forged one: no stored name holds these
	}
	if err != nil {
		return c, errs.Validation(errs.FieldError{Field: "query.cursor", Message: "is not a cursor this server issued", Value: s})
	}
	return c, nil
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // a two-field struct always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// likePattern escapes q for a LIKE '%q%' match.
func likePattern(q string) string {
	return "%" + likeEscaper.Replace(q) + "%"
}

// ListCustomers returns a page of live customers matching f.
func (s *Store) ListCustomers(ctx context.Context, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	cur, err := decodeCursor(f.Cursor)
	if err != nil {
		return Page{}, err
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	from := customerFrom
	order := ` ORDER BY c.seq DESC`
	cursorCol := "c.seq"
	if q := customer.SearchQuery(f.Q); q != "" {
		sr := s.searchFor(q, arg) // search.go
		if sr.from != "" {
			from = sr.from
		}
		if sr.order != "" {
			order, cursorCol = sr.order, sr.cursor
		}
		where = append(where, sr.where...)
	}
	where = append(where, `c.deleted_at IS NULL`)
	if f.Kind != "" {
		where = append(where, `c.kind = `+arg(f.Kind))
	}
	if f.OwnerID != "" {
		where = append(where, `c.owner_id = `+arg(f.OwnerID))
	}
	if f.Tag != "" {
		where = append(where, `EXISTS (SELECT 1 FROM customer_tags t WHERE t.tag = `+arg(f.Tag)+` AND t.customer_seq = c.seq)`)
	}
	for k, v := range f.Attrs {
		where = append(where, s.attrText("c.attributes", arg(k))+` = `+arg(v))
	}
	if f.Sort == "name" {
		order = ` ORDER BY c.sort_key, c.seq`
		if f.Cursor != "" {
			where = append(where, `(c.sort_key > `+arg(cur.Name)+` OR (c.sort_key = `+arg(cur.Name)+` AND c.seq > `+arg(cur.Seq)+`))`)
		}
	} else if f.Cursor != "" {
		where = append(where, cursorCol+` < `+arg(cur.Seq))
	}
	var page Page
	if s.dialect == Postgres && customer.SearchQuery(f.Q) != "" && f.Sort != "name" {
		page, err = s.listSearchPostgres(ctx, where, args, f, cur) // search.go
	} else {
		query := `SELECT ` + customerColumns + `, c.sort_key` + from + ` WHERE ` + strings.Join(where, " AND ") + order + ` LIMIT ` + arg(f.Limit+1)
		page, err = s.listPage(ctx, query, args, f)
	}
	if err != nil {
		return Page{}, fmt.Errorf("store: list customers: %w", err)
	}
	ptrs := make([]*customer.Customer, len(page.Items))
	for i := range page.Items {
		ptrs[i] = &page.Items[i]
	}
	if err := s.fillIdentities(ctx, s.read, ptrs); err != nil {
		return Page{}, fmt.Errorf("store: list customers: %w", err)
	}
	if err := s.fillScores(ctx, s.read, ptrs); err != nil {
		return Page{}, fmt.Errorf("store: list customers: %w", err)
	}
	if page.Items == nil {
		page.Items = []customer.Customer{}
	}
	return page, nil
}

// listPage reads one page of customer rows. It closes its rows before
// returning so the caller can run follow-up queries without holding two
// pooled connections at once (which deadlocks a saturated pool).
func (s *Store) listPage(ctx context.Context, query string, args []any, f Filter) (Page, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	var page Page
	var last cursor
	for rows.Next() {
		if len(page.Items) == f.Limit {
			page.NextCursor = encodeCursor(last)
			break
		}
		var sortKey string
		c, seq, err := scanCustomerWith(rows, &sortKey)
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, c)
		last = cursor{Seq: seq}
		if f.Sort == "name" {
			last.Name = sortKey
		}
	}
	return page, rows.Err()
}

// scanCustomerWith scans a customer row followed by extra columns.
func scanCustomerWith(rows *sql.Rows, extra ...any) (customer.Customer, int64, error) {
	var seq int64
	var c customer.Customer
	err := func() error {
		var err error
		c, seq, err = scanCustomer(scanner{rows, extra})
		return err
	}()
	return c, seq, err
}

// scanner appends extra destinations to a row scan.
type scanner struct {
	rows  *sql.Rows
	extra []any
}

func (s scanner) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra...)...) }

// attrText is the dialect seam for reading one custom attribute as text.
func (s *Store) attrText(col, keyParam string) string {
	if s.dialect == Postgres {
		return col + ` ->> ` + keyParam
	}
	return `CAST(json_extract(` + col + `, '$."' || ` + keyParam + ` || '"') AS TEXT)`
}
