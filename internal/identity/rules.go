// Package identity decides how the identities carried by a write (a
// tracked event, an API call, an import row) resolve to exactly one
// customer profile, and when two existing profiles that a new identity
// links are merged. The rules are pure: the store looks up who owns each
// identity, asks Rules.Plan what to do, and carries the plan out in the
// same transaction. The probabilistic duplicate finder for profiles that
// share no identity lives in the dedupe subpackage.
//
// This package knows nothing about SQL or HTTP.
package identity

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
)

// SettingKey is the workspace setting that holds the Rules as JSON.
const SettingKey = "identity_rules"

// Rules say how identities resolve and which of them may join two
// existing profiles into one. They are a workspace setting.
type Rules struct {
	// Precedence lists identity types from strongest to weakest. When a
	// write's identities point at several profiles, the profile owning the
	// strongest one receives the write and the others merge into it.
	// Types not listed come after the listed ones.
	Precedence []string `json:"precedence"`
	// AutoMerge lists the identity types that may merge two existing
	// profiles without a person deciding. Remove "phone" to never merge on
	// a phone number, for example.
	AutoMerge []string `json:"auto_merge"`
	// Exclusive lists identity types a profile holds at most one value of
	// (per source): two profiles with different values are never merged
	// automatically, and a write carrying a different value starts its own
	// profile. The default, external_id, keeps two signed-in users who
	// shared a browser apart.
	Exclusive []string `json:"exclusive"`
	// NeverMergeOrganizations keeps organizations out of automatic merges:
	// a company switchboard number or shared mailbox owned by an
	// organization never joins a person to it or to another person.
	NeverMergeOrganizations bool `json:"never_merge_organizations"`
}

// DefaultRules are the rules in force until a workspace changes them.
func DefaultRules() Rules {
	return Rules{
		Precedence:              []string{customer.IdentityExternalID, customer.IdentityEmail, customer.IdentityPhone, customer.IdentityWechatOpenID, customer.IdentityAnonymousID},
		AutoMerge:               []string{customer.IdentityExternalID, customer.IdentityEmail, customer.IdentityPhone, customer.IdentityWechatOpenID, customer.IdentityAnonymousID},
		Exclusive:               []string{customer.IdentityExternalID},
		NeverMergeOrganizations: true,
	}
}

// Validate checks rules a user wrote and returns them cleaned.
func (r Rules) Validate() (Rules, error) {
	var fe []errs.FieldError
	check := func(field string, types []string) []string {
		seen := map[string]bool{}
		var out []string
		for i, t := range types {
			t = strings.ToLower(strings.TrimSpace(t))
			if !typePattern.MatchString(t) {
				fe = append(fe, errs.FieldError{Field: fmt.Sprintf("body.%s[%d]", field, i), Message: "is not an identity type (lower-case letters, digits, _)", Value: t})
				continue
			}
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
		return out
	}
	r.Precedence = check("precedence", r.Precedence)
	r.AutoMerge = check("auto_merge", r.AutoMerge)
	r.Exclusive = check("exclusive", r.Exclusive)
	if len(fe) > 0 {
		return r, errs.Validation(fe...)
	}
	return r, nil
}

var typePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// rank orders identity types by precedence.
func (r Rules) rank(typ string) int {
	if i := slices.Index(r.Precedence, typ); i >= 0 {
		return i
	}
	return len(r.Precedence)
}

// Sort orders identities by precedence, keeping the order of equals.
func (r Rules) Sort(ids []customer.Identity) {
	slices.SortStableFunc(ids, func(a, b customer.Identity) int { return r.rank(a.Type) - r.rank(b.Type) })
}

// IsExclusive reports whether a profile holds at most one value of typ.
func (r Rules) IsExclusive(typ string) bool { return slices.Contains(r.Exclusive, typ) }

// Claim is one identity a write carries and the profile that owns it now
// ("" when nobody does).
type Claim struct {
	Identity customer.Identity
	Owner    string
	// Explicit marks a link the sender asked for (Segment's alias): it may
	// merge even when its type is not in AutoMerge. Exclusive identities
	// and organizations are still respected.
	Explicit bool
	// IfKnown marks a claim that only links to the profile that owns it and
	// is never attached when nobody does (alias's previousId read as a
	// former user id).
	IfKnown bool
}

// Profile is what the rules need to know about a stored profile: its kind
// and its identities of the exclusive types.
type Profile struct {
	ID        string
	Kind      customer.Kind
	Exclusive []customer.Identity
}

// Merge is one profile the plan folds into the target, and the identity
// that links them.
type Merge struct {
	Loser string
	Via   customer.Identity
	Rule  string // why: "auto:email", "alias", …
}

// Plan is what to do with one write.
type Plan struct {
	// Target receives the write; "" means create a new profile.
	Target string
	// Attach are unowned identities to add to the target (or the new profile).
	Attach []customer.Identity
	// Merges fold other profiles into the target, in order.
	Merges []Merge
	// Kept are identities left with another profile because the rules
	// forbid merging it; the write does not go there.
	Kept []customer.Identity
}

// Plan decides where a write with these claims goes. Claims are considered
// strongest first; profiles holds every owner named by a claim.
func (r Rules) Plan(claims []Claim, profiles map[string]Profile) Plan {
	var p Plan
	sorted := slices.Clone(claims)
	slices.SortStableFunc(sorted, func(a, b Claim) int { return r.rank(a.Identity.Type) - r.rank(b.Identity.Type) })
	var excl []customer.Identity // exclusive identities of the group so far
	var targetKind customer.Kind
	conflicts := func(ids []customer.Identity) bool {
		for _, a := range ids {
			for _, b := range excl {
				if a.Type == b.Type && a.Source == b.Source && a.Value != b.Value {
					return true
				}
			}
		}
		return false
	}
	for _, c := range sorted {
		switch {
		case c.Owner == "":
			if c.IfKnown || slices.Contains(p.Attach, c.Identity) {
				continue
			}
			if r.IsExclusive(c.Identity.Type) {
				if conflicts([]customer.Identity{c.Identity}) {
					p.Kept = append(p.Kept, c.Identity)
					continue
				}
				excl = append(excl, c.Identity)
			}
			p.Attach = append(p.Attach, c.Identity)
		case c.Owner == p.Target:
		case slices.ContainsFunc(p.Merges, func(m Merge) bool { return m.Loser == c.Owner }):
		default:
			prof := profiles[c.Owner]
			if conflicts(prof.Exclusive) {
				p.Kept = append(p.Kept, c.Identity)
				continue
			}
			if p.Target == "" {
				// The first owner adopts the write (and any new identities).
				p.Target, targetKind = c.Owner, prof.Kind
				excl = append(excl, prof.Exclusive...)
				continue
			}
			allowed := c.Explicit || slices.Contains(r.AutoMerge, c.Identity.Type)
			if r.NeverMergeOrganizations && (prof.Kind == customer.Organization || targetKind == customer.Organization) {
				allowed = false
			}
			if !allowed {
				p.Kept = append(p.Kept, c.Identity)
				continue
			}
			rule := "auto:" + c.Identity.Type
			if c.Explicit {
				rule = "alias"
			}
			p.Merges = append(p.Merges, Merge{Loser: c.Owner, Via: c.Identity, Rule: rule})
			excl = append(excl, prof.Exclusive...)
		}
	}
	return p
}
