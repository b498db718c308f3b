package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/identity"
	"github.com/rapportcrm/rapport/internal/ingest"
	"github.com/rapportcrm/rapport/internal/store"
)

type sourcesOutput struct {
	Body struct {
		Items []store.Source `json:"items"`
	}
}

type sourceInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"100" doc:"What sends with this key: web, ios, backend…"`
	}
}

type createdSource struct {
	Body struct {
		store.Source
		WriteKey string `json:"write_key" doc:"Shown only once; send it as the HTTP Basic user name with an empty password"`
	}
}

type sourceOutput struct {
	Body store.Source
}

type ingestStatusOutput struct {
	Body store.QueueStatus
}

type ingestRetryOutput struct {
	Body struct {
		Requeued int `json:"requeued" doc:"failed requests put back in line"`
	}
}

type orderInput struct {
	Body struct {
		CustomerID string               `json:"customer_id,omitempty" doc:"The customer; or give identities to resolve (and create) one"`
		Identities []customer.Identity  `json:"identities,omitempty" maxItems:"20"`
		Name       string               `json:"name,omitempty" maxLength:"200" doc:"Name for a customer created by resolution"`
		OrderID    string               `json:"order_id,omitempty" maxLength:"200" doc:"The source system's order id; (source, order_id) makes the call idempotent"`
		Source     string               `json:"source,omitempty" maxLength:"100" doc:"Where the order comes from (shop, pos…); default api"`
		PlacedAt   *time.Time           `json:"placed_at,omitempty" doc:"Defaults to now"`
		Currency   string               `json:"currency" minLength:"3" maxLength:"3"`
		Total      *float64             `json:"total,omitempty" doc:"Defaults to the sum of price × quantity"`
		Status     string               `json:"status,omitempty" enum:"completed,refunded" default:"completed"`
		Products   []customer.OrderItem `json:"products,omitempty" maxItems:"1000"`
	}
}

type orderOutput struct {
	Body struct {
		customer.Order
		Created bool `json:"created" doc:"false when this (source, order_id) was already stored"`
	}
}

type timelineInput struct {
	ID     string   `path:"id" maxLength:"64"`
	Kind   []string `query:"kind,explode" doc:"Only these types (repeatable): track, page, screen, identify, group, alias, order, interaction, note"`
	Source string   `query:"source" maxLength:"100" doc:"Only events and orders from this source"`
	Cursor string   `query:"cursor" doc:"next_cursor from the previous page"`
	Limit  int      `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type timelineOutput struct {
	Body struct {
		Items      []store.TimelineItem `json:"items"`
		NextCursor *string              `json:"next_cursor"`
	}
}

type statsOutput struct {
	Body customer.Stats
}

