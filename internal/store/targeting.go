package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/errs"
)

// TargetList is a frozen set of customers handed to the front line.
type TargetList struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	Source          string     `json:"source"` // segment, score or predictive
	SegmentID       string     `json:"segment_id,omitempty"`
	Score           string     `json:"score,omitempty"`
	InitiativeID    string     `json:"initiative_id,omitempty"`
	Script          string     `json:"script,omitempty"`
	DueAt           *time.Time `json:"due_at,omitempty"`
	AttributionDays int        `json:"attribution_days"`
	Assignment      string     `json:"assignment,omitempty"` // round_robin, owner or none
	// Model is the response model a predictive list was scored with (JSON).
	Model     json.RawMessage `json:"model,omitempty"`
	CreatedBy string          `json:"created_by,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	// Size counts entries; Tasks the entries handed to reps.
	Size  int `json:"size"`
	Tasks int `json:"tasks"`
}

// ListEntry is one customer on a list.
type ListEntry struct {
	CustomerID string             `json:"customer_id"`
	Position   int                `json:"position"`
	Arm        string             `json:"arm,omitempty"`
	Stratum    string             `json:"stratum,omitempty"`
	Score      *float64           `json:"score,omitempty"`
	Features   map[string]float64 `json:"features,omitempty"`
}

// Task statuses.
const (
	TaskOpen      = "open"
	TaskDone      = "done"
	TaskCancelled = "cancelled"
)

// Task is a list entry handed to a rep: call or visit the customer, follow
// the script, record the outcome.
type Task struct {
	ID           string     `json:"id"`
	ListID       string     `json:"list_id"`
	CustomerID   string     `json:"customer_id"`
	CustomerName string     `json:"customer_name,omitempty"`
	AssigneeID   string     `json:"assignee_id,omitempty"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	Script       string     `json:"script,omitempty"`
	Status       string     `json:"status"`
	Outcome      string     `json:"outcome,omitempty"`
	Notes        string     `json:"notes,omitempty"`
	OutcomeAt    *time.Time `json:"outcome_at,omitempty"`
	OutcomeBy    string     `json:"outcome_by,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
}

// ExperimentArm is one arm of an experiment; tasks of the arm carry its
// script (empty: the list's).
type ExperimentArm struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	Script string  `json:"script,omitempty"`
}

// Experiment splits a list's customers into arms, one of them a control
// group that nobody contacts.
type Experiment struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	ListID     string          `json:"list_id"`
	Salt       string          `json:"salt"`
	Arms       []ExperimentArm `json:"arms"`
	Control    string          `json:"control"`
	StratifyBy string          `json:"stratify_by,omitempty"`
	CreatedBy  string          `json:"created_by,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
}

