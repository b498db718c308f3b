package importer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// Kind is what a file holds.
type Kind string

// The kinds of import.
const (
	Customers    Kind = "customers"
	Orders       Kind = "orders"
	Interactions Kind = "interactions"
)

// ParseKind checks an import kind.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case Customers, Orders, Interactions:
		return k, nil
	}
	return "", errs.E(errs.Invalid, "import kind %q must be customers, orders or interactions / 导入类型必须是 customers、orders 或 interactions", s)
}

// Fields the header guesser in columns.go does not know: identities,
// tags and the columns of order and interaction files.
const (
	FieldExternalID Field = "external_id"
	FieldKind       Field = "kind"
	FieldTags       Field = "tags"
	FieldTitle      Field = "title"

	FieldOrderID   Field = "order_id"
	FieldPlacedAt  Field = "placed_at"
	FieldTotal     Field = "total"
	FieldCurrency  Field = "currency"
	FieldStatus    Field = "status"
	FieldProductID Field = "product_id"
	FieldSKU       Field = "sku"
	FieldProduct   Field = "product_name"
	FieldCategory  Field = "category"
	FieldPrice     Field = "price"
	FieldQuantity  Field = "quantity"
	FieldUnitCost  Field = "unit_cost"

	FieldInteractionKind Field = "interaction_kind"
	FieldAt              Field = "at"
	FieldSummary         Field = "summary"
)

// attributePrefix marks a mapping to a custom attribute declared in the
// field registry: "attributes.city".
const attributePrefix = "attributes."

// extraHeaders are the headers, per import kind, for the fields above.
var extraHeaders = map[Kind]map[Field][]string{
	Customers: {
		FieldExternalID: {"客户编号", "客户id", "客户代码", "会员号", "会员编号", "会员id", "customer id", "customer_id", "customer number", "external id", "external_id", "member id", "client id"},
		FieldKind:       {"客户类型", "类型", "kind", "type", "customer type"},
		FieldTags:       {"标签", "客户标签", "tags", "tag", "labels"},
		FieldTitle:      {"职位", "职务", "头衔", "title", "job title", "position", "role"},
	},
	Orders: {
		FieldExternalID: {"客户编号", "客户id", "会员号", "会员编号", "customer id", "customer_id", "external id", "external_id", "member id", "user id", "user_id"},
		FieldOrderID:    {"订单号", "订单编号", "订单id", "order id", "order_id", "order number", "order no", "orderid"},
		FieldPlacedAt:   {"下单时间", "订单时间", "下单日期", "订单日期", "日期", "时间", "date", "order date", "placed at", "placed_at", "created at", "time", "timestamp"},
		FieldTotal:      {"订单金额", "订单总额", "实付金额", "金额", "总额", "total", "order total", "amount", "revenue"},
		FieldCurrency:   {"币种", "货币", "currency"},
		FieldStatus:     {"订单状态", "状态", "status", "order status"},
		FieldProductID:  {"商品id", "商品编号", "产品编号", "product id", "product_id"},
		FieldSKU:        {"sku", "货号", "商品sku"},
		FieldProduct:    {"商品名称", "商品", "产品名称", "产品", "product", "product name", "item", "item name"},
		FieldCategory:   {"品类", "类目", "商品类别", "分类", "category", "product category"},
		FieldPrice:      {"单价", "价格", "price", "unit price"},
		FieldQuantity:   {"数量", "购买数量", "quantity", "qty"},
		FieldUnitCost:   {"成本", "单位成本", "unit cost", "unit_cost", "cost"},
	},
	Interactions: {
		FieldExternalID:      {"客户编号", "客户id", "会员号", "会员编号", "customer id", "customer_id", "external id", "external_id", "member id"},
		FieldInteractionKind: {"类型", "方式", "联系方式类型", "互动类型", "kind", "type", "channel", "interaction type"},
		FieldAt:              {"时间", "日期", "联系时间", "跟进时间", "date", "time", "at", "when", "timestamp"},
		FieldSummary:         {"摘要", "内容", "记录", "跟进内容", "备注", "summary", "notes", "note", "subject", "description"},
	},
}

