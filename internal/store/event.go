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
	"github.com/rapportcrm/rapport/internal/identity"
)

// Event is one tracking message ready to store: validated, its timestamp
// corrected, its identities normalized.
type Event struct {
	SourceID   string
	Source     string // the source's name: the channel, and the namespace of its user ids
	MessageID  string
	Type       string // identify, track, page, screen, group, alias
	Name       string // the event name, page or screen name, group id or previous id
	At         time.Time
	ReceivedAt time.Time
	Payload    []byte // the message as received (JSON)
	// Claims are the identities the message carries (Owner left empty).
	Claims []identity.Claim
	// ProfileName is traits.name, given to a profile that has no name yet.
	ProfileName string
	// Order is set for "Order Completed" (its CustomerID is filled in by
	// resolution); Refund for "Order Refunded".
	Order  *customer.Order
	Refund *Refund
}

// IngestResult counts what IngestEvents did.
type IngestResult struct {
	Stored     int `json:"stored"`
	Duplicates int `json:"duplicates"` // messageIds already stored for their source
	Customers  int `json:"customers"`  // profiles created
	Merges     int `json:"merges"`
}

// IdentityRules returns the workspace's identity rules (the defaults until
// someone sets them).
func (s *Store) IdentityRules(ctx context.Context) (identity.Rules, error) {
	return identityRules(ctx, s.read)
}

func identityRules(ctx context.Context, q querier) (identity.Rules, error) {
	r := identity.DefaultRules()
	var raw string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, identity.SettingKey).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return r, fmt.Errorf("decode %s: %w", identity.SettingKey, err)
	}
	return r, nil
}

// IngestEvents stores a batch of tracking messages in one transaction:
// messages whose (source, messageId) is already stored are skipped, every
// other one resolves to exactly one customer (creating, extending or
// merging profiles by the workspace's identity rules), and the touched
// customers' stats, orders and refunds are updated in the same
// transaction. When it returns nil, everything is committed.
func (s *Store) IngestEvents(ctx context.Context, evs []Event) (IngestResult, error) {
	var in *ingestion
	err := s.tx(ctx, func(tx *Tx) error {
		in = &ingestion{s: s, tx: tx}
		return in.run(ctx, evs)
	})
	if err != nil {
		return IngestResult{}, wrap("ingest events", err)
	}
	s.changed(ctx, sortedKeys(in.touched)...)
	return in.res, nil
}

// Resolve finds the one customer these identities belong to under the
// workspace's identity rules — creating it, attaching unowned identities
// or merging profiles the identities link, all recorded — and returns its
// id. It is how API writes that name a customer by identity resolve.
func (s *Store) Resolve(ctx context.Context, a Actor, ids []customer.Identity, name string) (string, error) {
	var in *ingestion
	var target string
	err := s.tx(ctx, func(tx *Tx) error {
		in = &ingestion{s: s, tx: tx}
		if err := in.init(ctx); err != nil {
			return err
		}
		claims := make([]identity.Claim, len(ids))
		for i, id := range ids {
			claims[i] = identity.Claim{Identity: id}
		}
		if err := in.lookupOwners(ctx, []Event{{Claims: claims}}); err != nil {
			return err
		}
		var err error
		if target, err = in.target(ctx, claims, name, a, time.Now()); err != nil {
			return err
		}
		if err := in.flush(ctx); err != nil {
			return err
		}
		return in.refreshDirty(ctx)
	})
	if err != nil {
		return "", wrap("resolve customer", err)
	}
	s.changed(ctx, sortedKeys(in.touched)...)
	return target, nil
}

// ingestion is the state of one IngestEvents transaction. Writes are kept
// pending and flushed as multi-row statements; a merge flushes first so it
// sees everything.
type ingestion struct {
	s        *Store
	tx       *Tx
	rules    identity.Rules
	res      IngestResult
	owner    map[customer.Identity]string
	profiles map[string]*identity.Profile
	touched  map[string]bool
	// pending writes
	fresh      map[string]*customer.Customer // created in this batch, not yet inserted
	freshOrder []*customer.Customer
	actorOf    map[string]Actor // new customer → the source that created it
	attached   [][]any          // identities added to stored customers
	dirty      map[string]*dirtyCustomer
	events     [][]any
	deltas     map[string]*seenDelta
	orders     map[string][]customer.Order // by source id
	refunds    map[string][]Refund
}

