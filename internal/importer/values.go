package importer

import (
	"slices"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// timeLayouts are the ways spreadsheets write dates and times.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02",
	"2006/01/02 15:04:05", "2006/1/2 15:04:05", "2006/01/02 15:04", "2006/1/2 15:04", "2006/01/02", "2006/1/2",
	"2006-1-2 15:04:05", "2006-1-2 15:04", "2006-1-2",
	"2006.01.02", "2006.1.2", "20060102",
	"2006年1月2日 15:04:05", "2006年1月2日 15:04", "2006年1月2日",
}

// parseTime reads a date or time; one without a zone is read in loc.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	s = customer.NormalizeText(s)
	if s == "" {
		return time.Time{}, false
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// changedFields lists the fields that differ between two records of a
// customer, by the store's audit diff.
func changedFields(before, after customer.Customer) []string {
	ch := store.CustomerChanges(before, after)
	out := make([]string, 0, len(ch))
	for k := range ch {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// identitiesOf reads and normalizes the identity cells of a row through
// the domain's NormalizeIdentity, for order and interaction rows.
func (r *run) identitiesOf(cells []string) ([]customer.Identity, []string) {
	var ids []customer.Identity
	var bad []string
	for i, f := range r.m.Columns {
		v := strings.TrimSpace(cells[i])
		if v == "" {
			continue
		}
		var id customer.Identity
		switch f {
		case FieldEmail:
			id = customer.Identity{Type: customer.IdentityEmail, Value: v}
		case FieldPhone:
			id = customer.Identity{Type: customer.IdentityPhone, Value: v}
		case FieldExternalID:
			id = customer.Identity{Type: customer.IdentityExternalID, Value: v, Source: r.opt.Source}
		default:
			continue
		}
		n, err := customer.NormalizeIdentity(id, r.opt.Rules.Region)
		if err != nil {
			bad = append(bad, r.m.Header[i]+": "+err.Error())
			continue
		}
		if !slices.Contains(ids, n) {
			ids = append(ids, n)
		}
	}
	return ids, bad
}

// customerOf resolves the customer an order or interaction row belongs to,
// or says why it cannot.
func (v *resolver) customerOf(ids []customer.Identity) (*customer.Customer, string) {
	owners, via := v.matches(ids)
	switch len(owners) {
	case 0:
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = id.Type + " " + id.Value
		}
		return nil, "no customer has " + strings.Join(parts, " or ") + "; import the customers first / 没有匹配的客户，请先导入客户"
	case 1:
		t, reason := v.target(owners[0])
		if reason != "" {
			return nil, reason
		}
		return t.after, ""
	}
	return nil, v.conflict(owners, via)
}