// CreateList stores a list with its entries, tasks and (optionally) the
// experiment over it, all or nothing.
func (s *Store) CreateList(ctx context.Context, a Actor, l *TargetList, entries []ListEntry, tasks []Task, exp *Experiment) error {
	err := s.tx(ctx, func(tx *Tx) error {
		if l.SegmentID != "" {
			if err := exists(ctx, tx, "segments", l.SegmentID, "segment"); err != nil {
				return err
			}
		}
		if l.InitiativeID != "" {
			if err := exists(ctx, tx, "initiatives", l.InitiativeID, "initiative"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO target_lists (id, name, source, segment_id, score, initiative_id, script, due_at,
			attribution_days, assignment, model, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			l.ID, l.Name, l.Source, nullString(l.SegmentID), l.Score, nullString(l.InitiativeID), l.Script, tsOrNil(l.DueAt),
			l.AttributionDays, l.Assignment, string(l.Model), a.ID, ts(l.CreatedAt)); err != nil {
			return err
		}
		rows := make([][]any, len(entries))
		for i, e := range entries {
			var score any
			if e.Score != nil {
				score = *e.Score
			}
			rows[i] = []any{l.ID, e.CustomerID, e.Position, e.Arm, e.Stratum, score, jsonText(e.Features, "{}")}
		}
		if err := insertRows(ctx, tx, "list_entries", []string{"list_id", "customer_id", "position", "arm", "stratum", "score", "features"}, rows); err != nil {
			return err
		}
		rows = rows[:0]
		for _, t := range tasks {
			rows = append(rows, []any{t.ID, l.ID, t.CustomerID, nullString(t.AssigneeID), tsOrNil(t.DueAt), t.Script, TaskOpen, ts(t.CreatedAt)})
		}
		if err := insertRows(ctx, tx, "tasks", []string{"id", "list_id", "customer_id", "assignee_id", "due_at", "script", "status", "created_at"}, rows); err != nil {
			return err
		}
		if exp != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO experiments (id, name, list_id, salt, arms, control, stratify_by, created_by, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, exp.ID, exp.Name, l.ID, exp.Salt, jsonText(exp.Arms, "[]"), exp.Control,
				exp.StratifyBy, a.ID, ts(exp.CreatedAt)); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "create", "list", l.ID, "", map[string]any{"name": l.Name, "entries": len(entries), "tasks": len(tasks)})
	})
	l.CreatedBy, l.Size, l.Tasks = a.ID, len(entries), len(tasks)
	if exp != nil {
		exp.ListID, exp.CreatedBy = l.ID, a.ID
	}
	return wrap("create list", err)
}

func exists(ctx context.Context, q querier, table, id, what string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE id = $1`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.NotFound, "%s %s not found", what, id)
	}
	return nil
}

const listColumns = `l.id, l.name, l.source, COALESCE(l.segment_id, ''), l.score, COALESCE(l.initiative_id, ''), l.script, l.due_at,
	l.attribution_days, l.assignment, l.model, l.created_by, l.created_at,
	(SELECT count(*) FROM list_entries e WHERE e.list_id = l.id), (SELECT count(*) FROM tasks t WHERE t.list_id = l.id AND t.status <> 'cancelled')`

func scanList(row interface{ Scan(...any) error }) (TargetList, error) {
	var l TargetList
	var due, created dbTime
	var model string
	err := row.Scan(&l.ID, &l.Name, &l.Source, &l.SegmentID, &l.Score, &l.InitiativeID, &l.Script, &due,
		&l.AttributionDays, &l.Assignment, &model, &l.CreatedBy, &created, &l.Size, &l.Tasks)
	l.DueAt, l.CreatedAt = due.ptr(), created.Time
	if model != "" {
		l.Model = json.RawMessage(model)
	}
	return l, err
}

// List returns one target list.
func (s *Store) List(ctx context.Context, id string) (TargetList, error) {
	l, err := scanList(s.read.QueryRowContext(ctx, `SELECT `+listColumns+` FROM target_lists l WHERE l.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, errs.E(errs.NotFound, "list %s not found", id)
	}
	return l, wrap("get list", err)
}

// Lists returns target lists, newest first; initiativeID filters when set.
func (s *Store) Lists(ctx context.Context, initiativeID string) ([]TargetList, error) {
	q := `SELECT ` + listColumns + ` FROM target_lists l`
	var args []any
	if initiativeID != "" {
		q += ` WHERE l.initiative_id = $1`
		args = append(args, initiativeID)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY l.created_at DESC, l.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list lists: %w", err)
	}
	defer rows.Close()
	out := []TargetList{}
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list lists: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// EntryResult is a list entry with what happened after the list was made:
// the rep's recorded outcome and the customer's completed orders inside
// the attribution window.
type EntryResult struct {
	ListEntry
	Outcome string
	Orders  int
	Revenue float64
}

// ListResults reads every entry of a list with its outcome and the
// completed orders its customer placed in [from, to).
func (s *Store) ListResults(ctx context.Context, listID string, from, to time.Time) ([]EntryResult, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT e.customer_id, e.position, e.arm, e.stratum, e.score, e.features, COALESCE(t.outcome, ''),
			(SELECT count(*) FROM orders o WHERE o.customer_id = e.customer_id AND o.status = 'completed' AND o.placed_at >= $2 AND o.placed_at < $3),
			(SELECT COALESCE(sum(o.total), 0) FROM orders o WHERE o.customer_id = e.customer_id AND o.status = 'completed' AND o.placed_at >= $2 AND o.placed_at < $3)
		FROM list_entries e LEFT JOIN tasks t ON t.list_id = e.list_id AND t.customer_id = e.customer_id
		WHERE e.list_id = $1 ORDER BY e.position`, listID, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("store: list results: %w", err)
	}
	defer rows.Close()
	var out []EntryResult
	for rows.Next() {
		var r EntryResult
		var score sql.NullFloat64
		var features []byte
		if err := rows.Scan(&r.CustomerID, &r.Position, &r.Arm, &r.Stratum, &score, &features, &r.Outcome, &r.Orders, &r.Revenue); err != nil {
			return nil, fmt.Errorf("store: list results: %w", err)
		}
		r.Score = nullFloat(score)
		if err := jsonObject(features, &r.Features); err != nil {
			return nil, fmt.Errorf("store: list results: features of %s: %w", r.CustomerID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PurchaseRate counts live customers and those of them with a completed
// order in [from, to): the workspace's baseline when a list has no
// control group.
func (s *Store) PurchaseRate(ctx context.Context, from, to time.Time) (buyers, customers int64, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT
		(SELECT count(DISTINCT o.customer_id) FROM orders o JOIN customers c ON c.id = o.customer_id
			WHERE c.deleted_at IS NULL AND o.status = 'completed' AND o.placed_at >= $1 AND o.placed_at < $2),
		(SELECT count(*) FROM customers WHERE deleted_at IS NULL)`, ts(from), ts(to)).Scan(&buyers, &customers)
	if err != nil {
		return 0, 0, fmt.Errorf("store: purchase rate: %w", err)
	}
	return buyers, customers, nil
}

