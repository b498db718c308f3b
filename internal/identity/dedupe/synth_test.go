package dedupe

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// vocabulary holds the distinct values of each Febrl column, so synthetic
// records look like Febrl's (Australian names, streets, suburbs).
type vocabulary struct {
	given, surname, street, addr2, suburb, postcode, state []string
}

var (
	vocabOnce sync.Once
	vocab     vocabulary
)

func febrlVocabulary() vocabulary {
	vocabOnce.Do(func() {
		sets := make([]map[string]bool, 7)
		for i := range sets {
			sets[i] = map[string]bool{}
		}
		cols := []int{1, 2, 4, 5, 6, 7, 8} // given, surname, address_1, address_2, suburb, postcode, state
		for _, name := range []string{"dataset1.csv", "dataset2.csv", "dataset3.csv"} {
			f, err := os.Open(filepath.Join("testdata", name))
			if err != nil {
				panic(fmt.Sprintf("synthetic data needs testdata/%s: %v", name, err))
			}
			r := csv.NewReader(f)
			r.TrimLeadingSpace = true
			r.FieldsPerRecord = -1
			if _, err := r.Read(); err != nil {
				panic(err)
			}
			for {
				row, err := r.Read()
				if err == io.EOF {
					break
				}
				if err != nil || len(row) != 11 {
					continue
				}
				for i, c := range cols {
					if v := strings.TrimSpace(row[c]); v != "" {
						sets[i][v] = true
					}
				}
			}
			f.Close()
		}
		list := func(m map[string]bool) []string {
			out := make([]string, 0, len(m))
			for k := range m {
				out = append(out, k)
			}
			slices.Sort(out)
			return out
		}
		vocab = vocabulary{list(sets[0]), list(sets[1]), list(sets[2]), list(sets[3]), list(sets[4]), list(sets[5]), list(sets[6])}
	})
	return vocab
}

var (
	hanSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "欧阳", "司马"}
	hanGiven    = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "志强", "晓东", "海燕", "婷", "雪", "鹏"}
	// homophones are same-pinyin characters people type by mistake.
	homophones = map[string]string{"伟": "玮", "娜": "纳", "敏": "民", "静": "靖", "丽": "莉", "军": "君", "杰": "洁", "涛": "滔", "明": "铭", "超": "潮", "平": "萍", "刚": "钢", "婷": "亭", "雪": "薛", "鹏": "朋", "强": "墙", "磊": "蕾", "勇": "永", "艳": "燕", "洋": "阳"}
)

// syntheticRecords makes n Febrl-like customer records, about one in ten a
// corrupted duplicate of an earlier person (typos, swapped names, swapped
// date parts, missing values, homophones and pinyin for Chinese names).
// IDs are "p<N>-<K>": the same N is the same person.
func syntheticRecords(n int, seed uint64) []Record {
	v := febrlVocabulary()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	recs := make([]Record, 0, n)
	var originals []int // record index of each person's original
	copies := map[int]int{}
	for len(recs) < n {
		if len(originals) == 0 || rng.Float64() < 0.9 {
			p := len(originals)
			r := Record{
				ID:           fmt.Sprintf("p%d-0", p),
				StreetNumber: fmt.Sprint(1 + rng.IntN(300)),
				Address:      pick(v.street),
				Address2:     pick(v.addr2),
				City:         pick(v.suburb),
				Postcode:     pick(v.postcode),
				State:        pick(v.state),
				BirthDate:    fmt.Sprintf("%04d%02d%02d", 1920+rng.IntN(86), 1+rng.IntN(12), 1+rng.IntN(28)),
				NationalID:   fmt.Sprint(1000000 + rng.IntN(9000000)),
			}
			if rng.Float64() < 0.1 {
				r.Name = pick(hanSurnames) + pick(hanGiven)
			} else {
				r.GivenName, r.Surname = pick(v.given), pick(v.surname)
			}
			if rng.Float64() < 0.1 {
				r.Address2 = ""
			}
			originals = append(originals, len(recs))
			recs = append(recs, r)
			continue
		}
		p := rng.IntN(len(originals))
		copies[p]++
		r := recs[originals[p]]
		r.ID = fmt.Sprintf("p%d-%d", p, copies[p])
		for range 1 + rng.IntN(3) {
			corrupt(&r, rng)
		}
		recs = append(recs, r)
	}
	return recs
}

func corrupt(r *Record, rng *rand.Rand) {
	switch rng.IntN(10) {
	case 0, 1:
		if r.Name != "" {
			r.Name = corruptHanName(r.Name, rng)
		} else if rng.IntN(2) == 0 {
			r.GivenName = typo(r.GivenName, rng)
		} else {
			r.Surname = typo(r.Surname, rng)
		}
	case 2:
		r.GivenName, r.Surname = r.Surname, r.GivenName
	case 3:
		b := []byte(r.BirthDate)
		switch rng.IntN(3) {
		case 0:
			if len(b) == 8 {
				b[4], b[5], b[6], b[7] = b[6], b[7], b[4], b[5]
			}
		default:
			if len(b) > 1 {
				i := rng.IntN(len(b))
				b[i] = byte('0' + rng.IntN(10))
			}
		}
		r.BirthDate = string(b)
	case 4:
		r.NationalID = typo(r.NationalID, rng)
	case 5:
		r.Address = typo(r.Address, rng)
	case 6:
		r.Address, r.Address2 = r.Address2, r.Address
	case 7:
		r.Postcode = typo(r.Postcode, rng)
	default: // a missing value
		switch rng.IntN(5) {
		case 0:
			r.GivenName = ""
		case 1:
			r.BirthDate = ""
		case 2:
			r.NationalID = ""
		case 3:
			r.Address2 = ""
		default:
			r.StreetNumber = ""
		}
	}
}

// typo applies one keyboard-style edit.
func typo(s string, rng *rand.Rand) string {
	if len(s) < 2 {
		return s
	}
	b := []byte(s)
	i := rng.IntN(len(b) - 1)
	switch rng.IntN(4) {
	case 0:
		b[i] = byte('a' + rng.IntN(26))
		if s[i] >= '0' && s[i] <= '9' {
			b[i] = byte('0' + rng.IntN(10))
		}
	case 1:
		b[i], b[i+1] = b[i+1], b[i]
	case 2:
		b = append(b[:i], b[i+1:]...)
	default:
		b = append(b[:i+1], b[i:]...)
	}
	return string(b)
}

func corruptHanName(name string, rng *rand.Rand) string {
	g, s := splitName(name)
	if rng.IntN(2) == 0 {
		rs := []rune(g)
		for i, r := range rs {
			if h, ok := homophones[string(r)]; ok {
				rs[i] = []rune(h)[0]
				return s + string(rs)
			}
		}
	}
	sp, _ := nameKey(s)
	gp, _ := nameKey(g)
	return strings.ToUpper(sp[:1]) + sp[1:] + " " + gp // "Zhang wei"
}