func (in *ingestion) init(ctx context.Context) error {
	var err error
	if in.rules, err = identityRules(ctx, in.tx); err != nil {
		return err
	}
	in.res = IngestResult{}
	in.owner = map[customer.Identity]string{}
	in.profiles = map[string]*identity.Profile{}
	in.touched = map[string]bool{}
	in.dirty = map[string]*dirtyCustomer{}
	in.reset()
	return nil
}

func (in *ingestion) run(ctx context.Context, evs []Event) error {
	if err := in.init(ctx); err != nil {
		return err
	}
	fresh, err := in.dropDuplicates(ctx, evs)
	if err != nil {
		return err
	}
	return in.apply(ctx, fresh)
}

// apply resolves and stores messages known not to repeat each other.
func (in *ingestion) apply(ctx context.Context, fresh []Event) error {
	if err := in.lookupOwners(ctx, fresh); err != nil {
		return err
	}
	if err := in.prefetchProfiles(ctx, fresh); err != nil {
		return err
	}
	for i := range fresh {
		if err := in.resolve(ctx, &fresh[i]); err != nil {
			return err
		}
	}
	if err := in.flush(ctx); err != nil {
		return err
	}
	return in.refreshDirty(ctx)
}

func (in *ingestion) reset() {
	in.fresh = map[string]*customer.Customer{}
	in.freshOrder = nil
	in.actorOf = map[string]Actor{}
	in.attached = nil
	in.events = nil
	in.deltas = map[string]*seenDelta{}
	in.orders = map[string][]customer.Order{}
	in.refunds = map[string][]Refund{}
}

