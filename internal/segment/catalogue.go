package segment

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
)

// Type is what kind of value a field holds.
type Type string

// The field types.
const (
	Text   Type = "text"
	Number Type = "number"
	Bool   Type = "bool"
	Time   Type = "time" // an instant; literals "2024-05-01" or RFC 3339
	Date   Type = "date" // a calendar date attribute "2024-05-01"
)

// Source says where a field's value comes from.
type Source string

// The field sources.
const (
	Builtin   Source = "builtin"
	Attribute Source = "attribute" // a custom field from the registry
	Identity  Source = "identity"  // any of the customer's identities of a type
	Tag       Source = "tag"
	Stat      Source = "stat"   // computed traits kept current on write
	Score     Source = "score"  // model outputs
	Window    Source = "window" // orders_Nd, revenue_Nd: completed orders in the last N days
)

// FieldInfo describes a field a rule can use, for the rule editor.
type FieldInfo struct {
	Name    string   `json:"name"`
	Type    Type     `json:"type"`
	Source  Source   `json:"source"`
	LabelEn string   `json:"label_en"`
	LabelZh string   `json:"label_zh"`
	Options []string `json:"options,omitempty"`
	// Ops are the operators the field accepts.
	Ops []string `json:"ops"`
}

// EventSchema names the columns of the events table. Column names must be
// plain identifiers; the store finds them at run time.
type EventSchema struct {
	Table          string
	CustomerColumn string
	NameColumn     string
	TimeColumn     string
}

// Catalogue is what a workspace's rules may refer to.
type Catalogue struct {
	// Fields is the custom-field registry.
	Fields map[string]customer.Field
	// Region is the default phone region for normalizing phone literals.
	Region string
	// Events is nil while the workspace has no events table; rules using
	// "did" are then rejected.
	Events *EventSchema
}

type fieldDef struct {
	typ     Type
	src     Source
	key     string // attribute key, identity type, or column name
	en, zh  string
	days    int    // windows
	agg     string // windows: count or sum
	options []string
}

var builtins = map[string]fieldDef{
	"kind":       {typ: Text, src: Builtin, key: "kind", en: "Kind (person or organization)", zh: "类型（个人或组织）", options: []string{"person", "organization"}},
	"name":       {typ: Text, src: Builtin, key: "name", en: "Name", zh: "名称"},
	"owner":      {typ: Text, src: Builtin, key: "owner_id", en: "Owner (user id)", zh: "负责人（用户 ID）"},
	"created_at": {typ: Time, src: Builtin, key: "created_at", en: "Created", zh: "创建时间"},
	"tag":        {typ: Text, src: Tag, key: "tag", en: "Tag", zh: "标签"},

	"orders":         {typ: Number, src: Stat, key: "orders", en: "Orders", zh: "订单数"},
	"revenue":        {typ: Number, src: Stat, key: "revenue", en: "Revenue", zh: "收入"},
	"interactions":   {typ: Number, src: Stat, key: "interactions", en: "Interactions", zh: "互动次数"},
	"first_seen":     {typ: Time, src: Stat, key: "first_seen", en: "First seen", zh: "首次出现"},
	"last_seen":      {typ: Time, src: Stat, key: "last_seen", en: "Last seen", zh: "最近出现"},
	"first_order_at": {typ: Time, src: Stat, key: "first_order_at", en: "First order", zh: "首次下单"},
	"last_order_at":  {typ: Time, src: Stat, key: "last_order_at", en: "Last order", zh: "最近下单"},

	"tier":                   {typ: Text, src: Score, key: "tier", en: "Value tier", zh: "价值层级"},
	"rfm_segment":            {typ: Text, src: Score, key: "rfm_segment", en: "RFM segment", zh: "RFM 分群"},
	"r":                      {typ: Number, src: Score, key: "r", en: "RFM recency score", zh: "RFM 近度分"},
	"f":                      {typ: Number, src: Score, key: "f", en: "RFM frequency score", zh: "RFM 频度分"},
	"m":                      {typ: Number, src: Score, key: "m", en: "RFM monetary score", zh: "RFM 金额分"},
	"clv":                    {typ: Number, src: Score, key: "clv", en: "Customer lifetime value", zh: "客户终身价值"},
	"p_alive":                {typ: Number, src: Score, key: "p_alive", en: "Probability still active", zh: "仍活跃概率"},
	"churn_risk":             {typ: Number, src: Score, key: "churn_risk", en: "Churn risk", zh: "流失风险"},
	"expected_next_purchase": {typ: Time, src: Score, key: "expected_next_purchase", en: "Expected next purchase", zh: "预计下次购买"},
}