// scoreColumns are the scores a list may be ranked by.
var scoreColumns = map[string]string{"clv": "sc.clv", "p_alive": "sc.p_alive", "churn_risk": "sc.churn_risk"}

// TopByScore returns the n live customers with the highest score (one of
// clv, p_alive, churn_risk), among those meeting cond when it is set.
func (s *Store) TopByScore(ctx context.Context, score string, n int, cond *Condition) ([]MatchRef, []float64, error) {
	col, ok := scoreColumns[score]
	if !ok {
		return nil, nil, errs.Validation(errs.FieldError{Field: "body.score", Message: "must be one of clv, p_alive, churn_risk", Value: score})
	}
	c := Condition{Where: "TRUE"}
	if cond != nil {
		c = *cond
	}
	q := `SELECT c.id, c.seq, COALESCE(c.owner_id, ''), COALESCE(sc.tier, ''), ` + col + ` FROM customers c`
	if c.Stats {
		q += ` LEFT JOIN customer_stats st ON st.customer_id = c.id`
	}
	q += ` JOIN customer_scores sc ON sc.customer_id = c.id WHERE c.deleted_at IS NULL AND ` + col + ` IS NOT NULL AND ` + c.Where +
		` ORDER BY ` + col + ` DESC, c.seq LIMIT ` + param(c.next())
	rows, err := s.read.QueryContext(ctx, q, c.args(n)...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: top by score: %w", err)
	}
	defer rows.Close()
	var refs []MatchRef
	var vals []float64
	for rows.Next() {
		var m MatchRef
		var v float64
		if err := rows.Scan(&m.ID, &m.Seq, &m.OwnerID, &m.Tier, &v); err != nil {
			return nil, nil, fmt.Errorf("store: top by score: %w", err)
		}
		refs, vals = append(refs, m), append(vals, v)
	}
	return refs, vals, rows.Err()
}

// TaskFilter selects tasks.
type TaskFilter struct {
	AssigneeID string
	ListID     string
	CustomerID string
	Status     string
	Limit      int
}

const taskColumns = `t.id, t.list_id, t.customer_id, COALESCE(c.name, ''), COALESCE(t.assignee_id, ''), t.due_at, t.script, t.status,
	COALESCE(t.outcome, ''), t.notes, t.outcome_at, COALESCE(t.outcome_by, ''), t.created_at`

func scanTask(row interface{ Scan(...any) error }) (Task, error) {
	var t Task
	var due, outAt, created dbTime
	err := row.Scan(&t.ID, &t.ListID, &t.CustomerID, &t.CustomerName, &t.AssigneeID, &due, &t.Script, &t.Status,
		&t.Outcome, &t.Notes, &outAt, &t.OutcomeBy, &created)
	t.DueAt, t.OutcomeAt, t.CreatedAt = due.ptr(), outAt.ptr(), created.Time
	return t, err
}

