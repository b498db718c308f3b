package customer

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/errs"
)

// FieldType is the type of a custom attribute declared in the field registry.
type FieldType string

// The types a custom attribute can have.
const (
	FieldText   FieldType = "text"
	FieldNumber FieldType = "number"
	FieldDate   FieldType = "date"
	FieldEnum   FieldType = "enum"
	FieldBool   FieldType = "bool"
)

// Field declares a custom attribute.
type Field struct {
	Key       string    `json:"key"`
	Type      FieldType `json:"type"`
	LabelEn   string    `json:"label_en,omitempty"`
	LabelZh   string    `json:"label_zh,omitempty"`
	Options   []string  `json:"options,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

var fieldKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ValidateField checks a field declaration.
func ValidateField(f Field) (Field, error) {
	var fe []errs.FieldError
	f.Key = strings.TrimSpace(f.Key)
	f.LabelEn = NormalizeText(f.LabelEn)
	f.LabelZh = NormalizeText(f.LabelZh)
	if !fieldKeyPattern.MatchString(f.Key) {
		fe = append(fe, errs.FieldError{Field: "body.key", Message: "must be 1–40 lower-case letters, digits or _, starting with a letter", Value: f.Key})
	}
	if slices.Contains(reservedKeys, f.Key) {
		fe = append(fe, errs.FieldError{Field: "body.key", Message: "is a built-in field name", Value: f.Key})
	}
	switch f.Type {
	case FieldText, FieldNumber, FieldDate, FieldBool:
		f.Options = nil
	case FieldEnum:
		if len(f.Options) == 0 {
			fe = append(fe, errs.FieldError{Field: "body.options", Message: "an enum field needs at least one option"})
		}
		for i, o := range f.Options {
			f.Options[i] = NormalizeText(o)
		}
	default:
		fe = append(fe, errs.FieldError{Field: "body.type", Message: "must be one of text, number, date, enum, bool", Value: f.Type})
	}
	if len(fe) > 0 {
		return f, errs.Validation(fe...)
	}
	return f, nil
}

// reservedKeys are built-in customer properties a custom field may not shadow.
var reservedKeys = []string{"id", "kind", "name", "tags", "owner", "owner_id", "tier", "created_at", "updated_at", "version"}

// Input is what a caller may set on a customer when creating or patching it.
// Nil members are left unchanged by a patch.
type Input struct {
	Kind        *Kind          `json:"kind,omitempty"`
	Name        *string        `json:"name,omitempty"`
	Identities  *[]Identity    `json:"identities,omitempty"`
	Attributes  map[string]any `json:"attributes,omitempty"`
	Tags        *[]string      `json:"tags,omitempty"`
	OwnerID     *string        `json:"owner_id,omitempty"`
	Memberships *[]Membership  `json:"memberships,omitempty"`
}

// Rules carries what validation needs to know about the workspace.
type Rules struct {
	Region string           // default phone region
	Fields map[string]Field // the field registry
}

// Apply validates in and applies it to c, normalizing every value. On error
// c is left partially modified and must be discarded; the error lists every
// bad field at once.
func (r Rules) Apply(c *Customer, in Input, creating bool) error {
	var fe []errs.FieldError
	if in.Kind != nil {
		if *in.Kind != Person && *in.Kind != Organization {
			fe = append(fe, errs.FieldError{Field: "body.kind", Message: "must be person or organization", Value: *in.Kind})
		}
		c.Kind = *in.Kind
	} else if creating {
		fe = append(fe, errs.FieldError{Field: "body.kind", Message: "is required (person or organization)"})
	}
	if in.Name != nil {
		c.Name = NormalizeText(*in.Name)
	}
	if (in.Name != nil || creating) && c.Name == "" {
		fe = append(fe, errs.FieldError{Field: "body.name", Message: "is required"})
	} else if len(c.Name) > 300 {
		fe = append(fe, errs.FieldError{Field: "body.name", Message: "is longer than 300 bytes"})
	}
	if in.Identities != nil {
		c.Identities = c.Identities[:0:0]
		seen := map[Identity]bool{}
		for i, id := range *in.Identities {
			n, err := NormalizeIdentity(id, r.Region)
			if err != nil {
				fe = append(fe, errs.FieldError{Field: fmt.Sprintf("body.identities[%d].value", i), Message: err.Error(), Value: id.Value})
				continue
			}
			if !seen[n] {
				seen[n] = true
				c.Identities = append(c.Identities, n)
			}
		}
	}
	if in.Attributes != nil {
		if c.Attributes == nil {
			c.Attributes = map[string]any{}
		}
		for k, v := range in.Attributes {
			if v == nil {
				delete(c.Attributes, k)
				continue
			}
			nv, msg := r.attribute(k, v)
			if msg != "" {
				fe = append(fe, errs.FieldError{Field: "body.attributes." + k, Message: msg, Value: v})
				continue
			}
			c.Attributes[k] = nv
		}
	}
	if in.Tags != nil {
		c.Tags = c.Tags[:0:0]
		for i, t := range *in.Tags {
			t = NormalizeText(t)
			switch {
			case t == "":
				fe = append(fe, errs.FieldError{Field: fmt.Sprintf("body.tags[%d]", i), Message: "is empty"})
			case len(t) > 60:
				fe = append(fe, errs.FieldError{Field: fmt.Sprintf("body.tags[%d]", i), Message: "is longer than 60 bytes"})
			case !slices.Contains(c.Tags, t):
				c.Tags = append(c.Tags, t)
			}
		}
		slices.Sort(c.Tags)
	}
	if in.OwnerID != nil {
		c.OwnerID = strings.TrimSpace(*in.OwnerID)
	}
	if in.Memberships != nil {
		c.Memberships = c.Memberships[:0:0]
		for i, m := range *in.Memberships {
			m.Role = NormalizeText(m.Role)
			if m.OrganizationID == "" {
				fe = append(fe, errs.FieldError{Field: fmt.Sprintf("body.memberships[%d].organization_id", i), Message: "is required"})
				continue
			}
			c.Memberships = append(c.Memberships, m)
		}
	}
	if c.Kind == Organization && len(c.Memberships) > 0 {
		fe = append(fe, errs.FieldError{Field: "body.memberships", Message: "only a person can be a member of an organization"})
	}
	if len(fe) > 0 {
		return errs.Validation(fe...)
	}
	return nil
}

// attribute checks one custom attribute value against its declaration and
// returns the normalized value, or a message saying what is wrong.
func (r Rules) attribute(key string, v any) (any, string) {
	f, ok := r.Fields[key]
	if !ok {
		return nil, "is not a declared field (declare it under /api/v1/fields first)"
	}
	switch f.Type {
	case FieldText:
		s, ok := v.(string)
		if !ok {
			return nil, "must be a string"
		}
		s = NormalizeText(s)
		if len(s) > 2000 {
			return nil, "is longer than 2000 bytes"
		}
		return s, ""
	case FieldNumber:
		n, ok := v.(float64)
		if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, "must be a number"
		}
		return n, ""
	case FieldBool:
		b, ok := v.(bool)
		if !ok {
			return nil, "must be true or false"
		}
		return b, ""
	case FieldDate:
		s, ok := v.(string)
		if !ok {
			return nil, "must be a date string YYYY-MM-DD"
		}
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		if err != nil {
			return nil, "must be a date YYYY-MM-DD"
		}
		return d.Format(time.DateOnly), ""
	case FieldEnum:
		s, ok := v.(string)
		if !ok || !slices.Contains(f.Options, NormalizeText(s)) {
			return nil, fmt.Sprintf("must be one of %s", strings.Join(f.Options, ", "))
		}
		return NormalizeText(s), ""
	}
	return nil, "has an unknown field type"
}
