package insight

import (
	"encoding/binary"
	"sync"

	"github.com/google/uuid"
)

// rowID is a customer id packed into 16 bytes. Rapport's ids are UUIDs in
// canonical form, which pack losslessly and need no string per customer
// (a million id strings and their map keys cost ~100 MB). Any other id
// gets a numbered key from the service's idTable, so nothing breaks on an
// id the store did not mint.
type rowID [16]byte

// oddMark flags a numbered key: byte 6 carries a UUID's version nibble,
// which is never 0 for a minted id, and byte 0 is 0xff.
func (k rowID) odd() bool { return k[0] == 0xff && k[6] == 0 }

// idTable maps ids to keys and back. It is shared by every snapshot of a
// service (refresh folds rows read in a scratch snapshot into the current
// one), and it only grows for ids that are not canonical UUIDs.
type idTable struct {
	mu    sync.RWMutex
	odd   []string
	index map[string]uint32
}

func newIDTable() *idTable { return &idTable{index: map[string]uint32{}} }

// pack is the canonical UUID's key, when id is one: lower-case hex in
// 8-4-4-4-12 groups with a version, the only form uuid.UUID.String gives
// back. It is checked by hand: every row load and order lookup calls it,
// and a round trip through String allocated for each.
func pack(id string) (rowID, bool) {
	var k rowID
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return k, false
	}
	for i, j := 0, 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++ // a hyphen
			continue
		}
		hi, ok1 := lowerHex(id[i])
		lo, ok2 := lowerHex(id[i+1])
		if !ok1 || !ok2 {
			return rowID{}, false
		}
		k[j] = hi<<4 | lo
		i, j = i+2, j+1
	}
	if k[6]>>4 == 0 { // version 0: no minted id
		return rowID{}, false
	}
	return k, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// key is id's key, numbering it when it is not a canonical UUID.
func (t *idTable) key(id string) rowID {
	if k, ok := pack(id); ok {
		return k
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.index[id]
	if !ok {
		n = uint32(len(t.odd))
		t.odd = append(t.odd, id)
		t.index[id] = n
	}
	return numbered(n)
}

// find is id's key without numbering a new one.
func (t *idTable) find(id string) (rowID, bool) {
	if k, ok := pack(id); ok {
		return k, true
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	n, ok := t.index[id]
	return numbered(n), ok
}

func numbered(n uint32) rowID {
	var k rowID
	k[0] = 0xff
	binary.BigEndian.PutUint32(k[8:], n)
	return k
}

// str is the id a key stands for.
func (t *idTable) str(k rowID) string {
	if !k.odd() {
		return uuid.UUID(k).String()
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.odd[binary.BigEndian.Uint32(k[8:])]
}