// Tasks lists tasks by due date.
func (s *Store) Tasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	var where []string
	var args []any
	add := func(col, v string) {
		if v != "" {
			args = append(args, v)
			where = append(where, col+` = `+param(len(args)))
		}
	}
	add("t.assignee_id", f.AssigneeID)
	add("t.list_id", f.ListID)
	add("t.customer_id", f.CustomerID)
	add("t.status", f.Status)
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := `SELECT ` + taskColumns + ` FROM tasks t LEFT JOIN customers c ON c.id = t.customer_id`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY t.due_at, t.created_at, t.id LIMIT `+param(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list tasks: %w", err)
	}
	defer rows.Close()
	out := []Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list tasks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Task returns one task.
func (s *Store) Task(ctx context.Context, id string) (Task, error) {
	t, err := scanTask(s.read.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks t LEFT JOIN customers c ON c.id = t.customer_id WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, errs.E(errs.NotFound, "task %s not found", id)
	}
	return t, wrap("get task", err)
}

// RecordOutcome closes a task with the rep's outcome (a later call
// corrects it).
func (s *Store) RecordOutcome(ctx context.Context, a Actor, taskID, outcome, notes string, at time.Time) (Task, error) {
	var out Task
	err := s.tx(ctx, func(tx *Tx) error {
		t, err := scanTask(tx.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks t LEFT JOIN customers c ON c.id = t.customer_id WHERE t.id = $1`, taskID))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "task %s not found", taskID)
		}
		if err != nil {
			return err
		}
		if t.Status == TaskCancelled {
			return errs.E(errs.Conflict, "task %s was cancelled", taskID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tasks SET status = $1, outcome = $2, notes = $3, outcome_at = $4, outcome_by = $5 WHERE id = $6`,
			TaskDone, outcome, notes, ts(at), a.ID, taskID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "outcome", "task", taskID, t.CustomerID, map[string]any{
			"outcome": map[string]any{"before": t.Outcome, "after": outcome}}); err != nil {
			return err
		}
		t.Status, t.Outcome, t.Notes, t.OutcomeBy = TaskDone, outcome, notes, a.ID
		at := at.UTC()
		t.OutcomeAt = &at
		out = t
		return nil
	})
	return out, wrap("record outcome", err)
}

const experimentColumns = `id, name, list_id, salt, arms, control, stratify_by, created_by, created_at`

func scanExperiment(row interface{ Scan(...any) error }) (Experiment, error) {
	var e Experiment
	var arms []byte
	var created dbTime
	if err := row.Scan(&e.ID, &e.Name, &e.ListID, &e.Salt, &arms, &e.Control, &e.StratifyBy, &e.CreatedBy, &created); err != nil {
		return e, err
	}
	e.CreatedAt = created.Time
	return e, json.Unmarshal(arms, &e.Arms)
}

// Experiment returns one experiment.
func (s *Store) Experiment(ctx context.Context, id string) (Experiment, error) {
	e, err := scanExperiment(s.read.QueryRowContext(ctx, `SELECT `+experimentColumns+` FROM experiments WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, errs.E(errs.NotFound, "experiment %s not found", id)
	}
	return e, wrap("get experiment", err)
}

// ExperimentOfList returns the experiment run over a list, if any.
func (s *Store) ExperimentOfList(ctx context.Context, listID string) (*Experiment, error) {
	e, err := scanExperiment(s.read.QueryRowContext(ctx, `SELECT `+experimentColumns+` FROM experiments WHERE list_id = $1`, listID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: experiment of list: %w", err)
	}
	return &e, nil
}

// Initiative stages.
var InitiativeStages = []string{"explore", "pilot", "scale", "stopped"}

// Initiative groups lists and experiments under a hypothesis, a target
// segment and a budget.
type Initiative struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Hypothesis string    `json:"hypothesis,omitempty"`
	SegmentID  string    `json:"segment_id,omitempty"`
	Budget     float64   `json:"budget"`
	Stage      string    `json:"stage"`
	CreatedBy  string    `json:"created_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// CreateInitiative stores an initiative.
func (s *Store) CreateInitiative(ctx context.Context, a Actor, in *Initiative) error {
	err := s.tx(ctx, func(tx *Tx) error {
		if in.SegmentID != "" {
			if err := exists(ctx, tx, "segments", in.SegmentID, "segment"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO initiatives (id, name, hypothesis, segment_id, budget, stage, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, in.ID, in.Name, in.Hypothesis, nullString(in.SegmentID), in.Budget, in.Stage, a.ID, ts(in.CreatedAt)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "initiative", in.ID, "", map[string]any{"name": in.Name, "stage": in.Stage})
	})
	in.CreatedBy, in.UpdatedAt = a.ID, in.CreatedAt
	return wrap("create initiative", err)
}

const initiativeColumns = `id, name, hypothesis, COALESCE(segment_id, ''), budget, stage, created_by, created_at, updated_at`

func scanInitiative(row interface{ Scan(...any) error }) (Initiative, error) {
	var in Initiative
	var created, updated dbTime
	err := row.Scan(&in.ID, &in.Name, &in.Hypothesis, &in.SegmentID, &in.Budget, &in.Stage, &in.CreatedBy, &created, &updated)
	in.CreatedAt, in.UpdatedAt = created.Time, updated.Time
	return in, err
}

// Initiative returns one initiative.
func (s *Store) Initiative(ctx context.Context, id string) (Initiative, error) {
	in, err := scanInitiative(s.read.QueryRowContext(ctx, `SELECT `+initiativeColumns+` FROM initiatives WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return in, errs.E(errs.NotFound, "initiative %s not found", id)
	}
	return in, wrap("get initiative", err)
}