var identityTypes = []string{customer.IdentityEmail, customer.IdentityPhone, customer.IdentityExternalID,
	customer.IdentityAnonymousID, customer.IdentityWechatOpenID}

var windowPattern = regexp.MustCompile(`^(orders|revenue)_([1-9][0-9]{0,4})d$`)

// lookup resolves a field name.
func (c Catalogue) lookup(name string) (fieldDef, bool) {
	if d, ok := builtins[name]; ok {
		return d, true
	}
	if slices.Contains(identityTypes, name) {
		return fieldDef{typ: Text, src: Identity, key: name, en: "Identity: " + name, zh: "身份：" + name}, true
	}
	if m := windowPattern.FindStringSubmatch(name); m != nil {
		days, _ := strconv.Atoi(m[2])
		if days > MaxDays {
			return fieldDef{}, false
		}
		if m[1] == "orders" {
			return fieldDef{typ: Number, src: Window, key: name, days: days, agg: "count",
				en: fmt.Sprintf("Orders in the last %d days", days), zh: fmt.Sprintf("近 %d 天订单数", days)}, true
		}
		return fieldDef{typ: Number, src: Window, key: name, days: days, agg: "sum",
			en: fmt.Sprintf("Revenue in the last %d days", days), zh: fmt.Sprintf("近 %d 天收入", days)}, true
	}
	if f, ok := c.Fields[name]; ok {
		d := fieldDef{src: Attribute, key: name, en: f.LabelEn, zh: f.LabelZh, options: f.Options}
		switch f.Type {
		case customer.FieldNumber:
			d.typ = Number
		case customer.FieldBool:
			d.typ = Bool
		case customer.FieldDate:
			d.typ = Date
		default:
			d.typ = Text
		}
		return d, true
	}
	return fieldDef{}, false
}

func opsFor(t Type) []string {
	switch t {
	case Text:
		return []string{"=", "!=", "in", "not in", "is null", "is not null", "contains", "starts_with", "ends_with"}
	case Number, Time, Date:
		return []string{"=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null"}
	}
	return []string{"=", "!=", "is null", "is not null"}
}

// FieldList lists every field a rule can use (windows shown for 30 and 90
// days; any number of days works), sorted by name.
func (c Catalogue) FieldList() []FieldInfo {
	names := []string{"orders_30d", "orders_90d", "revenue_30d", "revenue_90d"}
	for n := range builtins {
		names = append(names, n)
	}
	names = append(names, identityTypes...)
	for n := range c.Fields {
		if _, clash := builtins[n]; !clash {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]FieldInfo, 0, len(names))
	for _, n := range names {
		d, _ := c.lookup(n)
		out = append(out, FieldInfo{Name: n, Type: d.typ, Source: d.src, LabelEn: d.en, LabelZh: d.zh, Options: d.options, Ops: opsFor(d.typ)})
	}
	return out
}

// suggest returns the known field closest to name, if any is close.
func (c Catalogue) suggest(name string) string {
	best, bestD := "", 3
	try := func(n string) {
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	for n := range builtins {
		try(n)
	}
	for _, n := range identityTypes {
		try(n)
	}
	for n := range c.Fields {
		try(n)
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// parseTime reads a time literal: a date (midnight UTC) or RFC 3339.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}
