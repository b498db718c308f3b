package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// settingsHome opens the first settings page the user may see.
func (s *Server) settingsHome(w http.ResponseWriter, r *http.Request, v *view) {
	switch {
	case v.P.Role.Can(auth.ManageUsers):
		http.Redirect(w, r, "/settings/users", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/settings/fields", http.StatusSeeOther)
	}
}

type usersData struct {
	Users    []store.User
	Roles    []auth.Role
	Created  *store.User
	Password string // shown once, right after creating a user
	Errors   map[string]string
	Email    string
	Name     string
	Role     string
}

func (s *Server) users(w http.ResponseWriter, r *http.Request, v *view) {
	s.renderUsers(w, r, v, http.StatusOK, usersData{Role: string(auth.Rep)})
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, v *view, status int, d usersData) {
	var err error
	if d.Users, err = s.Store.ListUsers(r.Context()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	d.Roles = auth.Roles
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	s.render(w, r, v, status, "users", "", d)
}

// createUser makes a user with a generated password, shown once.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, v *view) {
	d := usersData{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Role: r.PostFormValue("role")}
	role, err := auth.ParseRole(d.Role)
	if err != nil {
		d.Errors = map[string]string{"role": err.Error()}
		s.renderUsers(w, r, v, http.StatusUnprocessableEntity, d)
		return
	}
	password := auth.GeneratePassword()
	u, err := s.Auth.CreateUser(r.Context(), d.Email, d.Name, role, password)
	if k := errs.KindOf(err); k == errs.Invalid || k == errs.Conflict {
		d.Errors = fieldErrors(err)
		if k == errs.Conflict {
			d.Errors["email"] = err.Error()
		}
		s.renderUsers(w, r, v, http.StatusUnprocessableEntity, d)
		return
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.renderUsers(w, r, v, http.StatusOK, usersData{Created: &u, Password: password, Role: string(auth.Rep)})
}

// updateUser changes a user's role or disables/enables them. Admins cannot
// demote or disable themselves, so a workspace always keeps one admin.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PathValue("id")
	if id == v.P.UserID {
		s.fail(w, r, v, errs.E(errs.Invalid, "%s", v.T("users.not_self")))
		return
	}
	var err error
	switch r.PostFormValue("action") {
	case "role":
		var role auth.Role
		if role, err = auth.ParseRole(r.PostFormValue("role")); err == nil {
			err = s.Store.SetUserRole(r.Context(), id, string(role))
		}
	case "disable":
		now := s.now().UTC()
		err = s.Store.SetUserDisabled(r.Context(), id, &now)
	case "enable":
		err = s.Store.SetUserDisabled(r.Context(), id, nil)
	default:
		err = errs.E(errs.Invalid, "unknown action")
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("common.saved"))
	http.Redirect(w, r, "/settings/users", http.StatusSeeOther)
}

type keysData struct {
	Keys    []store.APIKey
	Roles   []auth.Role
	Secret  string // shown once, right after creating a key
	Created string
	Error   string
	Origin  string
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request, v *view) {
	s.renderKeys(w, r, v, http.StatusOK, keysData{})
}

func (s *Server) renderKeys(w http.ResponseWriter, r *http.Request, v *view, status int, d keysData) {
	var err error
	if d.Keys, err = s.Store.ListAPIKeys(r.Context()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	d.Roles = auth.Roles
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	d.Origin = scheme + "://" + r.Host
	s.render(w, r, v, status, "keys", "", d)
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, v *view) {
	role, err := auth.ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.renderKeys(w, r, v, http.StatusUnprocessableEntity, keysData{Error: err.Error()})
		return
	}
	k, secret, err := s.Auth.CreateAPIKey(r.Context(), r.PostFormValue("name"), role, v.P.UserID)
	if errs.KindOf(err) == errs.Invalid {
		s.renderKeys(w, r, v, http.StatusUnprocessableEntity, keysData{Error: v.T("keys.need_name")})
		return
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.renderKeys(w, r, v, http.StatusOK, keysData{Secret: secret, Created: k.Name})
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, v *view) {
	if err := s.Store.RevokeAPIKey(r.Context(), r.PathValue("id"), s.now().UTC()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("keys.revoked"))
	http.Redirect(w, r, "/settings/keys", http.StatusSeeOther)
}

type fieldsData struct {
	Fields []customer.Field
	Types  []customer.FieldType
	Errors map[string]string
	Input  customer.Field
	Opts   string
}

func (s *Server) fields(w http.ResponseWriter, r *http.Request, v *view) {
	s.renderFields(w, r, v, http.StatusOK, fieldsData{Input: customer.Field{Type: customer.FieldText}})
}

func (s *Server) renderFields(w http.ResponseWriter, r *http.Request, v *view, status int, d fieldsData) {
	var err error
	if d.Fields, err = s.Store.Fields(r.Context()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	d.Types = []customer.FieldType{customer.FieldText, customer.FieldNumber, customer.FieldDate, customer.FieldEnum, customer.FieldBool}
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	s.render(w, r, v, status, "fields", "", d)
}

func (s *Server) createField(w http.ResponseWriter, r *http.Request, v *view) {
	d := fieldsData{Input: customer.Field{Key: r.PostFormValue("key"), Type: customer.FieldType(r.PostFormValue("type")),
		LabelEn: r.PostFormValue("label_en"), LabelZh: r.PostFormValue("label_zh")}, Opts: r.PostFormValue("options")}
	d.Input.Options = splitList(d.Opts)
	f, err := customer.ValidateField(d.Input)
	if err == nil {
		f.CreatedAt = s.now().UTC()
		err = s.Store.CreateField(r.Context(), f)
	}
	if k := errs.KindOf(err); k == errs.Invalid || k == errs.Conflict {
		d.Errors = fieldErrors(err)
		if k == errs.Conflict {
			d.Errors["key"] = err.Error()
		}
		s.renderFields(w, r, v, http.StatusUnprocessableEntity, d)
		return
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("fields.created", f.Key))
	http.Redirect(w, r, "/settings/fields", http.StatusSeeOther)
}

// roleName is a role in the user's language.
func (v *view) RoleName(r any) string { return v.T("role." + strings.ToLower(fmt.Sprint(r))) }
