package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// Merge records that one profile (the loser) was folded into another (the
// winner): the loser's identities, events, orders, interactions and notes
// moved to the winner and the loser was retired. Every merge can be undone.
type Merge struct {
	ID        string     `json:"id"`
	WinnerID  string     `json:"winner"`
	LoserID   string     `json:"loser"`
	Rule      string     `json:"rule" doc:"Why: manual, alias, or auto:<identity type> (the identity that linked them)"`
	Via       string     `json:"via,omitempty" doc:"The identity that linked the profiles, type:value"`
	ActorID   string     `json:"actor_id"`
	ActorKind string     `json:"actor_kind"`
	CreatedAt time.Time  `json:"created_at"`
	UndoneAt  *time.Time `json:"undone_at,omitempty"`
}

// mergeSnapshot is what undoing a merge needs beyond the moved rows.
type mergeSnapshot struct {
	Via              string              `json:"via,omitempty"`
	LoserIdentities  []customer.Identity `json:"loser_identities"`
	LoserName        string              `json:"loser_name"`
	NameCopied       bool                `json:"name_copied,omitempty"`
	CopiedAttributes map[string]any      `json:"copied_attributes,omitempty"`
}

// movable lists the customer-owned tables a merge moves, with the column
// that keys a moved row.
var movable = []struct{ entity, table, key string }{
	{"event", "events", "seq"},
	{"order", "orders", "id"},
	{"interaction", "interactions", "id"},
	{"note", "notes", "id"},
}

// MergeCustomers folds loser into winner by a person's decision (duplicate
// review) and records the merge so it can be undone.
func (s *Store) MergeCustomers(ctx context.Context, a Actor, winner, loser string) (Merge, error) {
	var m Merge
	err := s.tx(ctx, func(tx *Tx) error {
		var err error
		m, err = s.merge(ctx, tx, a, winner, loser, "manual", nil)
		return err
	})
	if err != nil {
		return m, wrap("merge customers", err)
	}
	s.changed(ctx, winner, loser)
	return m, nil
}

