package store

import (
	"fmt"
	"testing"
)

func TestToPositionalReordersAndRepeatsArguments(t *testing.T) {
	q, args := adapt(true, `SELECT $2, '$1 is text', $1 || $2 WHERE x = '$."' || $3`, []any{"a", "b", "c"})
	if q != `SELECT ?, '$1 is text', ? || ? WHERE x = '$."' || ?` {
		t.Fatalf("query %q", q)
	}
	if fmt.Sprint(args) != "[b a b c]" {
		t.Fatalf("args %v", args)
	}
	if q, _ := adapt(false, `SELECT $1`, nil); q != `SELECT $1` {
		t.Fatal("PostgreSQL queries must pass through unchanged")
	}
}
