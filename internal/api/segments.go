package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/segment"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

type segmentInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"200" doc:"Segment name / 分群名称"`
		Rule string `json:"rule" minLength:"1" maxLength:"10000" doc:"Rule, e.g. tier in (\"gold\",\"silver\") and p_alive < 0.5 and orders_90d = 0 and city = \"上海\""`
	}
}

type segmentOutput struct {
	Body targeting.SegmentView
}

type ruleInput struct {
	Body struct {
		Rule string `json:"rule" minLength:"1" maxLength:"10000"`
	}
}

type previewOutput struct {
	Body targeting.Preview
}

type ruleFieldsOutput struct {
	Body struct {
		Items []segment.FieldInfo `json:"items"`
	}
}

type segmentsOutput struct {
	Body struct {
		Items []store.Segment `json:"items"`
	}
}

type membersInput struct {
	ID     string `path:"id" maxLength:"64"`
	Cursor string `query:"cursor" doc:"next_cursor from the previous page"`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Source string `query:"source" enum:"rule,materialized" default:"rule" doc:"rule: evaluate the rule now (exact, creation order); materialized: the recorded membership kept current on every write (fast on any workspace, customer-id order)"`
}

type membersOutput struct {
	Body struct {
		Items      []customer.Customer `json:"items"`
		NextCursor *string             `json:"next_cursor"`
	}
}

type refreshOutput struct {
	Body struct {
		Entered int64 `json:"entered"`
		Left    int64 `json:"left"`
	}
}

type membershipEventsInput struct {
	ID    string `path:"id" maxLength:"64"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type membershipEventsOutput struct {
	Body struct {
		Items []store.MembershipEvent `json:"items"`
	}
}

type armInput struct {
	Name   string  `json:"name" minLength:"1" maxLength:"60"`
	Weight float64 `json:"weight" exclusiveMinimum:"0"`
	Script string  `json:"script,omitempty" maxLength:"10000"`
}

// listBody is what a list (and an experiment, which is a list with arms)
// is made from.
type listBody struct {
	Name            string     `json:"name" minLength:"1" maxLength:"200"`
	SegmentID       string     `json:"segment_id,omitempty" doc:"Freeze this segment's current members"`
	Score           string     `json:"score,omitempty" enum:"clv,p_alive,churn_risk" doc:"Or take the top_n by this score (within the segment when one is named)"`
	TopN            int        `json:"top_n,omitempty" minimum:"0" maximum:"200000"`
	InitiativeID    string     `json:"initiative_id,omitempty"`
	Script          string     `json:"script,omitempty" maxLength:"10000" doc:"Call script or notes for the reps / 话术"`
	DueAt           *time.Time `json:"due_at,omitempty"`
	DueDays         int        `json:"due_days,omitempty" minimum:"0" maximum:"365"`
	AttributionDays int        `json:"attribution_days,omitempty" minimum:"0" maximum:"365" doc:"Purchases within this many days are attributed (default 30)"`
	Assign          string     `json:"assign,omitempty" enum:"round_robin,owner,none" doc:"round_robin over reps, the customer's owner, or nobody"`
	Reps            []string   `json:"reps,omitempty" maxItems:"1000"`
	Holdout         float64    `json:"holdout,omitempty" minimum:"0" exclusiveMaximum:"1" doc:"Share kept as an uncontacted control group"`
	Arms            []armInput `json:"arms,omitempty" maxItems:"20" doc:"Arms with weights (e.g. two variants and a control)"`
	Control         string     `json:"control,omitempty" maxLength:"60"`
	StratifyBy      string     `json:"stratify_by,omitempty" enum:"tier,none"`
}

