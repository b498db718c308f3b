package errs

import (
	"fmt"
	"testing"
)

func TestKindSurvivesWrapping(t *testing.T) {
	err := fmt.Errorf("store: get customer: %w", E(NotFound, "customer %s not found", "x"))
	if KindOf(err) != NotFound || !Is(err, NotFound) {
		t.Fatalf("kind lost through wrapping: %v", KindOf(err))
	}
	if KindOf(fmt.Errorf("plain")) != Internal {
		t.Fatal("an error without a kind must be internal")
	}
}