// dropDuplicates removes messages already stored for their source, and
// repeats within the batch (the first one wins).
func (in *ingestion) dropDuplicates(ctx context.Context, evs []Event) ([]Event, error) {
	bySource := map[string][]string{}
	for _, e := range evs {
		bySource[e.SourceID] = append(bySource[e.SourceID], e.MessageID)
	}
	type key struct{ source, message string }
	seen := map[key]bool{}
	for src, ids := range bySource {
		for start := 0; start < len(ids); start += 5000 {
			chunk := ids[start:min(start+5000, len(ids))]
			rows, err := in.s.queryKeys(ctx, in.tx, storedMessagesQuery, []any{src}, chunk)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var m string
				if err := rows.Scan(&m); err != nil {
					rows.Close()
					return nil, err
				}
				seen[key{src, m}] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		k := key{e.SourceID, e.MessageID}
		if seen[k] {
			in.res.Duplicates++
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out, nil
}

// lookupOwners finds who owns every identity the batch carries, with one
// IN list per identity type and source (an index range per value).
func (in *ingestion) lookupOwners(ctx context.Context, evs []Event) error {
	type ns struct{ typ, source string }
	values := map[ns][]string{}
	asked := map[customer.Identity]bool{}
	for _, e := range evs {
		for _, c := range e.Claims {
			if !asked[c.Identity] {
				asked[c.Identity] = true
				k := ns{c.Identity.Type, c.Identity.Source}
				values[k] = append(values[k], c.Identity.Value)
			}
		}
	}
	for k, vs := range values {
		for start := 0; start < len(vs); start += 5000 {
			chunk := vs[start:min(start+5000, len(vs))]
			rows, err := in.s.queryKeys(ctx, in.tx, identityOwnersQuery, []any{k.typ, k.source}, chunk)
			if err != nil {
				return err
			}
			for rows.Next() {
				var value, owner string
				if err := rows.Scan(&value, &owner); err != nil {
					rows.Close()
					return err
				}
				in.owner[customer.Identity{Type: k.typ, Source: k.source, Value: value}] = owner
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// prefetchProfiles reads, set-wise, the profiles the rules will ask about:
// the owners of every message that carries an identity nobody owns yet or
// identities of several owners (the others resolve without the rules).
// Profiles the batch creates or merges later are read on demand.
func (in *ingestion) prefetchProfiles(ctx context.Context, evs []Event) error {
	want := map[string]bool{}
	for _, e := range evs {
		owners := map[string]bool{}
		unowned := false
		for _, c := range e.Claims {
			if o := in.owner[c.Identity]; o != "" {
				owners[o] = true
			} else {
				unowned = true
			}
		}
		if len(owners) > 1 || (unowned && len(owners) > 0) {
			for o := range owners {
				if in.profiles[o] == nil {
					want[o] = true
				}
			}
		}
	}
	ids := sortedKeys(want)
	for start := 0; start < len(ids); start += 5000 {
		chunk := ids[start:min(start+5000, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := in.tx.QueryContext(ctx, `SELECT id, kind FROM customers WHERE id IN (`+placeholders(1, len(chunk))+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			p := &identity.Profile{}
			var kind string
			if err := rows.Scan(&p.ID, &kind); err != nil {
				rows.Close()
				return err
			}
			p.Kind = customer.Kind(kind)
			in.profiles[p.ID] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(in.rules.Exclusive) == 0 {
			continue
		}
		for _, t := range in.rules.Exclusive {
			args = append(args, t)
		}
		rows, err = in.tx.QueryContext(ctx, `SELECT customer_id, type, source, value FROM identities WHERE customer_id IN (`+placeholders(1, len(chunk))+
			`) AND type IN (`+placeholders(len(chunk)+1, len(in.rules.Exclusive))+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var x customer.Identity
			if err := rows.Scan(&id, &x.Type, &x.Source, &x.Value); err != nil {
				rows.Close()
				return err
			}
			if p := in.profiles[id]; p != nil {
				p.Exclusive = append(p.Exclusive, x)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// profile returns what the rules need to know about a customer.
func (in *ingestion) profile(ctx context.Context, id string) (*identity.Profile, error) {
	if p, ok := in.profiles[id]; ok {
		return p, nil
	}
	p := &identity.Profile{ID: id}
	var kind string
	if err := in.tx.QueryRowContext(ctx, `SELECT kind FROM customers WHERE id = $1`, id).Scan(&kind); err != nil {
		return nil, fmt.Errorf("profile %s: %w", id, err)
	}
	p.Kind = customer.Kind(kind)
	if len(in.rules.Exclusive) > 0 {
		args := []any{id}
		for _, t := range in.rules.Exclusive {
			args = append(args, t)
		}
		rows, err := in.tx.QueryContext(ctx, `SELECT type, source, value FROM identities WHERE customer_id = $1 AND type IN (`+placeholders(2, len(in.rules.Exclusive))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var x customer.Identity
			if err := rows.Scan(&x.Type, &x.Source, &x.Value); err != nil {
				rows.Close()
				return nil, err
			}
			p.Exclusive = append(p.Exclusive, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	in.profiles[id] = p
	return p, nil
}

// target resolves a write's identity claims to exactly one customer:
// the owner the rules pick, after any merges they call for, or a new
// profile. Identities nobody owns are attached to it.
func (in *ingestion) target(ctx context.Context, cs []identity.Claim, profileName string, actor Actor, at time.Time) (string, error) {
	claims := make([]identity.Claim, len(cs))
	owners := map[string]bool{}
	unowned := false
	for i, c := range cs {
		c.Owner = in.owner[c.Identity]
		claims[i] = c
		if c.Owner == "" {
			unowned = true
		} else {
			owners[c.Owner] = true
		}
	}
	var plan identity.Plan
	if len(owners) == 1 && !unowned {
		for o := range owners {
			plan.Target = o // the common case: a known visitor or user
		}
	} else {
		profiles := map[string]identity.Profile{}
		for o := range owners {
			p, err := in.profile(ctx, o)
			if err != nil {
				return "", err
			}
			profiles[o] = *p
		}
		plan = in.rules.Plan(claims, profiles)
	}
	if len(plan.Merges) > 0 {
		if err := in.flush(ctx); err != nil {
			return "", err
		}
		for _, m := range plan.Merges {
			if _, err := in.s.merge(ctx, in.tx, actor, plan.Target, m.Loser, m.Rule, &m.Via); err != nil {
				return "", err
			}
			in.res.Merges++
			in.touched[m.Loser] = true
			for id, o := range in.owner {
				if o == m.Loser {
					in.owner[id] = plan.Target
				}
			}
			if lp := in.profiles[m.Loser]; lp != nil {
				if tp, err := in.profile(ctx, plan.Target); err == nil {
					tp.Exclusive = append(tp.Exclusive, lp.Exclusive...)
				}
			}
			delete(in.profiles, m.Loser)
			if d, ok := in.dirty[m.Loser]; ok {
				delete(in.dirty, m.Loser)
				td := in.dirtyOf(plan.Target)
				td.added = append(td.added, d.added...)
				if td.name == "" {
					td.name = d.name
				}
			}
		}
	}
	target := plan.Target
	if target == "" {
		now := time.Now().UTC()
		c := &customer.Customer{ID: customer.NewID(), Kind: customer.Person, Name: profileName, CreatedAt: now, UpdatedAt: now, Version: 1}
		in.fresh[c.ID], in.actorOf[c.ID] = c, actor
		in.freshOrder = append(in.freshOrder, c)
		in.profiles[c.ID] = &identity.Profile{ID: c.ID, Kind: customer.Person}
		in.res.Customers++
		target = c.ID
	} else if c := in.fresh[target]; c != nil && c.Name == "" && profileName != "" {
		c.Name = profileName
	} else if c == nil && profileName != "" {
		if d := in.dirtyOf(target); d.name == "" {
			d.name = profileName
		}
	}
	for _, id := range plan.Attach {
		in.owner[id] = target
		if p := in.profiles[target]; p != nil && in.rules.IsExclusive(id.Type) {
			p.Exclusive = append(p.Exclusive, id)
		}
		if c := in.fresh[target]; c != nil {
			c.Identities = append(c.Identities, id)
			continue
		}
		in.attached = append(in.attached, []any{id.Type, id.Source, id.Value, target, ts(at)})
		d := in.dirtyOf(target)
		d.added = append(d.added, id)
	}
	in.touched[target] = true
	return target, nil
}

// resolve decides which customer one message belongs to and queues its writes.
func (in *ingestion) resolve(ctx context.Context, e *Event) error {
	target, err := in.target(ctx, e.Claims, e.ProfileName, Actor{ID: e.SourceID, Kind: "source"}, e.ReceivedAt)
	if err != nil {
		return err
	}
	in.events = append(in.events, []any{e.SourceID, e.MessageID, target, e.Type, e.Name, ts(e.At), ts(e.ReceivedAt), string(e.Payload)})
	d := in.deltas[target]
	if d == nil {
		d = &seenDelta{}
		in.deltas[target] = d
	}
	d.events++
	d.see(e.At, e.Source)
	if e.Order != nil {
		o := *e.Order
		o.CustomerID = target
		in.orders[e.SourceID] = append(in.orders[e.SourceID], o)
	}
	if e.Refund != nil {
		r := *e.Refund
		r.CustomerID = target
		in.refunds[e.SourceID] = append(in.refunds[e.SourceID], r)
	}
	in.res.Stored++
	return nil
}

// flush writes everything pending as multi-row statements.
func (in *ingestion) flush(ctx context.Context) error {
	ctxTx := in.tx
	var crow, irow, arow [][]any
	var created []string
	now := ts(time.Now())
	for _, c := range in.freshOrder {
		if in.fresh[c.ID] == nil {
			continue
		}
		created = append(created, c.ID)
		crow = append(crow, []any{c.ID, string(c.Kind), c.Name, customer.SortKey(c.Name), "{}", "[]", ts(c.CreatedAt), ts(c.UpdatedAt), c.Version,
			customer.SearchText(c.Name, c.Identities)})
		for _, id := range c.Identities {
			irow = append(irow, []any{id.Type, id.Source, id.Value, c.ID, ts(c.CreatedAt)})
		}
		a := in.actorOf[c.ID]
		arow = append(arow, []any{now, a.ID, a.Kind, "create", "customer", c.ID, c.ID, jsonText(diff(nil, c), "{}")})
	}
	if err := insertChunked(ctx, ctxTx, "customers", []string{"id", "kind", "name", "sort_key", "attributes", "tags", "created_at", "updated_at", "version", "search"}, crow, ""); err != nil {
		return err
	}
	irow = append(irow, in.attached...)
	if err := insertChunked(ctx, ctxTx, "identities", []string{"type", "source", "value", "customer_id", "created_at"}, irow, ""); err != nil {
		return err
	}
	if err := insertChunked(ctx, ctxTx, "audit", []string{"at", "actor_id", "actor_kind", "action", "entity", "entity_id", "customer_id", "changes"}, arow, ""); err != nil {
		return err
	}
	if err := insertChunked(ctx, ctxTx, "events", eventColumns, in.events, ""); err != nil {
		return err
	}
	if err := addActivity(ctx, ctxTx, in.deltas); err != nil {
		return err
	}
	// Scores read orders, names and interactions, not activity: only new
	// profiles are queued here (orders queue theirs in createOrders, renamed
	// profiles in refreshDirty). Queueing every active profile made a
	// busy site re-score most of its visitors for nothing.
	if err := queueScores(ctx, ctxTx, created); err != nil {
		return err
	}
	for _, src := range sortedKeys(in.orders) {
		if _, err := in.s.createOrders(ctx, ctxTx, Actor{ID: src, Kind: "source"}, in.orders[src]); err != nil {
			return err
		}
	}
	for _, src := range sortedKeys(in.refunds) {
		touched, err := in.s.refundOrders(ctx, ctxTx, Actor{ID: src, Kind: "source"}, in.refunds[src])
		if err != nil {
			return err
		}
		for _, id := range touched {
			in.touched[id] = true
		}
	}
	in.reset()
	return nil
}

var eventColumns = []string{"source_id", "message_id", "customer_id", "type", "name", "at", "received_at", "payload"}

// dirtyCustomer is what a batch changed on a stored customer.
type dirtyCustomer struct {
	name  string              // traits.name, applied when the customer has none
	added []customer.Identity // identities attached
}

func (in *ingestion) dirtyOf(id string) *dirtyCustomer {
	d := in.dirty[id]
	if d == nil {
		d = &dirtyCustomer{}
		in.dirty[id] = d
	}
	return d
}

// refreshDirty updates stored customers that gained identities or a name
// in this batch: their search text, version and updated time, audited.
// It reads and writes them set-wise (an UPDATE of customers costs an FTS
// segment flush per statement on SQLite, so one statement per chunk).
func (in *ingestion) refreshDirty(ctx context.Context) error {
	if len(in.dirty) == 0 {
		return nil
	}
	ids := sortedKeys(in.dirty)
	live := make([]*customer.Customer, 0, len(ids))
	for start := 0; start < len(ids); start += 5000 {
		chunk := ids[start:min(start+5000, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := in.tx.QueryContext(ctx, `SELECT id, name FROM customers WHERE deleted_at IS NULL AND id IN (`+placeholders(1, len(chunk))+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			c := &customer.Customer{}
			if err := rows.Scan(&c.ID, &c.Name); err != nil {
				rows.Close()
				return err
			}
			live = append(live, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if err := in.s.fillIdentities(ctx, in.tx, live); err != nil {
		return err
	}
	now := time.Now().UTC()
	updated := make([][]any, 0, len(live))
	audit := make([][]any, 0, len(live))
	var renamed []string // scores carry the name
	for _, c := range live {
		d := in.dirty[c.ID]
		after := *c
		if after.Name == "" && d.name != "" {
			after.Name = d.name
			renamed = append(renamed, c.ID)
		}
		updated = append(updated, []any{c.ID, after.Name, customer.SortKey(after.Name), customer.SearchText(after.Name, after.Identities), ts(now)})
		before := *c
		before.Identities = slices.DeleteFunc(slices.Clone(c.Identities), func(x customer.Identity) bool { return slices.Contains(d.added, x) })
		audit = append(audit, []any{ts(now), "ingest", "system", "update", "customer", c.ID, c.ID, jsonText(diff(&before, &after), "{}")})
	}
	const per = maxParams / 5
	for start := 0; start < len(updated); start += per {
		part := updated[start:min(start+per, len(updated))]
		args := make([]any, 0, len(part)*5)
		for _, r := range part {
			args = append(args, r...)
		}
		if _, err := in.tx.ExecContext(ctx, `UPDATE customers SET name = v.column2, sort_key = v.column3, search = v.column4,
			version = version + 1, updated_at = `+in.s.cast("v.column5", "TIMESTAMPTZ")+`
			FROM (VALUES `+tuples(len(part), 5)+`) AS v WHERE customers.id = v.column1`, args...); err != nil {
			return err
		}
	}
	if err := insertChunked(ctx, in.tx, "audit", []string{"at", "actor_id", "actor_kind", "action", "entity", "entity_id", "customer_id", "changes"}, audit, ""); err != nil {
		return err
	}
	return queueScores(ctx, in.tx, renamed)
}

// StoredMessages reports which of the given messageIds are stored for a
// source.
func (s *Store) StoredMessages(ctx context.Context, sourceID string, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	for start := 0; start < len(ids); start += 5000 {
		chunk := ids[start:min(start+5000, len(ids))]
		rows, err := s.queryKeys(ctx, s.read, storedMessagesQuery, []any{sourceID}, chunk)
		if err != nil {
			return nil, wrap("stored messages", err)
		}
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				rows.Close()
				return nil, wrap("stored messages", err)
			}
			found[m] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap("stored messages", err)
		}
	}
	return found, nil
}

// The key lookups of ingestion, for queryKeys: which messageIds a source
// has stored, and who owns identities of one type and source.
const (
	storedMessagesQuery = `SELECT e.message_id FROM events e WHERE e.source_id = $1 AND e.message_id`
	identityOwnersQuery = `SELECT i.value, i.customer_id FROM identities i WHERE i.type = $1 AND i.source = $2 AND i.value`
)

// pgArrayEscaper escapes an element of a PostgreSQL text array literal.
// One for the process: building a Replacer costs more than using it (a
// replacer per key was 0.5 s of CPU per 200,000 messages ingested).
var pgArrayEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// queryKeys runs query, which ends in "… AND column", for each of keys,
// after the fixed arguments (see keysQuery).
func (s *Store) queryKeys(ctx context.Context, q querier, query string, fixed []any, keys []string) (*sql.Rows, error) {
	query, args := s.keysQuery(query, fixed, keys)
	return q.QueryContext(ctx, query, args...)
}

// keysQuery is the statement queryKeys runs: "column IN ($n, …)" on
// SQLite; on PostgreSQL a LATERAL probe per key from one text-array
// parameter, so the statement text does not change with the number of
// keys. The OFFSET 0 keeps the probe a nested index lookup per key: without
// it the planner flattens the LATERAL into a join, and on a young table
// (not analyzed yet) it hashed every stored row of the key prefix for each
// probe — the duplicate check read all of a source's events for every
// 5,000 messages applied.
func (s *Store) keysQuery(query string, fixed []any, keys []string) (string, []any) {
	if s.dialect == Postgres {
		var b strings.Builder
		b.WriteByte('{')
		for i, v := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('"')
			b.WriteString(pgArrayEscaper.Replace(v))
			b.WriteByte('"')
		}
		b.WriteByte('}')
		n := strconv.Itoa(len(fixed) + 1)
		return `SELECT hit.* FROM unnest(CAST($` + n + ` AS text[])) AS k(key), LATERAL (` + query + ` = k.key OFFSET 0) AS hit`,
			append(append([]any{}, fixed...), b.String())
	}
	args := append([]any{}, fixed...)
	for _, k := range keys {
		args = append(args, k)
	}
	return query + ` IN (` + placeholders(len(fixed)+1, len(keys)) + `)`, args
}