// merge folds loser into winner inside tx.
func (s *Store) merge(ctx context.Context, tx *Tx, a Actor, winnerID, loserID, rule string, via *customer.Identity) (Merge, error) {
	if winnerID == loserID {
		return Merge{}, errs.Validation(errs.FieldError{Field: "body.loser", Message: "must differ from the winner", Value: loserID})
	}
	winner, err := s.customer(ctx, tx, winnerID)
	if err != nil {
		return Merge{}, err
	}
	loser, err := s.customer(ctx, tx, loserID)
	if err != nil {
		return Merge{}, err
	}
	if winner.DeletedAt != nil || loser.DeletedAt != nil {
		return Merge{}, errs.E(errs.Conflict, "both customers must be live to merge (one is deleted or already merged)")
	}
	now := time.Now().UTC()
	m := Merge{ID: customer.NewID(), WinnerID: winnerID, LoserID: loserID, Rule: rule, ActorID: a.ID, ActorKind: a.Kind, CreatedAt: now}
	snap := mergeSnapshot{LoserIdentities: loser.Identities, LoserName: loser.Name}
	if via != nil {
		m.Via = via.Type + ":" + via.Value
		snap.Via = m.Via
	}
	// The winner keeps what it has and gains what only the loser knew.
	after := cloneCustomer(winner)
	if after.Name == "" && loser.Name != "" {
		after.Name, snap.NameCopied = loser.Name, true
	}
	for k, v := range loser.Attributes {
		if _, ok := after.Attributes[k]; !ok {
			if snap.CopiedAttributes == nil {
				snap.CopiedAttributes = map[string]any{}
			}
			after.Attributes[k], snap.CopiedAttributes[k] = v, v
		}
	}
	after.Identities = append(after.Identities, loser.Identities...)
	for _, mv := range movable {
		if _, err := tx.ExecContext(ctx, `INSERT INTO merge_moves (merge_id, entity, row_key)
			SELECT $1, $2, CAST(`+mv.key+` AS TEXT) FROM `+mv.table+` WHERE customer_id = $3`, m.ID, mv.entity, loserID); err != nil {
			return m, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+mv.table+` SET customer_id = $1 WHERE customer_id = $2`, winnerID, loserID); err != nil {
			return m, err
		}
	}
	for _, q := range []string{
		`UPDATE order_items SET customer_id = $1 WHERE customer_id = $2`,
		`UPDATE identities SET customer_id = $1 WHERE customer_id = $2`,
	} {
		if _, err := tx.ExecContext(ctx, q, winnerID, loserID); err != nil {
			return m, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE customers SET name = $1, sort_key = $2, attributes = $3, search = $4, version = version + 1, updated_at = $5 WHERE id = $6`,
		after.Name, customer.SortKey(after.Name), jsonText(after.Attributes, "{}"), customer.SearchText(after.Name, after.Identities), ts(now), winnerID); err != nil {
		return m, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE customers SET deleted_at = $1, version = version + 1, updated_at = $1, search = '' WHERE id = $2`, ts(now), loserID); err != nil {
		return m, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO merges (id, winner_id, loser_id, rule, actor_id, actor_kind, created_at, snapshot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		m.ID, winnerID, loserID, rule, a.ID, a.Kind, ts(now), jsonText(snap, "{}")); err != nil {
		return m, err
	}
	if err := s.refreshStats(ctx, tx, []string{winnerID, loserID}); err != nil {
		return m, err
	}
	if err := MarkScoresStale(ctx, tx, winnerID); err != nil {
		return m, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM score_queue WHERE customer_id = $1`, loserID); err != nil {
		return m, err
	}
	changes := diff(&winner, &after)
	changes["merged"] = map[string]any{"after": map[string]any{"merge_id": m.ID, "loser": loserID, "rule": rule}}
	if err := s.audit(ctx, tx, a, "merge", "customer", winnerID, winnerID, changes); err != nil {
		return m, err
	}
	return m, s.audit(ctx, tx, a, "merge", "customer", loserID, loserID, map[string]any{"merged_into": map[string]any{"after": winnerID}, "merge_id": m.ID})
}

// UndoMerge restores both profiles of a merge: the loser comes back with
// its identities, and its events, orders, interactions and notes are
// attributed to it again; what the winner gained from it is taken back
// unless someone changed it since. Touchpoints recorded after the merge
// stay with the winner. A merge whose winner was itself merged away later
// must wait until that later merge is undone.
func (s *Store) UndoMerge(ctx context.Context, a Actor, id string) (Merge, error) {
	var m Merge
	err := s.tx(ctx, func(tx *Tx) error {
		var snapRaw []byte
		var err error
		m, snapRaw, err = scanMerge(tx.QueryRowContext(ctx, `SELECT `+mergeColumns+`, snapshot FROM merges WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "merge %s not found", id)
		}
		if err != nil {
			return err
		}
		if m.UndoneAt != nil {
			return errs.E(errs.Conflict, "merge %s was already undone", id)
		}
		var snap mergeSnapshot
		if err := json.Unmarshal(snapRaw, &snap); err != nil {
			return fmt.Errorf("merge %s snapshot: %w", id, err)
		}
		winner, err := s.customer(ctx, tx, m.WinnerID)
		if err != nil {
			return err
		}
		if winner.DeletedAt != nil {
			var later string
			_ = tx.QueryRowContext(ctx, `SELECT id FROM merges WHERE loser_id = $1 AND undone_at IS NULL ORDER BY created_at DESC LIMIT 1`, m.WinnerID).Scan(&later)
			return errs.E(errs.Conflict, "the winner %s was merged again or deleted since; undo merge %s first", m.WinnerID, later)
		}
		loser, err := s.customer(ctx, tx, m.LoserID)
		if err != nil {
			return errs.E(errs.NotFound, "the merged customer %s no longer exists; this merge cannot be undone", m.LoserID)
		}
		for _, mv := range movable {
			col := mv.key
			cast := "row_key"
			if mv.key == "seq" {
				cast = "CAST(row_key AS BIGINT)"
			}
			if _, err := tx.ExecContext(ctx, `UPDATE `+mv.table+` SET customer_id = $1 WHERE `+col+` IN (SELECT `+cast+` FROM merge_moves WHERE merge_id = $2 AND entity = $3)`,
				m.LoserID, m.ID, mv.entity); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE order_items SET customer_id = $1 WHERE order_id IN (SELECT row_key FROM merge_moves WHERE merge_id = $2 AND entity = 'order')`,
			m.LoserID, m.ID); err != nil {
			return err
		}
		for _, x := range snap.LoserIdentities {
			if _, err := tx.ExecContext(ctx, `UPDATE identities SET customer_id = $1 WHERE type = $2 AND source = $3 AND value = $4 AND customer_id = $5`,
				m.LoserID, x.Type, x.Source, x.Value, m.WinnerID); err != nil {
				return err
			}
		}
		after := cloneCustomer(winner)
		if snap.NameCopied && after.Name == snap.LoserName {
			after.Name = ""
		}
		for k, v := range snap.CopiedAttributes {
			if cur, ok := after.Attributes[k]; ok && reflect.DeepEqual(cur, v) {
				delete(after.Attributes, k)
			}
		}
		now := time.Now().UTC()
		var winnerIDs []customer.Identity
		if err := s.fillIdentities(ctx, tx, []*customer.Customer{&after}); err != nil {
			return err
		}
		winnerIDs = after.Identities
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET name = $1, sort_key = $2, attributes = $3, search = $4, version = version + 1, updated_at = $5 WHERE id = $6`,
			after.Name, customer.SortKey(after.Name), jsonText(after.Attributes, "{}"), customer.SearchText(after.Name, winnerIDs), ts(now), m.WinnerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET deleted_at = NULL, version = version + 1, updated_at = $1, search = $2 WHERE id = $3`,
			ts(now), customer.SearchText(loser.Name, snap.LoserIdentities), m.LoserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE merges SET undone_at = $1 WHERE id = $2`, ts(now), m.ID); err != nil {
			return err
		}
		m.UndoneAt = &now
		if err := s.refreshStats(ctx, tx, []string{m.WinnerID, m.LoserID}); err != nil {
			return err
		}
		for _, c := range []string{m.WinnerID, m.LoserID} {
			if err := MarkScoresStale(ctx, tx, c); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, a, "unmerge", "customer", m.WinnerID, m.WinnerID, map[string]any{"merge_id": m.ID, "restored": m.LoserID}); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "unmerge", "customer", m.LoserID, m.LoserID, map[string]any{"merge_id": m.ID, "separated_from": m.WinnerID})
	})
	if err != nil {
		return m, wrap("undo merge", err)
	}
	s.changed(ctx, m.WinnerID, m.LoserID)
	return m, nil
}

