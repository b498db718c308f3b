package identity_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/identity"
)

func ext(v string) customer.Identity {
	return customer.Identity{Type: customer.IdentityExternalID, Source: "web", Value: v}
}
func anon(v string) customer.Identity {
	return customer.Identity{Type: customer.IdentityAnonymousID, Value: v}
}
func email(v string) customer.Identity {
	return customer.Identity{Type: customer.IdentityEmail, Value: v}
}
func phone(v string) customer.Identity {
	return customer.Identity{Type: customer.IdentityPhone, Value: v}
}

func TestPlanResolvesEveryWriteToOneProfile(t *testing.T) {
	profiles := map[string]identity.Profile{
		"A":   {ID: "A", Kind: customer.Person, Exclusive: []customer.Identity{ext("u1")}},
		"B":   {ID: "B", Kind: customer.Person},
		"C":   {ID: "C", Kind: customer.Person, Exclusive: []customer.Identity{ext("u2")}},
		"ORG": {ID: "ORG", Kind: customer.Organization},
	}
	noPhone := identity.DefaultRules()
	noPhone.AutoMerge = []string{customer.IdentityExternalID, customer.IdentityEmail, customer.IdentityAnonymousID}
	cases := []struct {
		name   string
		rules  identity.Rules
		claims []identity.Claim
		want   identity.Plan
	}{
		{"unknown visitor starts a profile", identity.DefaultRules(),
			[]identity.Claim{{Identity: anon("a9")}},
			identity.Plan{Attach: []customer.Identity{anon("a9")}}},
		{"identify links the anonymous profile to the known user (merge)", identity.DefaultRules(),
			[]identity.Claim{{Identity: anon("a1"), Owner: "B"}, {Identity: ext("u1"), Owner: "A"}},
			identity.Plan{Target: "A", Merges: []identity.Merge{{Loser: "B", Via: anon("a1"), Rule: "auto:anonymous_id"}}}},
		{"a new email is attached to the owner", identity.DefaultRules(),
			[]identity.Claim{{Identity: ext("u1"), Owner: "A"}, {Identity: email("z@example.com")}},
			identity.Plan{Target: "A", Attach: []customer.Identity{email("z@example.com")}}},
		{"two signed-in users never merge through a shared browser", identity.DefaultRules(),
			[]identity.Claim{{Identity: ext("u2"), Owner: "C"}, {Identity: anon("a1"), Owner: "A"}},
			identity.Plan{Target: "C", Kept: []customer.Identity{anon("a1")}}},
		{"a second user id on a known browser starts its own profile", identity.DefaultRules(),
			[]identity.Claim{{Identity: ext("u3")}, {Identity: anon("a1"), Owner: "A"}},
			identity.Plan{Attach: []customer.Identity{ext("u3")}, Kept: []customer.Identity{anon("a1")}}},
		{"a company phone never merges a person into the organization", identity.DefaultRules(),
			[]identity.Claim{{Identity: email("p@example.com"), Owner: "B"}, {Identity: phone("+8610"), Owner: "ORG"}},
			identity.Plan{Target: "B", Kept: []customer.Identity{phone("+8610")}}},
		{"phone removed from auto-merge keeps profiles apart", noPhone,
			[]identity.Claim{{Identity: email("p@example.com"), Owner: "B"}, {Identity: phone("+86138"), Owner: "C"}},
			identity.Plan{Target: "B", Kept: []customer.Identity{phone("+86138")}}},
		{"alias merges even when its type is not auto-merged", identity.Rules{Precedence: identity.DefaultRules().Precedence, Exclusive: []string{"external_id"}},
			[]identity.Claim{{Identity: ext("u1"), Owner: "A"}, {Identity: anon("a7"), Owner: "B", Explicit: true}},
			identity.Plan{Target: "A", Merges: []identity.Merge{{Loser: "B", Via: anon("a7"), Rule: "alias"}}}},
		{"if-known claims are never attached", identity.DefaultRules(),
			[]identity.Claim{{Identity: ext("u1"), Owner: "A"}, {Identity: ext("old"), IfKnown: true, Explicit: true}},
			identity.Plan{Target: "A"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.rules.Plan(c.claims, profiles)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("plan\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestRulesValidateRejectsBadTypes(t *testing.T) {
	r, err := identity.Rules{Precedence: []string{"Email", "email", "phone"}, AutoMerge: []string{"bad type"}}.Validate()
	if err == nil {
		t.Fatalf("accepted a bad type: %+v", r)
	}
	r, err = identity.Rules{Precedence: []string{" Email ", "email", "phone"}}.Validate()
	if err != nil || !reflect.DeepEqual(r.Precedence, []string{"email", "phone"}) {
		t.Fatalf("cleaned %+v, %v", r.Precedence, err)
	}
}

func TestDuplicatesPairsSimilarPeopleOnly(t *testing.T) {
	cs := []customer.Customer{
		{ID: "1", Kind: customer.Person, Name: "张伟", Attributes: map[string]any{"birth_date": "1990-03-04", "city": "上海"}, Identities: []customer.Identity{phone("+8613800138000")}},
		{ID: "2", Kind: customer.Person, Name: "张伟", Attributes: map[string]any{"birth_date": "1990-03-04", "city": "上海"}, Identities: []customer.Identity{phone("+8613800138001")}},
		{ID: "3", Kind: customer.Person, Name: "李娜", Attributes: map[string]any{"birth_date": "1985-11-30", "city": "北京"}},
		{ID: "4", Kind: customer.Organization, Name: "张伟", Attributes: map[string]any{"city": "上海"}},
	}
	got, err := identity.Duplicates(context.Background(), cs, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].A.ID != "1" || got[0].B.ID != "2" || got[0].Score < 0.5 {
		t.Fatalf("candidates %+v", got)
	}
}
