package dedupe

import (
	"cmp"
	"slices"
)

// A blocking key puts records with the same key value into one block; a
// window key sorts all records by the key and compares neighbours.
type keySpec struct {
	name   string
	window bool
	key    func(p *prepared, buf []byte) []byte
}

// keySpecs are the blocking passes. Each catches duplicates the others
// miss: ids and contact points survive name typos, the birth date survives
// a changed address, the phonetic codes survive spelling and given/surname
// swaps, and the sorted neighbourhoods catch what is left of a mangled name.
var keySpecs = []keySpec{
	{name: "national_id", key: func(p *prepared, b []byte) []byte { return appendIf(b, p.nid, 4) }},
	{name: "phone", key: func(p *prepared, b []byte) []byte { return appendIf(b, p.phone, 6) }},
	{name: "email", key: func(p *prepared, b []byte) []byte { return appendIf(b, p.email, 3) }},
	{name: "birth_date", key: func(p *prepared, b []byte) []byte { return appendIf(b, p.birth, 6) }},
	{name: "name_soundex", key: func(p *prepared, b []byte) []byte {
		g, s := Soundex(p.given), Soundex(p.surname)
		if g == "" || s == "" {
			return b
		}
		if g > s {
			g, s = s, g
		}
		return append(append(append(b, g...), '|'), s...)
	}},
	{name: "postcode_surname", key: func(p *prepared, b []byte) []byte {
		return appendPair(b, p.postcode, Soundex(p.surname))
	}},
	{name: "postcode_given", key: func(p *prepared, b []byte) []byte {
		return appendPair(b, p.postcode, Soundex(p.given))
	}},
	{name: "sorted_surname_given", window: true, key: func(p *prepared, b []byte) []byte {
		return append(append(b, p.surname...), p.given...)
	}},
	{name: "sorted_given_surname", window: true, key: func(p *prepared, b []byte) []byte {
		return append(append(b, p.given...), p.surname...)
	}},
}

func appendIf(b []byte, s string, minLen int) []byte {
	if len(s) < minLen {
		return b
	}
	return append(b, s...)
}

func appendPair(b []byte, x, y string) []byte {
	if x == "" || y == "" {
		return b
	}
	return append(append(append(b, x...), '|'), y...)
}

// keyIndex is one blocking pass: the records that have the key, sorted by
// (key, name), with each position's block bounds.
type keyIndex struct {
	window     bool
	order      []int32 // record indexes in key order
	pos        []int32 // per record: its position in order, or -1
	start, end []int32 // per position: the bounds of its block
	oversized  int     // blocks larger than MaxBlock
}

type keyed struct {
	hash, name uint64
	rec        int32
}

func buildIndexes(recs []prepared, opts Options) []keyIndex {
	idx := make([]keyIndex, len(keySpecs))
	parallel(min(opts.Workers, len(keySpecs)), len(keySpecs), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			idx[t] = buildIndex(recs, keySpecs[t], opts.MaxBlock)
		}
	})
	return idx
}

func buildIndex(recs []prepared, spec keySpec, maxBlock int) keyIndex {
	ix := keyIndex{window: spec.window, pos: make([]int32, len(recs))}
	ks := make([]keyed, 0, len(recs))
	var buf []byte
	for i := range recs {
		ix.pos[i] = -1
		buf = spec.key(&recs[i], buf[:0])
		if len(buf) == 0 {
			continue
		}
		k := keyed{rec: int32(i), name: prefix64(recs[i].surname, recs[i].given)}
		if spec.window {
			k.name = prefix64(string(buf), "")
			k.hash = prefix64(string(buf[min(8, len(buf)):]), "")
		} else {
			k.hash = hash64(buf) | 1
		}
		ks = append(ks, k)
	}
	cmpKeyed := func(a, b keyed) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 && !spec.window {
			return c
		}
		if c := cmp.Compare(a.name, b.name); c != 0 {
			return c
		}
		if spec.window {
			if c := cmp.Compare(a.hash, b.hash); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.rec, b.rec)
	}
	slices.SortFunc(ks, cmpKeyed)
	ix.order = make([]int32, len(ks))
	ix.start = make([]int32, len(ks))
	ix.end = make([]int32, len(ks))
	for p, k := range ks {
		ix.order[p] = k.rec
		ix.pos[k.rec] = int32(p)
	}
	if spec.window {
		for p := range ks {
			ix.start[p], ix.end[p] = 0, int32(len(ks))
		}
		return ix
	}
	for s := 0; s < len(ks); {
		e := s + 1
		for e < len(ks) && ks[e].hash == ks[s].hash {
			e++
		}
		if e-s > maxBlock {
			ix.oversized++
		}
		for p := s; p < e; p++ {
			ix.start[p], ix.end[p] = int32(s), int32(e)
		}
		s = e
	}
	return ix
}

// prefix64 packs the first 8 bytes of a+b into a number that sorts like
// the strings.
func prefix64(a, b string) uint64 {
	var x uint64
	n := 0
	for _, s := range [2]string{a, b} {
		for i := 0; i < len(s) && n < 8; i++ {
			x = x<<8 | uint64(s[i])
			n++
		}
	}
	return x << (8 * (8 - n))
}

// hash64 is FNV-1a.
func hash64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