const mergeColumns = `id, winner_id, loser_id, rule, actor_id, actor_kind, created_at, undone_at`

func scanMerge(row interface{ Scan(...any) error }) (Merge, []byte, error) {
	var m Merge
	var created, undone dbTime
	var snap []byte
	err := row.Scan(&m.ID, &m.WinnerID, &m.LoserID, &m.Rule, &m.ActorID, &m.ActorKind, &created, &undone, &snap)
	if err != nil {
		return m, nil, err
	}
	m.CreatedAt, m.UndoneAt = created.Time, undone.ptr()
	var s mergeSnapshot
	if json.Unmarshal(snap, &s) == nil {
		m.Via = s.Via
	}
	return m, snap, nil
}

// GetMerge returns one merge.
func (s *Store) GetMerge(ctx context.Context, id string) (Merge, error) {
	m, _, err := scanMerge(s.read.QueryRowContext(ctx, `SELECT `+mergeColumns+`, snapshot FROM merges WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, errs.E(errs.NotFound, "merge %s not found", id)
	}
	return m, wrap("get merge", err)
}

// Merges lists merges, newest first; with a customer id, only the merges
// that customer took part in.
func (s *Store) Merges(ctx context.Context, customerID string, limit int) ([]Merge, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+mergeColumns+`, snapshot FROM merges
		WHERE $1 = '' OR winner_id = $1 OR loser_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, wrap("list merges", err)
	}
	defer rows.Close()
	out := []Merge{}
	for rows.Next() {
		m, _, err := scanMerge(rows)
		if err != nil {
			return nil, wrap("list merges", err)
		}
		out = append(out, m)
	}
	return out, wrap("list merges", rows.Err())
}

// LiveCustomers reads every live customer with its identities (no
// memberships or scores): the duplicate finder's input.
func (s *Store) LiveCustomers(ctx context.Context) ([]customer.Customer, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+customerColumns+customerFrom+` WHERE c.deleted_at IS NULL ORDER BY c.seq`)
	if err != nil {
		return nil, wrap("live customers", err)
	}
	var out []customer.Customer
	index := map[string]int{}
	for rows.Next() {
		c, _, err := scanCustomer(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("live customers", err)
		}
		c.Identities = []customer.Identity{}
		index[c.ID] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("live customers", err)
	}
	ids, err := s.read.QueryContext(ctx, `SELECT customer_id, type, source, value FROM identities WHERE type <> 'anonymous_id' ORDER BY customer_id, created_at, type, value`)
	if err != nil {
		return nil, wrap("live customers", err)
	}
	defer ids.Close()
	for ids.Next() {
		var cid string
		var id customer.Identity
		if err := ids.Scan(&cid, &id.Type, &id.Source, &id.Value); err != nil {
			return nil, wrap("live customers", err)
		}
		if i, ok := index[cid]; ok {
			out[i].Identities = append(out[i].Identities, id)
		}
	}
	return out, wrap("live customers", ids.Err())
}
