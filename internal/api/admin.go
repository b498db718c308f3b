package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

type fieldsOutput struct {
	Body struct {
		Items []customer.Field `json:"items"`
	}
}

type fieldInput struct {
	Body struct {
		Key     string             `json:"key" maxLength:"40"`
		Type    customer.FieldType `json:"type" enum:"text,number,date,enum,bool"`
		LabelEn string             `json:"label_en,omitempty" maxLength:"100"`
		LabelZh string             `json:"label_zh,omitempty" maxLength:"100"`
		Options []string           `json:"options,omitempty" maxItems:"200"`
	}
}

type fieldOutput struct {
	Body customer.Field
}

type usersOutput struct {
	Body struct {
		Items []store.User `json:"items"`
	}
}

type userInput struct {
	Body struct {
		Email    string    `json:"email" maxLength:"254"`
		Name     string    `json:"name,omitempty" maxLength:"200"`
		Role     auth.Role `json:"role" enum:"admin,manager,rep,analyst,viewer"`
		Password string    `json:"password,omitempty" maxLength:"200" doc:"Leave out to have one generated and returned once"`
	}
}

type userOutput struct {
	Body struct {
		store.User
		Password string `json:"password,omitempty" doc:"The generated password, shown only now"`
	}
}

type auditInput struct {
	CustomerID string `query:"customer_id" maxLength:"64"`
	Before     int64  `query:"before" doc:"seq of the oldest entry already seen"`
	Limit      int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

type auditOutput struct {
	Body struct {
		Items []store.AuditEntry `json:"items"`
	}
}

func (s *Server) registerAdmin(api huma.API) {
	huma.Register(api, op("list-fields", http.MethodGet, "/api/v1/fields", "List the custom fields", auth.ReadFields, "fields"),
		func(ctx context.Context, _ *struct{}) (*fieldsOutput, error) {
			fs, err := s.Store.Fields(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &fieldsOutput{}
			out.Body.Items = fs
			if out.Body.Items == nil {
				out.Body.Items = []customer.Field{}
			}
			return out, nil
		})

	create := op("create-field", http.MethodPost, "/api/v1/fields", "Declare a custom field", auth.WriteFields, "fields")
	create.DefaultStatus = http.StatusCreated
	huma.Register(api, create, func(ctx context.Context, in *fieldInput) (*fieldOutput, error) {
		f, err := customer.ValidateField(customer.Field{Key: in.Body.Key, Type: in.Body.Type, LabelEn: in.Body.LabelEn,
			LabelZh: in.Body.LabelZh, Options: in.Body.Options, CreatedAt: time.Now().UTC()})
		if err == nil {
			err = s.Store.CreateField(ctx, f)
		}
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &fieldOutput{Body: f}, nil
	})

	huma.Register(api, op("list-users", http.MethodGet, "/api/v1/users", "List users", auth.ManageUsers, "users"),
		func(ctx context.Context, _ *struct{}) (*usersOutput, error) {
			us, err := s.Store.ListUsers(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &usersOutput{}
			out.Body.Items = us
			return out, nil
		})

	createUser := op("create-user", http.MethodPost, "/api/v1/users", "Create a user", auth.ManageUsers, "users")
	createUser.DefaultStatus = http.StatusCreated
	huma.Register(api, createUser, func(ctx context.Context, in *userInput) (*userOutput, error) {
		password, generated := in.Body.Password, ""
		if password == "" {
			password = auth.GeneratePassword()
			generated = password
		}
		u, err := s.Auth.CreateUser(ctx, in.Body.Email, in.Body.Name, in.Body.Role, password)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		out := &userOutput{}
		out.Body.User, out.Body.Password = u, generated
		return out, nil
	})

	huma.Register(api, op("list-audit", http.MethodGet, "/api/v1/audit", "Read the audit log, newest first", auth.ReadAudit, "audit"),
		func(ctx context.Context, in *auditInput) (*auditOutput, error) {
			items, err := s.Store.Audit(ctx, in.CustomerID, in.Before, in.Limit)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &auditOutput{}
			out.Body.Items = items
			if out.Body.Items == nil {
				out.Body.Items = []store.AuditEntry{}
			}
			return out, nil
		})
}
