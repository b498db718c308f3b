package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// Setting reads a workspace setting into v. It returns false when the
// setting was never written, leaving v unchanged.
func (s *Store) Setting(ctx context.Context, key string, v any) (bool, error) {
	var raw string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: read setting %s: %w", key, err)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, fmt.Errorf("store: decode setting %s: %w", key, err)
	}
	return true, nil
}

// SetSetting writes a workspace setting.
func (s *Store) SetSetting(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode setting %s: %w", key, err)
	}
	_, err = s.write.ExecContext(ctx, `
		INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, string(b))
	if err != nil {
		return fmt.Errorf("store: write setting %s: %w", key, err)
	}
	return nil
}

// CreateField declares a custom attribute in the field registry.
func (s *Store) CreateField(ctx context.Context, f customer.Field) error {
	opts, _ := json.Marshal(f.Options) // a []string always encodes
	if f.Options == nil {
		opts = []byte("[]")
	}
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO fields (key, type, label_en, label_zh, options, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		f.Key, string(f.Type), f.LabelEn, f.LabelZh, string(opts), ts(f.CreatedAt))
	if isUniqueViolation(err) {
		return errs.E(errs.Conflict, "field %s already exists", f.Key)
	}
	if err != nil {
		return fmt.Errorf("store: create field: %w", err)
	}
	return nil
}

// Fields returns the field registry, by key.
func (s *Store) Fields(ctx context.Context) ([]customer.Field, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT key, type, label_en, label_zh, options, created_at FROM fields ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("store: list fields: %w", err)
	}
	defer rows.Close()
	var fs []customer.Field
	for rows.Next() {
		var f customer.Field
		var typ string
		var opts []byte
		var created dbTime
		if err := rows.Scan(&f.Key, &typ, &f.LabelEn, &f.LabelZh, &opts, &created); err != nil {
			return nil, fmt.Errorf("store: list fields: %w", err)
		}
		f.Type, f.CreatedAt = customer.FieldType(typ), created.Time
		if err := json.Unmarshal(opts, &f.Options); err != nil {
			return nil, fmt.Errorf("store: field %s options: %w", f.Key, err)
		}
		fs = append(fs, f)
	}
	return fs, rows.Err()
}

// FieldMap returns the field registry keyed by field key.
func (s *Store) FieldMap(ctx context.Context) (map[string]customer.Field, error) {
	fs, err := s.Fields(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]customer.Field, len(fs))
	for _, f := range fs {
		m[f.Key] = f
	}
	return m, nil
}

// AuditEntry is one recorded write.
type AuditEntry struct {
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	ActorID    string          `json:"actor_id"`
	ActorKind  string          `json:"actor_kind"`
	Action     string          `json:"action"`
	Entity     string          `json:"entity"`
	EntityID   string          `json:"entity_id"`
	CustomerID string          `json:"customer_id,omitempty"`
	Changes    json.RawMessage `json:"changes"`
}

// Actor is who performs a write, for the audit log.
type Actor struct {
	ID   string // user or key id
	Kind string // "user", "api_key", "system"
}

// SystemActor is the actor for writes Rapport makes by itself.
var SystemActor = Actor{ID: "system", Kind: "system"}

func (s *Store) audit(ctx context.Context, tx *Tx, a Actor, action, entity, entityID, customerID string, changes any) error {
	b, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("encode audit changes: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO audit (at, actor_id, actor_kind, action, entity, entity_id, customer_id, changes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		ts(time.Now()), a.ID, a.Kind, action, entity, entityID, nullString(customerID), string(b))
	if err != nil {
		return fmt.Errorf("write audit: %w", err)
	}
	return nil
}

// Audit lists audit entries, newest first, optionally for one customer.
func (s *Store) Audit(ctx context.Context, customerID string, before int64, limit int) ([]AuditEntry, error) {
	if before <= 0 {
		before = 1<<62 - 1
	}
	rows, err := s.read.QueryContext(ctx, `
		SELECT seq, at, actor_id, actor_kind, action, entity, entity_id, customer_id, changes
		FROM audit WHERE ($1 = '' OR customer_id = $1) AND seq < $2
		ORDER BY seq DESC LIMIT $3`, customerID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at dbTime
		var cid sql.NullString
		var changes []byte
		if err := rows.Scan(&e.Seq, &at, &e.ActorID, &e.ActorKind, &e.Action, &e.Entity, &e.EntityID, &cid, &changes); err != nil {
			return nil, fmt.Errorf("store: list audit: %w", err)
		}
		e.At, e.CustomerID, e.Changes = at.Time, cid.String, json.RawMessage(changes)
		out = append(out, e)
	}
	return out, rows.Err()
}
