package importer

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// columnsOf names, for each input location the domain rules report, the
// file column it came from, so a reason says "邮箱: … is not valid".
type columnsOf struct {
	name, kind, tags string
	identities       []string
	attributes       map[string]string
}

func (c *columnsOf) column(location string) string {
	loc := strings.TrimPrefix(location, "body.")
	switch {
	case loc == "name":
		return c.name
	case loc == "kind":
		return c.kind
	case strings.HasPrefix(loc, "tags"):
		return c.tags
	case strings.HasPrefix(loc, "identities["):
		if i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(loc, "identities["), "].value")); err == nil && i < len(c.identities) {
			return c.identities[i]
		}
	case strings.HasPrefix(loc, "attributes."):
		return c.attributes[strings.TrimPrefix(loc, "attributes.")]
	}
	return ""
}

// reasonOf turns a domain validation error into a rejection reason that
// names the file's columns.
func reasonOf(err error, cols *columnsOf) string {
	var e *errs.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err.Error()
	}
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		where := strings.TrimPrefix(f.Field, "body.")
		if cols != nil {
			if c := cols.column(f.Field); c != "" {
				where = c
			}
		}
		msg := f.Message
		if s, ok := f.Value.(string); ok && s != "" && !strings.Contains(msg, s) {
			msg = fmt.Sprintf("%q %s", s, msg)
		}
		parts = append(parts, where+": "+msg)
	}
	return strings.Join(parts, "; ")
}

// onlyNameMissing reports whether the domain's only complaint is a missing
// name.
func onlyNameMissing(err error) bool {
	var e *errs.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return false
	}
	for _, f := range e.Fields {
		if f.Field != "body.name" || f.Message != "is required" {
			return false
		}
	}
	return true
}

// splitTags splits a tags cell on the separators people use.
func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return strings.ContainsRune(",;，；|、", r)
	})
}

var kindWords = map[string]customer.Kind{
	"person": customer.Person, "individual": customer.Person, "个人": customer.Person, "人": customer.Person, "自然人": customer.Person,
	"organization": customer.Organization, "organisation": customer.Organization, "company": customer.Organization, "org": customer.Organization,
	"企业": customer.Organization, "公司": customer.Organization, "机构": customer.Organization, "单位": customer.Organization, "组织": customer.Organization,
}

// attributeValue converts a cell to the type its declared field takes, so
// the domain rules see a number as a number. A cell that does not convert
// is passed on as text for the rules to reject with their own message.
func (r *run) attributeValue(key, cell string) any {
	f := r.opt.Rules.Fields[key]
	switch f.Type {
	case customer.FieldNumber:
		if n, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(customer.NormalizeText(cell)), ",", ""), 64); err == nil {
			return n
		}
	case customer.FieldBool:
		switch strings.ToLower(customer.NormalizeText(cell)) {
		case "true", "yes", "y", "1", "是", "真", "对":
			return true
		case "false", "no", "n", "0", "否", "假", "错":
			return false
		}
	case customer.FieldDate:
		if t, ok := parseTime(cell, time.UTC); ok {
			return t.Format(time.DateOnly)
		}
	}
	return cell
}

// prepareCustomer builds and validates a customer from a row. It runs on a
// worker, so the costly parts (phone parsing, pinyin) happen in parallel.
func (r *run) prepareCustomer(p *prepared) {
	cells, reason := r.cellsOf(p)
	if reason != "" {
		p.reason = reason
		return
	}
	var name, given, surname, kindCell string
	var ids []customer.Identity
	var tags []string
	cols := &columnsOf{attributes: map[string]string{}}
	attrs := map[string]any{}
	for i, f := range r.m.Columns {
		v := strings.TrimSpace(cells[i])
		if f == "" || v == "" {
			continue
		}
		h := r.m.Header[i]
		switch f {
		case FieldName:
			name, cols.name = v, h
		case FieldGivenName:
			given = v
			if cols.name == "" {
				cols.name = h
			}
		case FieldSurname:
			surname = v
			if cols.name == "" {
				cols.name = h
			}
		case FieldEmail:
			ids = append(ids, customer.Identity{Type: customer.IdentityEmail, Value: v})
			cols.identities = append(cols.identities, h)
		case FieldPhone:
			ids = append(ids, customer.Identity{Type: customer.IdentityPhone, Value: v})
			cols.identities = append(cols.identities, h)
		case FieldExternalID:
			ids = append(ids, customer.Identity{Type: customer.IdentityExternalID, Value: v, Source: r.opt.Source})
			cols.identities = append(cols.identities, h)
		case FieldCompany:
			p.company = customer.NormalizeText(v)
		case FieldTitle:
			p.title = v
		case FieldKind:
			kindCell, cols.kind = v, h
		case FieldTags:
			tags = append(tags, splitTags(v)...)
			cols.tags = h
		default:
			if key, ok := strings.CutPrefix(string(f), attributePrefix); ok {
				attrs[key] = r.attributeValue(key, v)
				cols.attributes[key] = h
			}
		}
	}
	if name == "" && (given != "" || surname != "") {
		name = joinName(surname, given)
	}
	kind := customer.Person
	if kindCell != "" {
		p.explicit = true
		if k, ok := kindWords[strings.ToLower(customer.NormalizeText(kindCell))]; ok {
			kind = k
		} else {
			kind = customer.Kind(kindCell) // the rules name the allowed values
		}
	} else if !r.m.has(FieldName) && !r.m.has(FieldGivenName) && !r.m.has(FieldSurname) && p.company != "" {
		// A file of companies: each row is the organization itself.
		kind, name, p.company, p.explicit = customer.Organization, p.company, "", true
	}
	now := time.Now().UTC()
	c := &customer.Customer{ID: customer.NewID(), CreatedAt: now, UpdatedAt: now, Version: 1, Attributes: map[string]any{},
		Tags: []string{}, Identities: []customer.Identity{}, Memberships: []customer.Membership{}}
	in := customer.Input{Kind: &kind, Identities: &ids, Attributes: attrs}
	if name != "" {
		in.Name = &name
	}
	if len(tags) > 0 {
		in.Tags = &tags
	}
	err := r.opt.Rules.Apply(c, in, true)
	p.c = c
	switch {
	case err == nil:
	case onlyNameMissing(err) && len(c.Identities) > 0:
		p.nameMissing = "name is empty, and no existing customer matches this row's identities to merge into / 姓名为空，且没有可合并的已有客户"
	default:
		p.reason = reasonOf(err, cols)
		return
	}
	if len(c.Identities) == 0 && c.Kind == customer.Person {
		p.reason = "no email, phone or customer id to recognise this customer by (importing it again would duplicate it) / 没有邮箱、手机或客户编号，无法识别客户"
		return
	}
	if c.Kind == customer.Organization {
		p.company = ""
	}
	if p.nameMissing == "" {
		p.created = store.PrepareNew(r.opt.ImportID, c)
	}
}

