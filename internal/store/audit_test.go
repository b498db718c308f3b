package store_test

import (
	"testing"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// TestCreationAuditIsTheGeneralDiff: the import's hand-assembled creation
// audit record is byte for byte what the general diff encodes.
func TestCreationAuditIsTheGeneralDiff(t *testing.T) {
	plain := newCustomer(t, "张伟", customer.Identity{Type: "phone", Value: "+8613800138000"},
		customer.Identity{Type: "email", Value: "zw@example.com"})
	rich := newCustomer(t, `<b>"Ann" & Co</b>`+"\u2028\t", customer.Identity{Type: "external_id", Source: "shop", Value: "A&1"})
	rich.Kind, rich.OwnerID, rich.Tags = customer.Organization, "u1", []string{"VIP", "老客户", "<x>"}
	rich.Attributes = map[string]any{"city": "上海", "score": 4.5, "vip": true, "since": "2024-01-02", "none": nil, "z<>": "&"}
	rich.Memberships = []customer.Membership{{PersonID: rich.ID, OrganizationID: "org1", Role: "CEO"}, {PersonID: "other", OrganizationID: "org2"}}
	empty := &customer.Customer{ID: "x"}
	for _, c := range []*customer.Customer{plain, rich, empty} {
		for _, importID := range []string{"", "imp-1"} {
			if got, want := store.CreationAudit(importID, c), store.GeneralCreationAudit(importID, c); got != want {
				t.Errorf("%s/%q:\n got %s\nwant %s", c.Name, importID, got, want)
			}
		}
	}
}
