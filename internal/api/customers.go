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
	"github.com/rapportcrm/rapport/internal/store"
)

// RepsOwnOnlySetting names the workspace setting that restricts reps to the
// customers they own.
const RepsOwnOnlySetting = "reps_own_customers_only"

type customerBody struct {
	Body customer.Customer
}

type customerOutput struct {
	ETag string `header:"ETag"`
	Body customer.Customer
}

type listOutput struct {
	Body struct {
		Items      []customer.Customer `json:"items"`
		NextCursor *string             `json:"next_cursor"`
	}
}

type listInput struct {
	Q      string   `query:"q" doc:"Substring of the name (Chinese or pinyin), an email, or a phone number" maxLength:"200"`
	Kind   string   `query:"kind" enum:"person,organization" doc:"Only this kind of customer"`
	Tag    string   `query:"tag" maxLength:"60"`
	Owner  string   `query:"owner" doc:"Owner user id"`
	Attr   []string `query:"attr,explode" doc:"Attribute filter key:value, repeatable, e.g. attr=city:上海"`
	Sort   string   `query:"sort" enum:"created,name" default:"created" doc:"created: newest first; name: pinyin/alphabetical"`
	Cursor string   `query:"cursor" doc:"next_cursor from the previous page"`
	Limit  int      `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type idPath struct {
	ID string `path:"id" maxLength:"64"`
}

type createInput struct {
	Body customer.Input
}

type batchInput struct {
	Body struct {
		Items []customer.Input `json:"items" minItems:"1" maxItems:"1000"`
	}
}

type batchOutput struct {
	Body struct {
		Items []customer.Customer `json:"items"`
	}
}

type patchInput struct {
	ID      string `path:"id" maxLength:"64"`
	IfMatch string `header:"If-Match" doc:"The ETag of the version you edited; required"`
	Body    customer.Input
}

func etag(c customer.Customer) string { return `"` + strconv.FormatInt(c.Version, 10) + `"` }

// parseIfMatch reads the version from an If-Match header; "*" means
// "whatever is current", an explicit opt-out of the stale-write check.
func parseIfMatch(h string) (int64, bool, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false, errs.E(errs.PreconditionNeeded, "If-Match is required: send the ETag you read, so a concurrent edit is not overwritten")
	}
	if h == "*" {
		return 0, true, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil {
		return 0, false, errs.E(errs.PreconditionFailed, "If-Match %q is not an ETag this server issued", h)
	}
	return v, false, nil
}

// visible enforces the workspace rule that reps only see their own customers.
func (s *Server) visible(ctx context.Context, c customer.Customer) error {
	p := principal(ctx)
	if p.Role != auth.Rep || c.OwnerID == p.UserID {
		return nil
	}
	var ownOnly bool
	if _, err := s.Store.Setting(ctx, RepsOwnOnlySetting, &ownOnly); err != nil {
		return err
	}
	if ownOnly {
		return errs.E(errs.NotFound, "customer %s not found", c.ID)
	}
	return nil
}

func (s *Server) registerCustomers(api huma.API) {
	huma.Register(api, op("list-customers", http.MethodGet, "/api/v1/customers", "List and search customers", auth.ReadCustomers, "customers"),
		func(ctx context.Context, in *listInput) (*listOutput, error) {
			f := store.Filter{Q: in.Q, Kind: in.Kind, Tag: in.Tag, OwnerID: in.Owner, Cursor: in.Cursor, Limit: in.Limit}
			if in.Sort == "name" {
				f.Sort = "name"
			}
			for i, a := range in.Attr {
				k, v, ok := strings.Cut(a, ":")
				if !ok || k == "" {
					return nil, s.problem(ctx, errs.Validation(errs.FieldError{Field: "query.attr[" + strconv.Itoa(i) + "]", Message: "must be key:value", Value: a}))
				}
				if f.Attrs == nil {
					f.Attrs = map[string]string{}
				}
				f.Attrs[k] = v
			}
			if p := principal(ctx); p.Role == auth.Rep {
				var ownOnly bool
				if _, err := s.Store.Setting(ctx, RepsOwnOnlySetting, &ownOnly); err != nil {
					return nil, s.problem(ctx, err)
				}
				if ownOnly {
					f.OwnerID = p.UserID
				}
			}
			page, err := s.Store.ListCustomers(ctx, f)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &listOutput{}
			out.Body.Items = page.Items
			if page.NextCursor != "" {
				out.Body.NextCursor = &page.NextCursor
			}
			return out, nil
		})

	create := op("create-customer", http.MethodPost, "/api/v1/customers", "Create a customer", auth.WriteCustomers, "customers")
	create.DefaultStatus = http.StatusCreated
	create.MaxBodyBytes = 256 << 10
	huma.Register(api, create, func(ctx context.Context, in *createInput) (*customerOutput, error) {
		cs, err := s.createCustomers(ctx, []customer.Input{in.Body})
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &customerOutput{ETag: etag(*cs[0]), Body: *cs[0]}, nil
	})

	batch := op("create-customers", http.MethodPost, "/api/v1/customers/batch", "Create up to 1,000 customers in one transaction (all or none)", auth.WriteCustomers, "customers")
	batch.DefaultStatus = http.StatusCreated
	batch.MaxBodyBytes = 8 << 20
	huma.Register(api, batch, func(ctx context.Context, in *batchInput) (*batchOutput, error) {
		cs, err := s.createCustomers(ctx, in.Body.Items)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		out := &batchOutput{}
		out.Body.Items = make([]customer.Customer, len(cs))
		for i, c := range cs {
			out.Body.Items[i] = *c
		}
		return out, nil
	})

	huma.Register(api, op("get-customer", http.MethodGet, "/api/v1/customers/{id}", "Get a customer with identities, memberships and stats", auth.ReadCustomers, "customers"),
		func(ctx context.Context, in *idPath) (*customerOutput, error) {
			c, err := s.Store.Customer(ctx, in.ID)
			if err == nil && c.DeletedAt != nil {
				err = errs.E(errs.NotFound, "customer %s is deleted (restore it within 30 days with POST /api/v1/customers/%s/restore)", c.ID, c.ID)
			}
			if err == nil {
				err = s.visible(ctx, c)
			}
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &customerOutput{ETag: etag(c), Body: c}, nil
		})

	patch := op("update-customer", http.MethodPatch, "/api/v1/customers/{id}", "Change a customer (needs If-Match)", auth.WriteCustomers, "customers")
	patch.MaxBodyBytes = 256 << 10
	huma.Register(api, patch, func(ctx context.Context, in *patchInput) (*customerOutput, error) {
		version, any, err := parseIfMatch(in.IfMatch)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		cur, err := s.Store.Customer(ctx, in.ID)
		if err == nil {
			err = s.visible(ctx, cur)
		}
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		if any {
			version = cur.Version
		}
		rules, err := s.rules(ctx)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		c, err := s.Store.UpdateCustomer(ctx, principal(ctx).Actor(), in.ID, version, func(c *customer.Customer) error {
			return rules.Apply(c, in.Body, false)
		})
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &customerOutput{ETag: etag(c), Body: c}, nil
	})

	del := op("delete-customer", http.MethodDelete, "/api/v1/customers/{id}", "Delete a customer (restorable for 30 days)", auth.DeleteCustomers, "customers")
	del.DefaultStatus = http.StatusNoContent
	huma.Register(api, del, func(ctx context.Context, in *idPath) (*struct{}, error) {
		if err := s.Store.DeleteCustomer(ctx, principal(ctx).Actor(), in.ID); err != nil {
			return nil, s.problem(ctx, err)
		}
		return nil, nil
	})

	huma.Register(api, op("restore-customer", http.MethodPost, "/api/v1/customers/{id}/restore", "Restore a customer deleted in the last 30 days", auth.DeleteCustomers, "customers"),
		func(ctx context.Context, in *idPath) (*customerOutput, error) {
			c, err := s.Store.RestoreCustomer(ctx, principal(ctx).Actor(), in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &customerOutput{ETag: etag(c), Body: c}, nil
		})
}

// createCustomers validates every input (reporting all errors of all
// items at once) and stores them in one transaction.
func (s *Server) createCustomers(ctx context.Context, ins []customer.Input) ([]*customer.Customer, error) {
	rules, err := s.rules(ctx)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	now := time.Now().UTC()
	cs := make([]*customer.Customer, len(ins))
	var bad []errs.FieldError
	for i, in := range ins {
		c := &customer.Customer{ID: customer.NewID(), CreatedAt: now, UpdatedAt: now, Version: 1,
			Attributes: map[string]any{}, Tags: []string{}, Identities: []customer.Identity{}, Memberships: []customer.Membership{}}
		if in.OwnerID == nil && p.UserID != "" {
			c.OwnerID = p.UserID
		}
		if err := rules.Apply(c, in, true); err != nil {
			e, _ := err.(*errs.Error)
			if len(ins) == 1 || e == nil {
				return nil, err
			}
			for _, f := range e.Fields {
				f.Field = strings.Replace(f.Field, "body.", "body.items["+strconv.Itoa(i)+"].", 1)
				bad = append(bad, f)
			}
		}
		for j := range c.Memberships {
			c.Memberships[j].PersonID = c.ID
		}
		cs[i] = c
	}
	if len(bad) > 0 {
		return nil, errs.Validation(bad...)
	}
	if err := s.Store.CreateCustomers(ctx, p.Actor(), cs); err != nil {
		return nil, err
	}
	return cs, nil
}