func (b listBody) spec() targeting.ListSpec {
	sp := targeting.ListSpec{Name: b.Name, SegmentID: b.SegmentID, Score: b.Score, TopN: b.TopN, InitiativeID: b.InitiativeID, Script: b.Script,
		DueAt: b.DueAt, DueDays: b.DueDays, AttributionDays: b.AttributionDays, Assign: b.Assign, Reps: b.Reps, Holdout: b.Holdout,
		Control: b.Control, StratifyBy: b.StratifyBy}
	for _, a := range b.Arms {
		sp.Arms = append(sp.Arms, store.ExperimentArm{Name: a.Name, Weight: a.Weight, Script: a.Script})
	}
	return sp
}

type targetListInput struct {
	Body listBody
}

type listViewOutput struct {
	Body targeting.ListView
}

type listsOutput struct {
	Body struct {
		Items []store.TargetList `json:"items"`
	}
}

type listGetOutput struct {
	Body store.TargetList
}

type tasksInput struct {
	Assignee   string `query:"assignee" doc:"A user id, or me"`
	ListID     string `query:"list_id"`
	CustomerID string `query:"customer_id"`
	Status     string `query:"status" enum:"open,done,cancelled"`
	Limit      int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type tasksOutput struct {
	Body struct {
		Items []store.Task `json:"items"`
	}
}

type outcomeBody struct {
	Outcome string `json:"outcome" enum:"reached,interested,bought,declined,not_reachable"`
	Notes   string `json:"notes,omitempty" maxLength:"10000"`
}

type taskOutcomeInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body outcomeBody
}

type customerOutcomeInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Outcome string `json:"outcome" enum:"reached,interested,bought,declined,not_reachable"`
		Notes   string `json:"notes,omitempty" maxLength:"10000"`
		ListID  string `json:"list_id,omitempty" doc:"The list whose task to close; default the customer's open task due first"`
	}
}

type taskOutput struct {
	Body store.Task
}

type experimentOutput struct {
	Body store.Experiment
}

type resultsOutput struct {
	Body targeting.Results
}

type boardOutput struct {
	Body targeting.Board
}

type initiativeInput struct {
	Body struct {
		Name       string  `json:"name" minLength:"1" maxLength:"200"`
		Hypothesis string  `json:"hypothesis,omitempty" maxLength:"10000"`
		SegmentID  string  `json:"segment_id,omitempty"`
		Budget     float64 `json:"budget,omitempty" minimum:"0" maximum:"1e12"`
		Stage      string  `json:"stage,omitempty" enum:"explore,pilot,scale,stopped"`
	}
}

type initiativeOutput struct {
	Body store.Initiative
}

type initiativePatch struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Stage string `json:"stage" enum:"explore,pilot,scale,stopped"`
	}
}

type portfolioOutput struct {
	Body targeting.Portfolio
}

type costInput struct {
	Body struct {
		InitiativeID string  `json:"initiative_id,omitempty"`
		ListID       string  `json:"list_id,omitempty"`
		Hours        float64 `json:"hours,omitempty" minimum:"0" maximum:"1e12" doc:"People-hours / 人工小时"`
		HourlyRate   float64 `json:"hourly_rate,omitempty" minimum:"0" maximum:"1e12"`
		Money        float64 `json:"money,omitempty" minimum:"0" maximum:"1e12" doc:"Money spent / 费用"`
		Note         string  `json:"note,omitempty" maxLength:"2000"`
	}
}

type costOutput struct {
	Body store.Cost
}

type roundInput struct {
	Body struct {
		Name            string   `json:"name" minLength:"1" maxLength:"200"`
		SegmentID       string   `json:"segment_id"`
		Size            int      `json:"size" minimum:"1" maximum:"200000" doc:"Customers the model picks (its control share included)"`
		RandomSize      int      `json:"random_size,omitempty" minimum:"0" maximum:"200000" doc:"Random customers from the rest of the segment, for comparison"`
		ControlFraction float64  `json:"control_fraction,omitempty" minimum:"0" exclusiveMaximum:"1" doc:"Share of the model's picks held out (default 0.2)"`
		AttributionDays int      `json:"attribution_days,omitempty" minimum:"0" maximum:"365"`
		DueDays         int      `json:"due_days,omitempty" minimum:"0" maximum:"365"`
		Script          string   `json:"script,omitempty" maxLength:"10000"`
		Assign          string   `json:"assign,omitempty" enum:"round_robin,owner,none"`
		Reps            []string `json:"reps,omitempty" maxItems:"1000"`
		InitiativeID    string   `json:"initiative_id,omitempty"`
		TrainLists      []string `json:"train_lists,omitempty" maxItems:"1000" doc:"Lists to learn from; default every list whose window has closed"`
	}
}

