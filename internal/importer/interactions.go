package importer

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/rapportcrm/rapport/internal/customer"
)

// interactionWords maps the words people use for a kind of contact.
var interactionWords = map[string]string{
	"call": "call", "phone": "call", "phone call": "call", "电话": "call", "通话": "call", "来电": "call", "去电": "call",
	"meeting": "meeting", "会议": "meeting", "会面": "meeting", "见面": "meeting",
	"visit": "visit", "拜访": "visit", "上门": "visit", "到访": "visit", "来访": "visit",
	"email": "email", "e-mail": "email", "mail": "email", "邮件": "email", "电子邮件": "email",
	"message": "message", "sms": "message", "wechat": "message", "im": "message", "消息": "message", "短信": "message", "微信": "message",
	"service": "service", "support": "service", "服务": "service", "售后": "service", "客服": "service",
}

// interactionSpace namespaces the content-derived ids of imported
// interactions.
var interactionSpace = uuid.MustParse("6f1c3a52-8d0e-4d4b-9b7e-2f6a1e0c5d11")

// prepareInteraction reads an interaction row. Its id is derived from its
// content (identities, kind, time, summary), so importing the same row
// again finds it stored and adds nothing.
func (r *run) prepareInteraction(p *prepared) {
	cells, reason := r.cellsOf(p)
	if reason != "" {
		p.reason = reason
		return
	}
	ids, bad := r.identitiesOf(cells)
	var kindCell, atCell, summary string
	var kindCol, atCol string
	for i, f := range r.m.Columns {
		v := strings.TrimSpace(cells[i])
		switch f {
		case FieldInteractionKind:
			kindCell, kindCol = v, r.m.Header[i]
		case FieldAt:
			atCell, atCol = v, r.m.Header[i]
		case FieldSummary:
			summary = customer.NormalizeText(v)
		}
	}
	kind, ok := interactionWords[strings.ToLower(customer.NormalizeText(kindCell))]
	if !ok {
		bad = append(bad, kindCol+": "+quoteOrEmpty(kindCell)+" must be one of "+strings.Join(customer.InteractionKinds, ", ")+" / 类型无效")
	}
	at, ok := parseTime(atCell, r.opt.Location)
	if !ok {
		bad = append(bad, atCol+": "+quoteOrEmpty(atCell)+" is not a date or time / 时间无效")
	}
	switch {
	case summary == "":
		bad = append(bad, "summary is empty / 内容为空")
	case len(summary) > 10000:
		bad = append(bad, "summary is longer than 10000 bytes / 内容过长")
	}
	if len(ids) == 0 && len(bad) == 0 {
		bad = append(bad, "no email, phone or customer id to find the customer by / 没有邮箱、手机或客户编号")
	}
	if len(bad) > 0 {
		p.reason = strings.Join(bad, "; ")
		return
	}
	key := make([]string, 0, len(ids)+3)
	for _, id := range ids {
		key = append(key, id.Type+"\x1f"+id.Source+"\x1f"+id.Value)
	}
	slices.Sort(key)
	key = append(key, kind, at.Format(time.RFC3339Nano), summary)
	p.c = &customer.Customer{Identities: ids}
	p.inter = customer.Interaction{ID: uuid.NewSHA1(interactionSpace, []byte(strings.Join(key, "\x1e"))).String(),
		Kind: kind, At: at, Summary: summary, CreatedAt: time.Now().UTC()}
}

func quoteOrEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return `"` + s + `"`
}

// interactionRow decides one interaction row: it attaches to the one
// customer its identities find, and is new unless its id is stored.
func (v *resolver) interactionRow(p *prepared) {
	c, reason := v.customerOf(p.c.Identities)
	if reason != "" {
		v.d.reject(p, reason)
		return
	}
	in := p.inter
	in.CustomerID = c.ID
	if v.look.Interactions[in.ID] || v.seen[in.ID] || (v.r.dry != nil && v.r.dry.interactions[in.ID]) {
		v.d.outcome(p, OutcomeUnchanged, c, nil)
		return
	}
	v.seen[in.ID] = true
	v.d.w.Interactions = append(v.d.w.Interactions, in)
	v.d.outcome(p, OutcomeImported, c, nil)
}
