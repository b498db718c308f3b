package store

import "github.com/rapportcrm/rapport/internal/customer"

// CreationAudit and GeneralCreationAudit are an imported customer's audit
// record as written and as the general diff writes it.
func CreationAudit(importID string, c *customer.Customer) string { return creationAudit(importID, c) }

func GeneralCreationAudit(importID string, c *customer.Customer) string {
	return jsonText(importAudit(importID, diff(nil, c)), "{}")
}