type roundOutput struct {
	Body targeting.Round
}

type roundReportOutput struct {
	Body targeting.RoundReport
}

// targeting returns the service, making one without real-time membership
// when the server was built without it.
func (s *Server) targeting() *targeting.Service {
	if s.Targeting == nil {
		s.Targeting = &targeting.Service{Store: s.Store, Region: s.Region}
	}
	return s.Targeting
}

// ownerScope is the owner a rep is limited to when the workspace keeps
// reps to their own customers ("" otherwise).
func (s *Server) ownerScope(ctx context.Context) (string, error) {
	p := principal(ctx)
	if p.Role != auth.Rep {
		return "", nil
	}
	var ownOnly bool
	if _, err := s.Store.Setting(ctx, RepsOwnOnlySetting, &ownOnly); err != nil {
		return "", err
	}
	if ownOnly {
		return p.UserID, nil
	}
	return "", nil
}

// registerSegments mounts segments, target lists, tasks and outcomes,
// experiments, the success board, initiatives and the predictive loop.
func (s *Server) registerSegments(api huma.API) {
	t := s.targeting()

	huma.Register(api, op("segment-fields", http.MethodGet, "/api/v1/segments/fields", "Fields a segment rule can use (for the rule builder)", auth.ReadCustomers, "segments"),
		func(ctx context.Context, _ *struct{}) (*ruleFieldsOutput, error) {
			cat, err := t.Catalogue(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &ruleFieldsOutput{}
			out.Body.Items = cat.FieldList()
			return out, nil
		})

	huma.Register(api, op("preview-segment", http.MethodPost, "/api/v1/segments/preview", "Count and preview a rule without saving it", auth.ReadCustomers, "segments"),
		func(ctx context.Context, in *ruleInput) (*previewOutput, error) {
			owner, err := s.ownerScope(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			p, err := t.PreviewRule(ctx, in.Body.Rule, owner)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &previewOutput{Body: p}, nil
		})

	create := op("create-segment", http.MethodPost, "/api/v1/segments", "Create a segment from a rule; returns its count and first members", auth.WriteTargeting, "segments")
	create.DefaultStatus = http.StatusCreated
	huma.Register(api, create, func(ctx context.Context, in *segmentInput) (*segmentOutput, error) {
		v, err := t.CreateSegment(ctx, principal(ctx).Actor(), in.Body.Name, in.Body.Rule)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &segmentOutput{Body: v}, nil
	})

	huma.Register(api, op("list-segments", http.MethodGet, "/api/v1/segments", "List segments", auth.ReadCustomers, "segments"),
		func(ctx context.Context, _ *struct{}) (*segmentsOutput, error) {
			segs, err := s.Store.Segments(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &segmentsOutput{}
			out.Body.Items = segs
			return out, nil
		})

	huma.Register(api, op("get-segment", http.MethodGet, "/api/v1/segments/{id}", "Get a segment with its current count", auth.ReadCustomers, "segments"),
		func(ctx context.Context, in *idPath) (*segmentOutput, error) {
			seg, err := s.Store.Segment(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			owner, err := s.ownerScope(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			n, err := t.CountMembers(ctx, in.ID, owner)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &segmentOutput{Body: targeting.SegmentView{Segment: seg, Preview: targeting.Preview{Count: n, Preview: []customer.Customer{}}}}, nil
		})

	del := op("delete-segment", http.MethodDelete, "/api/v1/segments/{id}", "Delete a segment", auth.WriteTargeting, "segments")
	del.DefaultStatus = http.StatusNoContent
	huma.Register(api, del, func(ctx context.Context, in *idPath) (*struct{}, error) {
		if err := t.DeleteSegment(ctx, principal(ctx).Actor(), in.ID); err != nil {
			return nil, s.problem(ctx, err)
		}
		return nil, nil
	})

	huma.Register(api, op("segment-members", http.MethodGet, "/api/v1/segments/{id}/members", "List a segment's current members", auth.ReadCustomers, "segments"),
		func(ctx context.Context, in *membersInput) (*membersOutput, error) {
			owner, err := s.ownerScope(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			members := t.Members
			if in.Source == "materialized" {
				members = t.MaterializedMembers
			}
			page, err := members(ctx, in.ID, owner, in.Cursor, in.Limit)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &membersOutput{}
			out.Body.Items = page.Items
			if page.NextCursor != "" {
				out.Body.NextCursor = &page.NextCursor
			}
			return out, nil
		})

	huma.Register(api, op("refresh-segment", http.MethodPost, "/api/v1/segments/{id}/refresh", "Re-evaluate a segment over every customer and log who entered and left", auth.WriteTargeting, "segments"),
		func(ctx context.Context, in *idPath) (*refreshOutput, error) {
			entered, left, err := t.Refresh(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &refreshOutput{}
			out.Body.Entered, out.Body.Left = entered, left
			return out, nil
		})

	huma.Register(api, op("segment-events", http.MethodGet, "/api/v1/segments/{id}/events", "Customers entering and leaving a segment, newest first", auth.ReadCustomers, "segments"),
		func(ctx context.Context, in *membershipEventsInput) (*membershipEventsOutput, error) {
			if _, err := s.Store.Segment(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			es, err := s.Store.MembershipEvents(ctx, "", in.ID, in.Limit)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &membershipEventsOutput{}
			out.Body.Items = es
			return out, nil
		})

	huma.Register(api, op("customer-segment-events", http.MethodGet, "/api/v1/customers/{id}/segment-events", "A customer's segment entries and exits, newest first", auth.ReadCustomers, "segments"),
		func(ctx context.Context, in *membershipEventsInput) (*membershipEventsOutput, error) {
			if err := s.checkVisible(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			es, err := s.Store.MembershipEvents(ctx, in.ID, "", in.Limit)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &membershipEventsOutput{}
			out.Body.Items = es
			return out, nil
		})

	s.registerLists(api, t)
	s.registerExperiments(api, t)
}

func (s *Server) registerLists(api huma.API, t *targeting.Service) {
	create := op("create-list", http.MethodPost, "/api/v1/lists", "Freeze a segment or a top-N by score into a target list and hand it to reps", auth.WriteTargeting, "lists")
	create.DefaultStatus = http.StatusCreated
	huma.Register(api, create, func(ctx context.Context, in *targetListInput) (*listViewOutput, error) {
		v, err := t.CreateList(ctx, principal(ctx).Actor(), in.Body.spec())
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &listViewOutput{Body: v}, nil
	})

	huma.Register(api, op("list-lists", http.MethodGet, "/api/v1/lists", "List target lists, newest first", auth.ReadCustomers, "lists"),
		func(ctx context.Context, in *struct {
			Initiative string `query:"initiative_id"`
		}) (*listsOutput, error) {
			ls, err := s.Store.Lists(ctx, in.Initiative)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &listsOutput{}
			out.Body.Items = ls
			return out, nil
		})

	huma.Register(api, op("get-list", http.MethodGet, "/api/v1/lists/{id}", "Get a target list", auth.ReadCustomers, "lists"),
		func(ctx context.Context, in *idPath) (*listGetOutput, error) {
			l, err := s.Store.List(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &listGetOutput{Body: l}, nil
		})

	huma.Register(api, op("list-tasks", http.MethodGet, "/api/v1/tasks", "List tasks by due date (assignee=me for your own)", auth.ReadCustomers, "lists"),
		func(ctx context.Context, in *tasksInput) (*tasksOutput, error) {
			p := principal(ctx)
			f := store.TaskFilter{AssigneeID: in.Assignee, ListID: in.ListID, CustomerID: in.CustomerID, Status: in.Status, Limit: in.Limit}
			if f.AssigneeID == "me" {
				f.AssigneeID = p.UserID
			}
			if owner, err := s.ownerScope(ctx); err != nil {
				return nil, s.problem(ctx, err)
			} else if owner != "" {
				f.AssigneeID = owner // reps kept to their own customers see their own tasks
			}
			ts, err := s.Store.Tasks(ctx, f)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &tasksOutput{}
			out.Body.Items = ts
			return out, nil
		})

	huma.Register(api, op("record-task-outcome", http.MethodPost, "/api/v1/tasks/{id}/outcome", "Record the outcome of a task", auth.WriteCustomers, "lists"),
		func(ctx context.Context, in *taskOutcomeInput) (*taskOutput, error) {
			p := principal(ctx)
			tk, err := t.RecordOutcome(ctx, p.Actor(), p.UserID, p.Role == auth.Rep, in.ID, in.Body.Outcome, in.Body.Notes)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &taskOutput{Body: tk}, nil
		})

	huma.Register(api, op("record-customer-outcome", http.MethodPost, "/api/v1/customers/{id}/outcome", "Record an outcome from the customer page (closes the customer's open task)", auth.WriteCustomers, "lists"),
		func(ctx context.Context, in *customerOutcomeInput) (*taskOutput, error) {
			if err := s.checkVisible(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			p := principal(ctx)
			tk, err := t.RecordCustomerOutcome(ctx, p.Actor(), p.UserID, p.Role == auth.Rep, in.ID, in.Body.ListID, in.Body.Outcome, in.Body.Notes)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &taskOutput{Body: tk}, nil
		})

	huma.Register(api, op("success-board", http.MethodGet, "/api/v1/board", "The success board: every list's response against its baseline, revenue, cost and return", auth.ReadCustomers, "lists"),
		func(ctx context.Context, _ *struct{}) (*boardOutput, error) {
			b, err := t.SuccessBoard(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &boardOutput{Body: b}, nil
		})
}

func (s *Server) registerExperiments(api huma.API, t *targeting.Service) {
	create := op("create-experiment", http.MethodPost, "/api/v1/experiments", "Freeze a list split into arms with a control group (stratified by tier)", auth.WriteTargeting, "experiments")
	create.DefaultStatus = http.StatusCreated
	huma.Register(api, create, func(ctx context.Context, in *targetListInput) (*listViewOutput, error) {
		sp := in.Body.spec()
		if len(sp.Arms) == 0 && sp.Holdout == 0 {
			sp.Holdout = 0.5
		}
		v, err := t.CreateList(ctx, principal(ctx).Actor(), sp)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &listViewOutput{Body: v}, nil
	})

	huma.Register(api, op("get-experiment", http.MethodGet, "/api/v1/experiments/{id}", "Get an experiment", auth.ReadCustomers, "experiments"),
		func(ctx context.Context, in *idPath) (*experimentOutput, error) {
			e, err := s.Store.Experiment(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &experimentOutput{Body: e}, nil
		})

	huma.Register(api, op("experiment-results", http.MethodGet, "/api/v1/experiments/{id}/results",
		"Per arm size, conversion, revenue per customer; uplift vs control with 95% CI and p-value; sample-ratio check; readings", auth.ReadCustomers, "experiments"),
		func(ctx context.Context, in *idPath) (*resultsOutput, error) {
			r, err := t.ExperimentResults(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &resultsOutput{Body: r}, nil
		})

	createIn := op("create-initiative", http.MethodPost, "/api/v1/initiatives", "Create an initiative (hypothesis, target segment, budget, stage)", auth.WriteTargeting, "initiatives")
	createIn.DefaultStatus = http.StatusCreated
	huma.Register(api, createIn, func(ctx context.Context, in *initiativeInput) (*initiativeOutput, error) {
		b := in.Body
		v, err := t.CreateInitiative(ctx, principal(ctx).Actor(), targeting.InitiativeSpec{Name: b.Name, Hypothesis: b.Hypothesis, SegmentID: b.SegmentID, Budget: b.Budget, Stage: b.Stage})
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &initiativeOutput{Body: v}, nil
	})

	huma.Register(api, op("initiative-portfolio", http.MethodGet, "/api/v1/initiatives", "The initiative portfolio ranked by measured return per unit cost, with scale/stop flags", auth.ReadCustomers, "initiatives"),
		func(ctx context.Context, _ *struct{}) (*portfolioOutput, error) {
			p, err := t.Portfolio(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &portfolioOutput{Body: p}, nil
		})

	huma.Register(api, op("get-initiative", http.MethodGet, "/api/v1/initiatives/{id}", "Get an initiative", auth.ReadCustomers, "initiatives"),
		func(ctx context.Context, in *idPath) (*initiativeOutput, error) {
			v, err := s.Store.Initiative(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &initiativeOutput{Body: v}, nil
		})

	huma.Register(api, op("set-initiative-stage", http.MethodPatch, "/api/v1/initiatives/{id}", "Move an initiative to a stage (explore → pilot → scale, or stopped)", auth.WriteTargeting, "initiatives"),
		func(ctx context.Context, in *initiativePatch) (*initiativeOutput, error) {
			v, err := t.SetStage(ctx, principal(ctx).Actor(), in.ID, in.Body.Stage)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &initiativeOutput{Body: v}, nil
		})

	cost := op("add-cost", http.MethodPost, "/api/v1/costs", "Record a cost (people-hours × rate, money spent) on an initiative or a list", auth.WriteTargeting, "initiatives")
	cost.DefaultStatus = http.StatusCreated
	huma.Register(api, cost, func(ctx context.Context, in *costInput) (*costOutput, error) {
		b := in.Body
		c, err := t.AddCost(ctx, principal(ctx).Actor(), store.Cost{InitiativeID: b.InitiativeID, ListID: b.ListID, Hours: b.Hours, HourlyRate: b.HourlyRate, Money: b.Money, Note: b.Note})
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &costOutput{Body: c}, nil
	})

	round := op("create-predictive-round", http.MethodPost, "/api/v1/predictive/rounds",
		"Fit a response model on past lists, score a segment and freeze the next list (top scores, a random control, random comparison customers)", auth.WriteTargeting, "predictive")
	round.DefaultStatus = http.StatusCreated
	huma.Register(api, round, func(ctx context.Context, in *roundInput) (*roundOutput, error) {
		b := in.Body
		r, err := t.PredictiveRound(ctx, principal(ctx).Actor(), targeting.RoundSpec{Name: b.Name, SegmentID: b.SegmentID, InitiativeID: b.InitiativeID,
			Script: b.Script, Size: b.Size, RandomSize: b.RandomSize, ControlFraction: b.ControlFraction, AttributionDays: b.AttributionDays,
			DueDays: b.DueDays, Assign: b.Assign, Reps: b.Reps, TrainLists: b.TrainLists})
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &roundOutput{Body: r}, nil
	})

	huma.Register(api, op("predictive-round-report", http.MethodGet, "/api/v1/predictive/rounds/{id}", "How a predictive round did: top decile vs random, model vs random, contact vs control", auth.ReadCustomers, "predictive"),
		func(ctx context.Context, in *idPath) (*roundReportOutput, error) {
			r, err := t.RoundReport(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &roundReportOutput{Body: r}, nil
		})
}
