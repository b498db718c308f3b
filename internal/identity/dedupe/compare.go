package dedupe

import (
	"fmt"
	"math"
)

// Field names a compared field. Its text form is the canonical column name
// the importer uses.
type Field uint8

// The compared fields.
const (
	FieldGivenName Field = iota
	FieldSurname
	FieldBirthDate
	FieldGender
	FieldPhone
	FieldEmail
	FieldNationalID
	FieldCompany
	FieldStreetNumber
	FieldAddress
	FieldAddress2
	FieldCity
	FieldPostcode
	FieldState
	numFields
)

var fieldNames = [numFields]string{
	"given_name", "surname", "birth_date", "gender", "phone", "email", "national_id",
	"company", "street_number", "address", "address_2", "city", "postcode", "state",
}

func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return fmt.Sprintf("field(%d)", uint8(f))
}

// MarshalText writes the field's canonical name.
func (f Field) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// Outcome is how one field of a pair compared.
type Outcome uint8

// The outcomes, from strongest agreement to disagreement.
const (
	Missing  Outcome = iota // empty on at least one side: no evidence
	Exact                   // equal after normalization
	Near                    // one typo, transposition, swap or same pinyin
	Similar                 // high string similarity
	Partial                 // some similarity
	Disagree                // different
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"missing", "exact", "near", "similar", "partial", "disagree"}

func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// MarshalText writes the outcome's name.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// weights are log2(m/u) per field and outcome: m is how often a true
// duplicate pair shows the outcome, u how often two different people do.
// They are set from what each field can tell apart (a birth date has about
// 30,000 values, a state a handful), not fitted to a test set. Missing is
// always 0.
var weights = [numFields][numOutcomes]float64{
	//                missing exact near similar partial disagree
	FieldGivenName:    {0, 6, 4.5, 2, -1, -4},
	FieldSurname:      {0, 8, 5.5, 2.5, -1, -4},
	FieldBirthDate:    {0, 12, 7, 1.5, 0, -5},
	FieldGender:       {0, 1, 0, 0, 0, -3},
	FieldPhone:        {0, 14, 8, 0, 0, -2.5},
	FieldEmail:        {0, 14, 9, 0, 0, -2},
	FieldNationalID:   {0, 14, 10, 0, 0, -3.5},
	FieldCompany:      {0, 4, 3, 1.5, 0, -1},
	FieldStreetNumber: {0, 4, 1, 0, 0, -2},
	FieldAddress:      {0, 9, 6, 2, 0, -3},
	FieldAddress2:     {0, 6, 4, 1.5, 0, -2},
	FieldCity:         {0, 4, 3, 1, 0, -2},
	FieldPostcode:     {0, 7, 3, 0, 0, -3},
	FieldState:        {0, 1.5, 0, 0, 0, -2.5},
}

// addressCap bounds the total positive weight of the address fields. They
// are correlated (one address gives street, suburb, postcode and state),
// and without the cap two people of one household would look like one.
const addressCap = 10

// scoreOffset is the total weight at which Score is 0.5: the prior odds, in
// bits, against a candidate pair being a duplicate.
const scoreOffset = 12

// DefaultThreshold is the score from which Find proposes a pair.
const DefaultThreshold = 0.5

// Evidence is what one field contributed to a pair's score.
type Evidence struct {
	Field      Field   `json:"field"`
	Outcome    Outcome `json:"outcome"`
	Similarity float64 `json:"similarity"`
	Weight     float64 `json:"weight"`
	Note       string  `json:"note,omitempty"`
}

// fieldResult is one field's comparison before weighting.
type fieldResult struct {
	outcome Outcome
	sim     float64
	note    string
}

// comparison holds every field's result for one pair.
type comparison [numFields]fieldResult

// total sums the weights, capping the address group.
func (c *comparison) total() float64 {
	var w, addr float64
	for f := Field(0); f < numFields; f++ {
		x := weights[f][c[f].outcome]
		switch f {
		case FieldStreetNumber, FieldAddress, FieldAddress2, FieldCity, FieldPostcode, FieldState:
			addr += x
		default:
			w += x
		}
	}
	return w + min(addr, addressCap)
}

func (c *comparison) evidence() []Evidence {
	ev := make([]Evidence, 0, numFields)
	for f := Field(0); f < numFields; f++ {
		r := c[f]
		if r.outcome == Missing {
			continue
		}
		ev = append(ev, Evidence{Field: f, Outcome: r.outcome, Similarity: round4(r.sim), Weight: weights[f][r.outcome], Note: r.note})
	}
	return ev
}