// coreFields are the canonical fields each kind uses directly (not as
// custom attributes).
var coreFields = map[Kind][]Field{
	Customers: {FieldName, FieldGivenName, FieldSurname, FieldPhone, FieldEmail, FieldExternalID, FieldCompany, FieldKind, FieldTags, FieldTitle},
	Orders: {FieldPhone, FieldEmail, FieldExternalID, FieldOrderID, FieldPlacedAt, FieldTotal, FieldCurrency, FieldStatus,
		FieldProductID, FieldSKU, FieldProduct, FieldCategory, FieldPrice, FieldQuantity, FieldUnitCost},
	Interactions: {FieldPhone, FieldEmail, FieldExternalID, FieldInteractionKind, FieldAt, FieldSummary},
}

// multiFields may be filled by several columns (two phone columns are two
// identities; two tag columns add up).
var multiFields = []Field{FieldPhone, FieldEmail, FieldTags}

// Mapping says which field each column of a file fills.
type Mapping struct {
	Kind    Kind
	Header  []string
	Columns []Field // per column; "" for an ignored column
	Ignored []store.IgnoredColumn
}

// Used lists the mapped columns in file order.
func (m Mapping) Used() []store.ColumnMapping {
	out := []store.ColumnMapping{}
	for i, f := range m.Columns {
		if f != "" {
			out = append(out, store.ColumnMapping{Column: m.Header[i], Field: string(f)})
		}
	}
	return out
}

// has reports whether some column fills f.
func (m Mapping) has(f Field) bool { return slices.Contains(m.Columns, f) }

// guess maps one header for an import kind: a core field by the shared
// guesser, else a custom field the workspace declared (by key or label,
// so a declared "生日" field wins over the generic birth date), else the
// shared guesser's other fields, else the kind's own headers.
func guess(kind Kind, header string, fields map[string]customer.Field) (Field, bool) {
	g, guessed := GuessField(header)
	if guessed && slices.Contains(coreFields[kind], g) {
		return g, true
	}
	h := normalizeHeader(header)
	if kind == Customers {
		for _, fd := range fields {
			if h == normalizeHeader(fd.Key) || (fd.LabelEn != "" && h == normalizeHeader(fd.LabelEn)) || (fd.LabelZh != "" && h == normalizeHeader(fd.LabelZh)) {
				return Field(attributePrefix + fd.Key), true
			}
		}
	}
	if guessed {
		return g, true
	}
	for f, names := range extraHeaders[kind] {
		for _, n := range names {
			if normalizeHeader(n) == h {
				return f, true
			}
		}
	}
	return "", false
}

// GuessMapping maps every column of header for an import kind, applying
// overrides ("header" → "field", "attributes.KEY", a declared field key,
// or "-" to ignore). A column that maps to nothing usable is listed in
// Ignored with the reason, never dropped silently.
func GuessMapping(kind Kind, header []string, fields map[string]customer.Field, overrides map[string]string) (Mapping, error) {
	m := Mapping{Kind: kind, Header: header, Columns: make([]Field, len(header)), Ignored: []store.IgnoredColumn{}}
	reason := make([]string, len(header))
	for i, h := range header {
		f, ok := guess(kind, h, fields)
		if !ok {
			reason[i] = "header not recognised; map it with --map \"" + h + "=FIELD\" or declare a custom field / 无法识别的列"
			continue
		}
		m.Columns[i] = f
	}
	var bad []errs.FieldError
	for col, target := range overrides {
		i := slices.IndexFunc(header, func(h string) bool { return h == col || normalizeHeader(h) == normalizeHeader(col) })
		if i < 0 {
			bad = append(bad, errs.FieldError{Field: "map." + col, Message: "no column has this header / 文件中没有这一列", Value: col})
			continue
		}
		target = strings.TrimSpace(target)
		if target == "-" || target == "" || target == "ignore" {
			m.Columns[i], reason[i] = "", "ignored by the mapping you gave / 按指定映射忽略"
			continue
		}
		f, err := parseTarget(kind, target, fields)
		if err != nil {
			bad = append(bad, errs.FieldError{Field: "map." + col, Message: err.Error(), Value: target})
			continue
		}
		m.Columns[i] = f
	}
	if len(bad) > 0 {
		return m, errs.Validation(bad...)
	}
	// Fields that are not core for this kind become custom attributes when
	// declared, and are ignored with a reason otherwise.
	for i, f := range m.Columns {
		if f == "" || strings.HasPrefix(string(f), attributePrefix) || slices.Contains(coreFields[kind], f) {
			continue
		}
		switch {
		case kind != Customers:
			m.Columns[i], reason[i] = "", fmt.Sprintf("%s is not used by a %s import / %s 导入不使用该字段", f, kind, kind)
		case fields[string(f)].Key != "":
			m.Columns[i] = Field(attributePrefix + string(f))
		default:
			m.Columns[i], reason[i] = "", fmt.Sprintf("%s is not a declared custom field; declare it under /api/v1/fields to import it / 未在字段注册表中声明", f)
		}
	}
	// One column per single-valued field: later duplicates are ignored.
	seen := map[Field]int{}
	for i, f := range m.Columns {
		if f == "" || slices.Contains(multiFields, f) {
			continue
		}
		if j, dup := seen[f]; dup {
			m.Columns[i], reason[i] = "", fmt.Sprintf("column %q already fills %s / 另一列已对应该字段", header[j], f)
			continue
		}
		seen[f] = i
	}
	for i := range header {
		if m.Columns[i] == "" {
			m.Ignored = append(m.Ignored, store.IgnoredColumn{Column: header[i], Reason: reason[i]})
		}
	}
	return m, m.check()
}