type duplicatesInput struct {
	MinScore float64 `query:"min_score" minimum:"0" maximum:"1" default:"0.5" doc:"Lowest score listed"`
	Limit    int     `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type duplicatesOutput struct {
	Body struct {
		Items []identity.Candidate `json:"items"`
	}
}

type mergeInput struct {
	Body struct {
		Winner string `json:"winner" minLength:"1" maxLength:"64" doc:"The customer that stays"`
		Loser  string `json:"loser" minLength:"1" maxLength:"64" doc:"The customer folded into the winner"`
	}
}

type mergeOutput struct {
	Body store.Merge
}

type mergesInput struct {
	CustomerID string `query:"customer_id" maxLength:"64"`
	Limit      int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

type mergesOutput struct {
	Body struct {
		Items []store.Merge `json:"items"`
	}
}

type rulesOutput struct {
	Body identity.Rules
}

type rulesInput struct {
	Body identity.Rules
}

// registerTouchpoints mounts orders, the timeline, stats, merges,
// duplicates, identity rules and tracking sources. The tracking endpoints
// themselves (/v1/*) are plain handlers in internal/ingest.
func (s *Server) registerTouchpoints(api huma.API) {
	huma.Register(api, op("list-sources", http.MethodGet, "/api/v1/sources", "List tracking sources", auth.ManageSettings, "tracking"),
		func(ctx context.Context, _ *struct{}) (*sourcesOutput, error) {
			list, err := s.Store.Sources(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &sourcesOutput{}
			out.Body.Items = list
			return out, nil
		})
	create := op("create-source", http.MethodPost, "/api/v1/sources", "Create a tracking source and its write key (shown once)", auth.ManageSettings, "tracking")
	create.DefaultStatus = http.StatusCreated
	huma.Register(api, create, func(ctx context.Context, in *sourceInput) (*createdSource, error) {
		src, key, err := ingest.CreateSource(ctx, s.Store, principal(ctx).Actor(), in.Body.Name)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		out := &createdSource{}
		out.Body.Source, out.Body.WriteKey = src, key
		return out, nil
	})
	huma.Register(api, op("revoke-source", http.MethodPost, "/api/v1/sources/{id}/revoke", "Revoke a source's write key at once", auth.ManageSettings, "tracking"),
		func(ctx context.Context, in *idPath) (*sourceOutput, error) {
			src, err := s.Store.RevokeSource(ctx, principal(ctx).Actor(), in.ID, time.Now())
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &sourceOutput{Body: src}, nil
		})

	huma.Register(api, op("ingest-status", http.MethodGet, "/api/v1/ingest", "Tracking requests accepted and not yet applied, and those that failed", auth.ManageSettings, "tracking"),
		func(ctx context.Context, _ *struct{}) (*ingestStatusOutput, error) {
			st, err := s.Store.IngestQueueStatus(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &ingestStatusOutput{Body: st}, nil
		})
	huma.Register(api, op("ingest-retry", http.MethodPost, "/api/v1/ingest/retry", "Put every failed tracking request back in line to be applied again", auth.ManageSettings, "tracking"),
		func(ctx context.Context, _ *struct{}) (*ingestRetryOutput, error) {
			n, err := s.Store.RetryFailedQueued(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &ingestRetryOutput{}
			out.Body.Requeued = n
			return out, nil
		})

	order := op("create-order", http.MethodPost, "/api/v1/orders", "Record an order (idempotent on source and order_id)", auth.WriteEvents, "orders")
	order.DefaultStatus = http.StatusCreated
	order.MaxBodyBytes = 1 << 20
	huma.Register(api, order, func(ctx context.Context, in *orderInput) (*orderOutput, error) {
		o, err := s.createOrder(ctx, in)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return o, nil
	})

	huma.Register(api, op("customer-timeline", http.MethodGet, "/api/v1/customers/{id}/timeline", "A customer's events, page views, orders, interactions and notes, newest first", auth.ReadCustomers, "customers"),
		func(ctx context.Context, in *timelineInput) (*timelineOutput, error) {
			if err := s.checkVisible(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			var kinds []string
			for _, k := range in.Kind {
				for _, part := range strings.Split(k, ",") {
					if part = strings.TrimSpace(part); part != "" {
						kinds = append(kinds, part)
					}
				}
			}
			page, err := s.Store.Timeline(ctx, in.ID, store.TimelineFilter{Types: kinds, Source: in.Source, Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &timelineOutput{}
			out.Body.Items = page.Items
			if page.NextCursor != "" {
				out.Body.NextCursor = &page.NextCursor
			}
			return out, nil
		})

	huma.Register(api, op("customer-stats", http.MethodGet, "/api/v1/customers/{id}/stats", "A customer's computed traits, as kept current on every write", auth.ReadCustomers, "customers"),
		func(ctx context.Context, in *idPath) (*statsOutput, error) {
			if err := s.checkVisible(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			st, err := s.Store.CustomerStats(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &statsOutput{Body: st}, nil
		})

	huma.Register(api, op("list-duplicates", http.MethodGet, "/api/v1/duplicates", "Likely duplicate customers that share no identity, best first", auth.ReadCustomers, "identity"),
		func(ctx context.Context, in *duplicatesInput) (*duplicatesOutput, error) {
			cs, err := s.Store.LiveCustomers(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			pairs, err := identity.Duplicates(ctx, cs, in.MinScore)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &duplicatesOutput{}
			out.Body.Items = pairs[:min(len(pairs), in.Limit)]
			return out, nil
		})

	merge := op("merge-customers", http.MethodPost, "/api/v1/merges", "Merge two customers (the loser into the winner); undoable", auth.DeleteCustomers, "identity")
	merge.DefaultStatus = http.StatusCreated
	huma.Register(api, merge, func(ctx context.Context, in *mergeInput) (*mergeOutput, error) {
		for _, id := range []string{in.Body.Winner, in.Body.Loser} {
			if err := s.checkVisible(ctx, id); err != nil {
				return nil, s.problem(ctx, err)
			}
		}
		m, err := s.Store.MergeCustomers(ctx, principal(ctx).Actor(), in.Body.Winner, in.Body.Loser)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &mergeOutput{Body: m}, nil
	})
	huma.Register(api, op("list-merges", http.MethodGet, "/api/v1/merges", "Recorded merges, newest first", auth.ReadCustomers, "identity"),
		func(ctx context.Context, in *mergesInput) (*mergesOutput, error) {
			list, err := s.Store.Merges(ctx, in.CustomerID, in.Limit)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &mergesOutput{}
			out.Body.Items = list
			return out, nil
		})
	huma.Register(api, op("get-merge", http.MethodGet, "/api/v1/merges/{id}", "One recorded merge", auth.ReadCustomers, "identity"),
		func(ctx context.Context, in *idPath) (*mergeOutput, error) {
			m, err := s.Store.GetMerge(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &mergeOutput{Body: m}, nil
		})
	huma.Register(api, op("undo-merge", http.MethodPost, "/api/v1/merges/{id}/undo", "Undo a merge: restore both customers and re-attribute their touchpoints", auth.DeleteCustomers, "identity"),
		func(ctx context.Context, in *idPath) (*mergeOutput, error) {
			m, err := s.Store.UndoMerge(ctx, principal(ctx).Actor(), in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &mergeOutput{Body: m}, nil
		})

	huma.Register(api, op("get-identity-rules", http.MethodGet, "/api/v1/settings/identity-rules", "Identity resolution and auto-merge rules", auth.ReadCustomers, "identity"),
		func(ctx context.Context, _ *struct{}) (*rulesOutput, error) {
			r, err := s.Store.IdentityRules(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &rulesOutput{Body: r}, nil
		})
	huma.Register(api, op("set-identity-rules", http.MethodPut, "/api/v1/settings/identity-rules", "Change the identity resolution and auto-merge rules", auth.ManageSettings, "identity"),
		func(ctx context.Context, in *rulesInput) (*rulesOutput, error) {
			r, err := in.Body.Validate()
			if err == nil {
				err = s.Store.SetSetting(ctx, identity.SettingKey, r)
			}
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &rulesOutput{Body: r}, nil
		})
}

// createOrder validates an order, resolves its customer and stores it.
func (s *Server) createOrder(ctx context.Context, in *orderInput) (*orderOutput, error) {
	b := in.Body
	var fe []errs.FieldError
	ids := make([]customer.Identity, 0, len(b.Identities))
	for i, id := range b.Identities {
		n, err := customer.NormalizeIdentity(id, s.Region)
		if err != nil {
			fe = append(fe, errs.FieldError{Field: "body.identities[" + strconv.Itoa(i) + "].value", Message: err.Error(), Value: id.Value})
			continue
		}
		ids = append(ids, n)
	}
	if b.CustomerID == "" && len(b.Identities) == 0 {
		fe = append(fe, errs.FieldError{Field: "body.customer_id", Message: "give customer_id or identities"})
	}
	for i, p := range b.Products {
		if p.Quantity < 0 || p.Price < 0 {
			fe = append(fe, errs.FieldError{Field: "body.products[" + strconv.Itoa(i) + "]", Message: "price and quantity must not be negative"})
		}
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	o := customer.Order{ID: customer.NewID(), CustomerID: b.CustomerID, ExternalID: customer.NormalizeText(b.OrderID), Source: customer.NormalizeText(b.Source),
		Currency: strings.ToUpper(b.Currency), Status: b.Status, Items: b.Products, PlacedAt: time.Now().UTC()}
	if o.Source == "" {
		o.Source = "api"
	}
	if o.Status == "" {
		o.Status = customer.OrderCompleted
	}
	if b.PlacedAt != nil {
		o.PlacedAt = b.PlacedAt.UTC()
	}
	for i := range o.Items {
		if o.Items[i].Quantity == 0 {
			o.Items[i].Quantity = 1
		}
	}
	if b.Total != nil {
		o.Total = *b.Total
	} else {
		for _, it := range o.Items {
			o.Total += it.Price * it.Quantity
		}
	}
	if where, err := customer.CheckAmounts(o.Total, o.Items); err != nil {
		return nil, errs.Validation(errs.FieldError{Field: "body." + where, Message: err.Error()})
	}
	a := principal(ctx).Actor()
	if o.CustomerID != "" {
		if err := s.checkVisible(ctx, o.CustomerID); err != nil {
			return nil, err
		}
	} else {
		id, err := s.Store.Resolve(ctx, a, ids, customer.NormalizeText(b.Name))
		if err != nil {
			return nil, err
		}
		o.CustomerID = id
	}
	n, err := s.Store.CreateOrders(ctx, a, []customer.Order{o})
	if err != nil {
		return nil, err
	}
	out := &orderOutput{}
	out.Body.Order, out.Body.Created = o, n == 1
	return out, nil
}