// Initiatives lists every initiative, oldest first.
func (s *Store) Initiatives(ctx context.Context) ([]Initiative, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+initiativeColumns+` FROM initiatives ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list initiatives: %w", err)
	}
	defer rows.Close()
	out := []Initiative{}
	for rows.Next() {
		in, err := scanInitiative(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list initiatives: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// SetInitiativeStage moves an initiative to a stage.
func (s *Store) SetInitiativeStage(ctx context.Context, a Actor, id, stage string, at time.Time) (Initiative, error) {
	var out Initiative
	err := s.tx(ctx, func(tx *Tx) error {
		before, err := scanInitiative(tx.QueryRowContext(ctx, `SELECT `+initiativeColumns+` FROM initiatives WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "initiative %s not found", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE initiatives SET stage = $1, updated_at = $2 WHERE id = $3`, stage, ts(at), id); err != nil {
			return err
		}
		out = before
		out.Stage, out.UpdatedAt = stage, at.UTC()
		return s.audit(ctx, tx, a, "update", "initiative", id, "", map[string]any{"stage": map[string]any{"before": before.Stage, "after": stage}})
	})
	return out, wrap("set initiative stage", err)
}

// Cost is money or people-time spent on an initiative or a list.
type Cost struct {
	ID           string    `json:"id"`
	InitiativeID string    `json:"initiative_id,omitempty"`
	ListID       string    `json:"list_id,omitempty"`
	Hours        float64   `json:"hours"`
	HourlyRate   float64   `json:"hourly_rate"`
	Money        float64   `json:"money"`
	Note         string    `json:"note,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// Total is the cost in money: hours × rate + money spent.
func (c Cost) Total() float64 { return c.Hours*c.HourlyRate + c.Money }

// AddCost records a cost against an initiative or a list (which must exist).
func (s *Store) AddCost(ctx context.Context, a Actor, c Cost) error {
	err := s.tx(ctx, func(tx *Tx) error {
		if c.InitiativeID != "" {
			if err := exists(ctx, tx, "initiatives", c.InitiativeID, "initiative"); err != nil {
				return err
			}
		}
		if c.ListID != "" {
			if err := exists(ctx, tx, "target_lists", c.ListID, "list"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO costs (id, initiative_id, list_id, hours, hourly_rate, money, note, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, c.ID, nullString(c.InitiativeID), nullString(c.ListID), c.Hours, c.HourlyRate, c.Money,
			c.Note, a.ID, ts(c.CreatedAt)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "cost", c.ID, "", map[string]any{"total": c.Total(), "initiative_id": c.InitiativeID, "list_id": c.ListID})
	})
	return wrap("add cost", err)
}

// Costs lists every recorded cost.
func (s *Store) Costs(ctx context.Context) ([]Cost, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, COALESCE(initiative_id, ''), COALESCE(list_id, ''), hours, hourly_rate, money, note, created_at
		FROM costs ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list costs: %w", err)
	}
	defer rows.Close()
	out := []Cost{}
	for rows.Next() {
		var c Cost
		var at dbTime
		if err := rows.Scan(&c.ID, &c.InitiativeID, &c.ListID, &c.Hours, &c.HourlyRate, &c.Money, &c.Note, &at); err != nil {
			return nil, fmt.Errorf("store: list costs: %w", err)
		}
		c.CreatedAt = at.Time
		out = append(out, c)
	}
	return out, rows.Err()
}