// check says what a mapping lacks to import anything at all.
func (m Mapping) check() error {
	identity := m.has(FieldEmail) || m.has(FieldPhone) || m.has(FieldExternalID)
	switch m.Kind {
	case Customers:
		if !identity && !m.has(FieldName) && !m.has(FieldGivenName) && !m.has(FieldSurname) {
			return errs.E(errs.Invalid, "no column holds a name, email, phone or customer id; map one with --map / 没有可识别的姓名、邮箱、手机或客户编号列")
		}
	case Orders:
		if !identity {
			return errs.E(errs.Invalid, "no column identifies the customer (email, phone or customer id) / 没有识别客户的列（邮箱、手机或客户编号）")
		}
		if !m.has(FieldOrderID) {
			return errs.E(errs.Invalid, "no order id column / 没有订单号列")
		}
		if !m.has(FieldTotal) && !m.has(FieldPrice) {
			return errs.E(errs.Invalid, "no order total or price column / 没有订单金额或单价列")
		}
		if !m.has(FieldPlacedAt) {
			return errs.E(errs.Invalid, "no order date column / 没有下单时间列")
		}
	case Interactions:
		if !identity {
			return errs.E(errs.Invalid, "no column identifies the customer (email, phone or customer id) / 没有识别客户的列（邮箱、手机或客户编号）")
		}
		if !m.has(FieldSummary) || !m.has(FieldInteractionKind) || !m.has(FieldAt) {
			return errs.E(errs.Invalid, "an interactions file needs kind, time and summary columns / 需要类型、时间和内容列")
		}
	}
	return nil
}

// parseTarget reads the field side of an override.
func parseTarget(kind Kind, target string, fields map[string]customer.Field) (Field, error) {
	if key, ok := strings.CutPrefix(target, attributePrefix); ok {
		if kind != Customers {
			return "", fmt.Errorf("custom attributes are imported with customers only / 仅客户导入支持自定义字段")
		}
		if fields[key].Key == "" {
			return "", fmt.Errorf("%s is not a declared custom field / 未声明的自定义字段", key)
		}
		return Field(target), nil
	}
	f := Field(target)
	if slices.Contains(coreFields[kind], f) {
		return f, nil
	}
	if _, known := headerFields[f]; known || kind == Customers && fields[target].Key != "" {
		return f, nil // resolved to an attribute (or ignored with a reason) like a guessed one
	}
	names := make([]string, 0, len(coreFields[kind]))
	for _, c := range coreFields[kind] {
		names = append(names, string(c))
	}
	return "", fmt.Errorf("unknown field; use one of %s, a declared custom field, or - to ignore / 未知字段", strings.Join(names, ", "))
}

// ParseMap reads a --map value: "header=field,header=field".
func ParseMap(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		h, f, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(h) == "" {
			return nil, errs.E(errs.Invalid, "--map entry %q must be header=field / 映射必须写成 列名=字段", part)
		}
		out[strings.TrimSpace(h)] = strings.TrimSpace(f)
	}
	return out, nil
}