// joinName writes a name from its parts: Chinese names surname first
// without a space, others given name first.
func joinName(surname, given string) string {
	if surname == "" || given == "" {
		return surname + given
	}
	if isHan(surname) && isHan(given) {
		return surname + given
	}
	return given + " " + surname
}

func isHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

// customerRow decides one customer row: merge into the one customer its
// identities (or, for an organization without any, its name) find, create
// it when they find none, reject it when they find two.
func (v *resolver) customerRow(p *prepared) {
	d, c := v.d, p.c
	owners, via := v.matches(c.Identities)
	if len(owners) == 0 && c.Kind == customer.Organization && len(c.Identities) == 0 {
		if id, ok := v.look.Orgs[c.Name]; ok {
			owners = []string{id}
		} else if id, ok := v.orgs[c.Name]; ok {
			owners = []string{id}
		} else if v.r.dry != nil {
			if id, ok := v.r.dry.orgs[c.Name]; ok {
				owners = []string{id}
			}
		}
	}
	switch {
	case len(owners) > 1:
		d.reject(p, v.conflict(owners, via))
	case len(owners) == 1:
		v.merge(p, owners[0])
	case p.nameMissing != "":
		d.reject(p, p.nameMissing)
	default:
		if p.company != "" {
			orgID, reason := v.org(p.company)
			if reason != "" {
				d.reject(p, reason)
				return
			}
			c.Memberships = append(c.Memberships, customer.Membership{PersonID: c.ID, OrganizationID: orgID, Role: customer.NormalizeText(p.title)})
		}
		if c.Kind == customer.Organization {
			v.orgs[c.Name] = c.ID
		}
		if len(c.Memberships) > 0 {
			p.created = store.ImportNew{} // the worker built it before the membership was known
		}
		v.create(c, p.created)
		d.outcome(p, OutcomeImported, c, nil)
	}
}

// merge applies a row to the customer it identifies through the domain
// rules: a non-empty name and attribute cells replace the stored values,
// identities, tags and organization memberships are added.
func (v *resolver) merge(p *prepared, id string) {
	d := v.d
	t, reason := v.target(id)
	if reason != "" {
		d.reject(p, reason)
		return
	}
	next := cloneCustomer(*t.after)
	ids := slices.Clone(next.Identities)
	for _, x := range p.c.Identities {
		if !slices.Contains(ids, x) {
			ids = append(ids, x)
		}
	}
	in := customer.Input{Identities: &ids, Attributes: p.c.Attributes}
	if p.explicit {
		in.Kind = &p.c.Kind
	}
	if p.nameMissing == "" && p.c.Name != "" {
		in.Name = &p.c.Name
	}
	if len(p.c.Tags) > 0 {
		tags := slices.Clone(next.Tags)
		for _, x := range p.c.Tags {
			if !slices.Contains(tags, x) {
				tags = append(tags, x)
			}
		}
		in.Tags = &tags
	}
	if p.company != "" && next.Kind == customer.Person {
		orgID, reason := v.org(p.company)
		if reason != "" {
			d.reject(p, reason)
			return
		}
		if !slices.ContainsFunc(next.Memberships, func(m customer.Membership) bool {
			return m.OrganizationID == orgID && (m.PersonID == next.ID || m.PersonID == "")
		}) {
			ms := append(slices.Clone(next.Memberships), customer.Membership{PersonID: next.ID, OrganizationID: orgID, Role: customer.NormalizeText(p.title)})
			in.Memberships = &ms
		}
	}
	// An organization's memberships are its members', edited from their
	// side; the rules would read them as its own.
	var members []customer.Membership
	if next.Kind == customer.Organization && in.Memberships == nil {
		members, next.Memberships = next.Memberships, nil
	}
	if err := v.r.opt.Rules.Apply(&next, in, false); err != nil {
		d.reject(p, reasonOf(err, nil))
		return
	}
	if members != nil {
		next.Memberships = members
	}
	changes := changedFields(*t.after, next)
	for _, x := range next.Identities {
		v.look.Owners[x] = next.ID
	}
	if len(changes) == 0 {
		d.outcome(p, OutcomeUnchanged, t.after, nil)
		return
	}
	*t.after = next
	t.built = store.ImportNew{} // the worker's rows no longer match
	d.outcome(p, OutcomeMerged, t.after, changes)
}
