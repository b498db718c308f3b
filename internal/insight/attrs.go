package insight

// The snapshot holds every customer in memory, so its per-customer
// footprint decides the server's memory at a million customers (see row
// in service.go). A customer's few attributes are a small slice rather
// than a map (a one-entry map costs ~300 bytes), and repeated strings —
// attribute keys, cities, owners, tags — share one copy.

// attrKV is one scalar attribute as text.
type attrKV struct{ k, v string }

// attrList is a customer's attributes; customers have a handful, so a
// linear scan beats a map.
type attrList []attrKV

// get returns the attribute's text, "" when absent.
func (a attrList) get(k string) string {
	v, _ := a.lookup(k)
	return v
}

func (a attrList) lookup(k string) (string, bool) {
	for _, kv := range a {
		if kv.k == k {
			return kv.v, true
		}
	}
	return "", false
}

// interner shares one copy of each repeated string during a load. It
// stops taking new strings once full, so high-cardinality values (ids,
// free text) cannot grow it without bound.
type interner struct{ m map[string]string }

const maxInterned = 1 << 16

func newInterner() *interner { return &interner{m: make(map[string]string, 1024)} }

func (in *interner) of(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}

func (in *interner) all(ss []string) []string {
	for i, s := range ss {
		ss[i] = in.of(s)
	}
	return ss
}
