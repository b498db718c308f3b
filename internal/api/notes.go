package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

type notesOutput struct {
	Body struct {
		Items []customer.Note `json:"items"`
	}
}

type noteInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Body string `json:"body" minLength:"1" maxLength:"10000"`
	}
}

type noteOutput struct {
	Body customer.Note
}

type interactionsOutput struct {
	Body struct {
		Items []customer.Interaction `json:"items"`
	}
}

type interactionInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Kind    string     `json:"kind" enum:"call,meeting,visit,email,message,service"`
		At      *time.Time `json:"at,omitempty" doc:"When it happened; defaults to now"`
		Summary string     `json:"summary" minLength:"1" maxLength:"10000"`
	}
}

type interactionOutput struct {
	Body customer.Interaction
}

// checkVisible fails unless the caller may see the live customer id.
func (s *Server) checkVisible(ctx context.Context, id string) error {
	c, err := s.Store.Customer(ctx, id)
	if err != nil {
		return err
	}
	if c.DeletedAt != nil {
		return errs.E(errs.NotFound, "customer %s is deleted", id)
	}
	return s.visible(ctx, c)
}

func (s *Server) registerNotes(api huma.API) {
	huma.Register(api, op("list-notes", http.MethodGet, "/api/v1/customers/{id}/notes", "List a customer's notes, newest first", auth.ReadCustomers, "notes"),
		func(ctx context.Context, in *idPath) (*notesOutput, error) {
			if err := s.checkVisible(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			notes, err := s.Store.Notes(ctx, in.ID, 500)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &notesOutput{}
			out.Body.Items = notes
			return out, nil
		})

	addNote := op("add-note", http.MethodPost, "/api/v1/customers/{id}/notes", "Add a note to a customer", auth.WriteCustomers, "notes")
	addNote.DefaultStatus = http.StatusCreated
	huma.Register(api, addNote, func(ctx context.Context, in *noteInput) (*noteOutput, error) {
		if err := s.checkVisible(ctx, in.ID); err != nil {
			return nil, s.problem(ctx, err)
		}
		body := strings.TrimSpace(in.Body.Body)
		if body == "" {
			return nil, s.problem(ctx, errs.Validation(errs.FieldError{Field: "body.body", Message: "is empty"}))
		}
		n := customer.Note{ID: customer.NewID(), CustomerID: in.ID, AuthorID: principal(ctx).UserID, Body: body, CreatedAt: time.Now().UTC()}
		if err := s.Store.AddNote(ctx, principal(ctx).Actor(), n); err != nil {
			return nil, s.problem(ctx, err)
		}
		return &noteOutput{Body: n}, nil
	})

	huma.Register(api, op("list-interactions", http.MethodGet, "/api/v1/customers/{id}/interactions", "List a customer's interactions, most recent first", auth.ReadCustomers, "interactions"),
		func(ctx context.Context, in *idPath) (*interactionsOutput, error) {
			if err := s.checkVisible(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			items, err := s.Store.Interactions(ctx, in.ID, 500)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &interactionsOutput{}
			out.Body.Items = items
			return out, nil
		})

	addInteraction := op("add-interaction", http.MethodPost, "/api/v1/customers/{id}/interactions", "Record a call, meeting, visit, email, message or service contact", auth.WriteCustomers, "interactions")
	addInteraction.DefaultStatus = http.StatusCreated
	huma.Register(api, addInteraction, func(ctx context.Context, in *interactionInput) (*interactionOutput, error) {
		if err := s.checkVisible(ctx, in.ID); err != nil {
			return nil, s.problem(ctx, err)
		}
		if !slices.Contains(customer.InteractionKinds, in.Body.Kind) {
			return nil, s.problem(ctx, errs.Validation(errs.FieldError{Field: "body.kind", Message: "unknown kind", Value: in.Body.Kind}))
		}
		now := time.Now().UTC()
		at := now
		if in.Body.At != nil {
			at = in.Body.At.UTC()
		}
		summary := strings.TrimSpace(in.Body.Summary)
		if summary == "" {
			return nil, s.problem(ctx, errs.Validation(errs.FieldError{Field: "body.summary", Message: "is empty"}))
		}
		it := customer.Interaction{ID: customer.NewID(), CustomerID: in.ID, UserID: principal(ctx).UserID, Kind: in.Body.Kind, At: at, Summary: summary, CreatedAt: now}
		if err := s.Store.AddInteraction(ctx, principal(ctx).Actor(), it); err != nil {
			return nil, s.problem(ctx, err)
		}
		return &interactionOutput{Body: it}, nil
	})
}