// scoreOf maps a total weight in bits to (0, 1).
func scoreOf(w float64) float64 {
	return 1 / (1 + math.Exp2(scoreOffset-w))
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// compare fills c with the field-by-field comparison of x and y.
func compare(x, y *prepared, c *comparison) {
	comparePerson(x, y, c)
	comparePlace(x, y, c)
}

// comparePerson compares the fields about the person: names, birth date,
// gender, contact points, ids and company.
func comparePerson(x, y *prepared, c *comparison) {
	compareNames(x, y, c)
	c[FieldBirthDate] = compareDate(x.birth, y.birth)
	c[FieldGender] = compareGender(x.gender, y.gender)
	c[FieldPhone] = compareCode(x.phone, y.phone)
	c[FieldEmail] = compareEmail(x.email, y.email)
	c[FieldNationalID] = compareCode(x.nid, y.nid)
	c[FieldCompany] = compareText(x.company, y.company)
}

// comparePlace compares the address group, whose weight is capped.
func comparePlace(x, y *prepared, c *comparison) {
	c[FieldStreetNumber] = compareCode(x.street, y.street)
	compareAddress(x, y, c)
	c[FieldCity] = compareText(x.city, y.city)
	c[FieldPostcode] = compareCode(x.postcode, y.postcode)
	c[FieldState] = compareExact(x.state, y.state)
}

// personTotal is the weight of the fields comparePerson fills.
func (c *comparison) personTotal() float64 {
	var w float64
	for _, f := range [...]Field{FieldGivenName, FieldSurname, FieldBirthDate, FieldGender, FieldPhone, FieldEmail, FieldNationalID, FieldCompany} {
		w += weights[f][c[f].outcome]
	}
	return w
}

// weightFor is the total weight at which the score reaches threshold.
func weightFor(threshold float64) float64 {
	if threshold <= 0 {
		return math.Inf(-1)
	}
	if threshold >= 1 {
		return math.Inf(1)
	}
	return scoreOffset - math.Log2(1/threshold-1)
}

func compareNames(x, y *prepared, c *comparison) {
	g := compareName(x.given, x.givenHan, y.given, y.givenHan)
	s := compareName(x.surname, x.surnameHan, y.surname, y.surnameHan)
	// Given name and surname written the other way round (a Febrl swap,
	// or "Zhang Wei" against 张伟).
	if x.given != "" && x.surname != "" && y.given != "" && y.surname != "" {
		gs := compareName(x.given, x.givenHan, y.surname, y.surnameHan)
		sg := compareName(x.surname, x.surnameHan, y.given, y.givenHan)
		if gs.sim+sg.sim > g.sim+s.sim+0.1 && gs.outcome <= Similar && sg.outcome <= Similar {
			g, s = gs, sg
			g.note = joinNote("given name and surname swapped", g.note)
			s.note = joinNote("given name and surname swapped", s.note)
		}
	}
	c[FieldGivenName], c[FieldSurname] = g, s
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

// compareName compares two name parts given as comparison keys (Latin or
// pinyin) and their Han originals.
func compareName(a, aHan, b, bHan string) fieldResult {
	if a == "" || b == "" {
		return fieldResult{}
	}
	switch {
	case aHan != "" && bHan != "":
		if aHan == bHan {
			return fieldResult{outcome: Exact, sim: 1}
		}
		if a == b {
			return fieldResult{outcome: Near, sim: JaroWinkler(aHan, bHan), note: "same pinyin"}
		}
	case aHan != "" || bHan != "":
		if a == b {
			return fieldResult{outcome: Near, sim: 1, note: "pinyin matches"}
		}
	case a == b:
		return fieldResult{outcome: Exact, sim: 1}
	}
	sim := JaroWinkler(a, b)
	r := fieldResult{sim: sim}
	switch e := WithinOneEdit(a, b); {
	case sim >= 0.92 || e != EditMore && len(a) >= 4 && len(b) >= 4:
		r.outcome = Near
		r.note = editNote(e)
	case sim >= 0.85:
		r.outcome = Similar
	case sim >= 0.75:
		r.outcome = Partial
	default:
		r.outcome = Disagree
	}
	return r
}

func editNote(e EditKind) string {
	switch e {
	case EditSubstitution:
		return "one character differs"
	case EditInsertion:
		return "one character added or missing"
	case EditTransposition:
		return "two characters transposed"
	}
	return ""
}

// compareDate compares two normalized birth dates.
func compareDate(a, b string) fieldResult {
	if a == "" || b == "" {
		return fieldResult{}
	}
	if a == b {
		return fieldResult{outcome: Exact, sim: 1}
	}
	sim := LevenshteinSimilarity(a, b)
	if len(a) == 8 && len(b) == 8 {
		if a[:4] == b[:4] && a[4:6] == b[6:8] && a[6:8] == b[4:6] {
			return fieldResult{outcome: Near, sim: sim, note: "day and month swapped"}
		}
	}
	if e := WithinOneEdit(a, b); e != EditMore {
		note := "one digit differs"
		if e == EditTransposition {
			note = "two digits transposed"
		} else if e == EditInsertion {
			note = "one digit added or missing"
		}
		return fieldResult{outcome: Near, sim: sim, note: note}
	}
	if len(a) == 8 && len(b) == 8 && (a[:6] == b[:6] || a[4:] == b[4:]) {
		return fieldResult{outcome: Partial, sim: sim, note: "same year and month, or same day and month"}
	}
	return fieldResult{outcome: Disagree, sim: sim}
}

// compareCode compares identifiers where only equality or a single typo
// means anything: phone numbers, ids, postcodes, street numbers.
func compareCode(a, b string) fieldResult {
	if a == "" || b == "" {
		return fieldResult{}
	}
	if a == b {
		return fieldResult{outcome: Exact, sim: 1}
	}
	if e := WithinOneEdit(a, b); e != EditMore && len(a) >= 3 && len(b) >= 3 {
		return fieldResult{outcome: Near, sim: LevenshteinSimilarity(a, b), note: editNote(e)}
	}
	return fieldResult{outcome: Disagree, sim: LevenshteinSimilarity(a, b)}
}

func compareEmail(a, b string) fieldResult {
	if a == "" || b == "" {
		return fieldResult{}
	}
	if a == b {
		return fieldResult{outcome: Exact, sim: 1}
	}
	sim := JaroWinkler(a, b)
	if WithinOneEdit(a, b) != EditMore {
		return fieldResult{outcome: Near, sim: sim, note: "one character differs"}
	}
	return fieldResult{outcome: Disagree, sim: sim}
}

// compareText compares free text such as street or suburb names.
func compareText(a, b string) fieldResult {
	if a == "" || b == "" {
		return fieldResult{}
	}
	if a == b {
		return fieldResult{outcome: Exact, sim: 1}
	}
	sim := JaroWinkler(a, b)
	r := fieldResult{sim: sim}
	switch {
	case sim >= 0.92 || WithinOneEdit(a, b) != EditMore:
		r.outcome = Near
	case sim >= 0.85:
		r.outcome = Similar
	case sim >= 0.75:
		r.outcome = Partial
	default:
		r.outcome = Disagree
	}
	return r
}

func compareExact(a, b string) fieldResult {
	switch {
	case a == "" || b == "":
		return fieldResult{}
	case a == b:
		return fieldResult{outcome: Exact, sim: 1}
	}
	return fieldResult{outcome: Disagree}
}

func compareGender(a, b byte) fieldResult {
	switch {
	case a == 0 || b == 0:
		return fieldResult{}
	case a == b:
		return fieldResult{outcome: Exact, sim: 1}
	}
	return fieldResult{outcome: Disagree}
}

// compareAddress compares the two address lines, straight or crossed
// (address_1 and address_2 exchanged), whichever agrees better.
func compareAddress(x, y *prepared, c *comparison) {
	a1 := compareText(x.addr1, y.addr1)
	a2 := compareText(x.addr2, y.addr2)
	if x.addr1 != "" && x.addr2 != "" && y.addr1 != "" && y.addr2 != "" && (a1.outcome > Near || a2.outcome > Near) {
		b1 := compareText(x.addr1, y.addr2)
		b2 := compareText(x.addr2, y.addr1)
		if b1.sim+b2.sim > a1.sim+a2.sim+0.1 {
			a1, a2 = b1, b2
			a1.note = "address lines swapped"
			a2.note = "address lines swapped"
		}
	}
	c[FieldAddress], c[FieldAddress2] = a1, a2
}
