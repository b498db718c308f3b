package identity

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/identity/dedupe"
)

// Record is a stored customer as the duplicate finder reads it: the name,
// the first email and phone, and the custom attributes whose keys are the
// finder's field names (birth_date, gender, company, address, city,
// postcode, …).
func Record(c customer.Customer) dedupe.Record {
	r := dedupe.Record{ID: c.ID, Name: c.Name}
	for _, id := range c.Identities {
		switch {
		case id.Type == customer.IdentityEmail && r.Email == "":
			r.Email = id.Value
		case id.Type == customer.IdentityPhone && r.Phone == "":
			r.Phone = id.Value
		}
	}
	text := func(k string) string {
		if v, ok := c.Attributes[k]; ok && v != nil {
			return strings.TrimSpace(fmt.Sprint(v))
		}
		return ""
	}
	r.GivenName, r.Surname = text("given_name"), text("surname")
	r.BirthDate, r.Gender = text("birth_date"), text("gender")
	r.NationalID, r.Company = text("national_id"), text("company")
	r.StreetNumber, r.Address, r.Address2 = text("street_number"), text("address"), text("address_2")
	r.City, r.Postcode, r.State = text("city"), text("postcode"), text("state")
	return r
}

// Candidate is a pair of stored profiles the finder thinks are one person.
type Candidate struct {
	A        Summary           `json:"a"`
	B        Summary           `json:"b"`
	Score    float64           `json:"score"`
	Evidence []dedupe.Evidence `json:"evidence"`
}

// Summary names one side of a candidate pair for a reviewer.
type Summary struct {
	ID         string              `json:"id"`
	Kind       customer.Kind       `json:"kind"`
	Name       string              `json:"name"`
	Identities []customer.Identity `json:"identities"`
}

// Duplicates runs the duplicate finder over stored customers and returns
// the candidate pairs, best first. Organizations are compared only with
// organizations and persons with persons.
func Duplicates(ctx context.Context, cs []customer.Customer, minScore float64) ([]Candidate, error) {
	var out []Candidate
	for _, kind := range []customer.Kind{customer.Person, customer.Organization} {
		var recs []dedupe.Record
		var idx []int
		for i, c := range cs {
			if c.Kind == kind && c.DeletedAt == nil {
				recs = append(recs, Record(c))
				idx = append(idx, i)
			}
		}
		res, err := dedupe.Find(ctx, recs, dedupe.Options{Threshold: minScore})
		if err != nil {
			return nil, fmt.Errorf("identity: find duplicates: %w", err)
		}
		for _, p := range res.Pairs {
			a, b := cs[idx[p.A]], cs[idx[p.B]]
			out = append(out, Candidate{A: summary(a), B: summary(b), Score: p.Score, Evidence: p.Evidence})
		}
	}
	sortCandidates(out)
	return out, nil
}

func summary(c customer.Customer) Summary {
	ids := c.Identities
	if ids == nil {
		ids = []customer.Identity{}
	}
	return Summary{ID: c.ID, Kind: c.Kind, Name: c.Name, Identities: ids}
}

func sortCandidates(cs []Candidate) {
	// Stable: equal scores keep the finder's deterministic order.
	slices.SortStableFunc(cs, func(a, b Candidate) int { return cmp.Compare(b.Score, a.Score) })
}
