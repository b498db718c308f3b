package customer

import "github.com/google/uuid"

// NewID returns a new time-ordered identifier (UUIDv7) for any record.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}
