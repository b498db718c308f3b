package demo

import (
	"fmt"
	"math"
	"strings"

	"github.com/rapportcrm/rapport/internal/customer"
)

// people creates the customers: kind, language, home, names, memberships
// and when each joined.
func (b *builder) people(n int) {
	b.ps = make([]profile, n)
	var orgsZh, orgsEn []int
	for i := range b.ps {
		p := &b.ps[i]
		p.member = -1
		p.lastBack = -1
		p.org = b.g.chance(0.15)
		p.zh = b.g.chance(0.75)
		if !p.zh && b.g.chance(0.35) {
			p.abroad = true
			p.home = citiesAbroad[cityAbroadTable.pick(b.g)]
		} else {
			p.home = citiesCN[cityCNTable.pick(b.g)]
		}
		// More customers join as the business grows; organizations are
		// mostly older accounts.
		switch {
		case p.org:
			p.born = b.g.Float64() * Days
		case b.g.chance(0.45):
			p.born = b.g.Float64() * Days
		default:
			p.born = Days * math.Sqrt(b.g.Float64())
		}
		p.born = b.clock(p.born, p.home)
		if p.org {
			b.orgName(p)
			if p.zh {
				orgsZh = append(orgsZh, i)
			} else {
				orgsEn = append(orgsEn, i)
			}
		}
	}
	for i := range b.ps {
		p := &b.ps[i]
		if p.org {
			continue
		}
		p.gender = b.g.IntN(2)
		if p.zh {
			b.chineseName(p)
		} else {
			b.englishName(p)
		}
		if !b.g.chance(0.3) {
			continue
		}
		pool := orgsZh
		if (p.zh && b.g.chance(0.05)) || (!p.zh && b.g.chance(0.7)) {
			pool = orgsEn
		}
		if len(pool) == 0 {
			continue
		}
		p.member = pool[b.g.IntN(len(pool))]
		org := &b.ps[p.member]
		p.home, p.abroad = org.home, org.abroad
		role := one(b.g, rolesEn)
		if p.zh {
			role = one(b.g, rolesZh)
		}
		p.c.Memberships = []customer.Membership{{Role: role}} // ids are filled in below
	}
	for i := range b.ps {
		p := &b.ps[i]
		p.c.Kind = customer.Person
		if p.org {
			p.c.Kind = customer.Organization
		}
		p.c.CreatedAt = b.when(p.born)
		p.c.ID = b.g.id(p.c.CreatedAt)
		p.c.Version = 1
		if len(b.users) > 0 && (p.org || b.g.chance(0.65)) {
			p.c.OwnerID = b.user()
		}
	}
	for i := range b.ps {
		if m := b.ps[i].member; m >= 0 {
			b.ps[i].c.Memberships[0].PersonID = b.ps[i].c.ID
			b.ps[i].c.Memberships[0].OrganizationID = b.ps[m].c.ID
		}
	}
}

func (b *builder) chineseName(p *profile) {
	s := surnames[surnameTable.pick(b.g)]
	var given []hanzi
	switch {
	case b.g.chance(0.4) && p.gender == 0:
		given = []hanzi{one(b.g, givenMale)}
	case b.g.chance(0.4):
		given = []hanzi{one(b.g, givenFemale)}
	case p.gender == 0:
		given = []hanzi{one(b.g, givenMaleFirst), one(b.g, givenMaleSecond)}
	default:
		given = []hanzi{one(b.g, givenFemaleFirst), one(b.g, givenFemaleSecond)}
	}
	name := s.Han
	p.family = s.Pinyin
	for _, h := range given {
		name += h.Han
		p.given += h.Pinyin
		p.initials += h.Pinyin[:1]
	}
	p.c.Name = name
}

func (b *builder) englishName(p *profile) {
	p.first = one(b.g, englishMale)
	if p.gender == 1 {
		p.first = one(b.g, englishFemale)
	}
	p.last = one(b.g, englishLast)
	p.c.Name = p.first + " " + p.last
}

// orgName names an organization uniquely and gives it a web domain.
func (b *builder) orgName(p *profile) {
	lines := orgLinesZh
	w := make([]float64, len(lines))
	for i, l := range lines {
		w[i] = l.Weight
	}
	for attempt := 0; ; attempt++ {
		p.line = pickOf(b.g, lines, w...)
		var name, brand string
		if p.zh {
			br := one(b.g, orgBrandsZh)
			name = p.home.Name + br.Han + p.line.Zh
			brand = br.Pinyin
		} else {
			br := one(b.g, orgBrandsEn)
			name = br + " " + p.line.En + " " + legalForm(p.home.Country)
			brand = strings.ToLower(strings.ReplaceAll(br, " ", ""))
		}
		if b.names[name] && attempt < 50 {
			continue
		}
		b.names[name] = true
		p.c.Name = name
		tld := topLevel[p.home.Country]
		p.domain = brand + p.line.Slug + tld
		for k := 2; b.domains[p.domain]; k++ {
			p.domain = brand + p.line.Slug + "-" + p.home.Code + tld
			if k > 2 {
				p.domain = fmt.Sprintf("%s%s%d%s", brand, p.line.Slug, k, tld)
			}
		}
		b.domains[p.domain] = true
		return
	}
}

// topLevel is the web domain suffix companies in a country use.
var topLevel = map[string]string{"CN": ".com.cn", "GB": ".co.uk", "US": ".com", "CA": ".ca", "SG": ".com.sg", "AU": ".com.au"}

// legalForm is how a company name ends in a country.
func legalForm(country string) string {
	switch country {
	case "GB":
		return "Ltd"
	case "US":
		return "Inc."
	case "CA":
		return "Inc."
	case "SG":
		return "Pte. Ltd."
	case "AU":
		return "Pty Ltd"
	}
	return "Co., Ltd."
}

// contacts gives a customer email addresses, phone numbers and other
// identities, all unique across customers.
func (b *builder) contacts(p *profile) {
	g := b.g
	switch {
	case p.org:
		local := []string{"sales", "caigou", "info", "service", "admin", "xingzheng"}
		if !p.zh {
			local = []string{"orders", "purchasing", "info", "hello", "accounts", "office"}
		}
		if g.chance(0.85) {
			k := g.IntN(len(local))
			b.email(p, local[k]+"@"+p.domain)
			if g.chance(0.3) {
				b.email(p, local[(k+1+g.IntN(len(local)-1))%len(local)]+"@"+p.domain)
			}
		}
		if g.chance(0.8) {
			b.landline(p)
		}
		if g.chance(0.2) && !p.abroad {
			b.mobile(p)
		}
		b.erpSeq++
		p.c.Identities = append(p.c.Identities, customer.Identity{Type: customer.IdentityExternalID, Source: "erp", Value: fmt.Sprintf("K%06d", 100000+b.erpSeq)})
	case p.zh:
		if p.member >= 0 && g.chance(0.6) {
			b.email(p, pickOf(g, []string{p.given + "." + p.family, p.family + p.initials, p.family + p.given}, 5, 3, 2)+"@"+b.ps[p.member].domain)
			if g.chance(0.15) {
				b.email(p, b.personalZh(p))
			}
		} else if g.chance(0.78) {
			b.email(p, b.personalZh(p))
		}
		if g.chance(0.92) {
			b.mobile(p)
		}
		if g.chance(0.25) {
			p.c.Identities = append(p.c.Identities, customer.Identity{Type: customer.IdentityWechatOpenID, Value: b.openID()})
		}
	default:
		first, last := strings.ToLower(p.first), strings.ToLower(strings.ReplaceAll(p.last, "'", ""))
		if p.member >= 0 && g.chance(0.6) {
			b.email(p, pickOf(g, []string{first + "." + last, first[:1] + last, first}, 5, 3, 1)+"@"+b.ps[p.member].domain)
		} else if g.chance(0.85) {
			local := pickOf(g, []string{first + "." + last, first + last + g.digits(2), first[:1] + last, first + "_" + last}, 4, 3, 2, 1)
			domain := pickOf(g, []string{"gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "proton.me"}, 5, 3, 1.5, 1, 1.5, 0.5)
			b.email(p, local+"@"+domain)
		}
		switch {
		case !p.abroad && g.chance(0.85):
			b.mobile(p)
		case p.abroad && g.chance(0.7):
			b.foreignPhone(p)
		}
	}
}

// personalZh makes a personal address the way Chinese users pick them:
// pinyin with a lucky number or birth year, or a QQ number.
func (b *builder) personalZh(p *profile) string {
	g := b.g
	full := p.family + p.given
	suffix := pickOf(g, []string{"", pickOf(g, []string{"88", "66", "520", "666", "888", "123", "8"}, 3, 2, 1, 1, 1, 1, 1),
		fmt.Sprint(1965 + g.IntN(40)), g.digits(2 + g.IntN(3))}, 2, 3, 2.5, 2.5)
	domain := pickOf(g, []string{"qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com", "outlook.com", "gmail.com"},
		30, 30, 15, 7, 7, 5, 4, 2)
	switch pickOf(g, []int{0, 1, 2, 3}, 45, 20, 15, 20) {
	case 1:
		return fmt.Sprint(10000+g.IntN(9), g.digits(g.IntN(5))) + "@qq.com" // a QQ number
	case 2:
		return p.given + "." + p.family + suffix + "@" + pickOf(g, []string{"outlook.com", "gmail.com", "163.com"}, 2, 1, 2)
	case 3:
		return p.family + p.initials + g.digits(2+g.IntN(3)) + "@" + pickOf(g, []string{"163.com", "126.com", "139.com"}, 2, 1, 1)
	}
	return full + suffix + "@" + domain
}

// email adds an address unless another customer has it; the raw form is
// sometimes capitalized the way people type them.
func (b *builder) email(p *profile, addr string) {
	for k := 0; b.emails[addr]; k++ {
		if k == 5 {
			return
		}
		at := strings.IndexByte(addr, '@')
		addr = addr[:at] + b.g.digits(1) + addr[at:]
	}
	b.emails[addr] = true
	p.hasEmail = true
	raw := addr
	switch {
	case b.g.chance(0.08):
		at := strings.IndexByte(addr, '@')
		raw = strings.ToUpper(addr[:1]) + addr[1:at] + strings.ToUpper(addr[at:])
	case b.g.chance(0.04):
		raw = " " + addr + " "
	}
	b.identity(p, customer.IdentityEmail, raw, addr)
}

func (b *builder) identity(p *profile, typ, raw, value string) {
	p.c.Identities = append(p.c.Identities, customer.Identity{Type: typ, Value: value})
	b.d.Raw = append(b.d.Raw, RawIdentity{CustomerID: p.c.ID, Type: typ, Raw: raw, Value: value})
}

// mobilePrefixes are allocated Chinese mobile prefixes (China Mobile,
// Unicom, Telecom), weighted towards the older, commoner ones.
var mobilePrefixes = []string{
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
	"150", "151", "152", "153", "155", "156", "157", "158", "159",
	"180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
	"166", "173", "176", "177", "191", "195", "198", "199",
}

// mobileStyles weights the ways a mobile number is written: 13800138000,
// 138 0013 8000, 138-0013-8000, +86 138 0013 8000, +86-138-0013-8000,
// (+86)13800138000, 0086 138 0013 8000, and in full-width digits.
var mobileStyles = newTable([]float64{40, 20, 10, 10, 7, 5, 4, 4})

// mobile adds a Chinese mobile number in one of the ways people write them.
func (b *builder) mobile(p *profile) {
	g := b.g
	var num string
	for k := 0; ; k++ {
		num = one(g, mobilePrefixes) + g.digits(8)
		if !b.phones["+86"+num] {
			break
		}
		if k == 5 {
			return
		}
	}
	b.phones["+86"+num] = true
	a, m, z := num[:3], num[3:7], num[7:]
	var raw string
	switch mobileStyles.pick(g) {
	case 0:
		raw = num
	case 1:
		raw = a + " " + m + " " + z
	case 2:
		raw = a + "-" + m + "-" + z
	case 3:
		raw = "+86 " + a + " " + m + " " + z
	case 4:
		raw = "+86-" + a + "-" + m + "-" + z
	case 5:
		raw = "(+86)" + num
	case 6:
		raw = "0086 " + a + " " + m + " " + z
	default:
		raw = fullWidth(num)
	}
	b.identity(p, customer.IdentityPhone, raw, "+86"+num)
}

// landline adds an office number: a Chinese landline with the city's area
// code, or a number in the organization's country.
func (b *builder) landline(p *profile) {
	if p.abroad {
		b.foreignPhone(p)
		return
	}
	g := b.g
	var local string
	for k := 0; ; k++ {
		local = one(g, []string{"2", "5", "6", "8"}) + g.digits(7)
		if !b.phones["+86"+p.home.Area+local] {
			break
		}
		if k == 5 {
			return
		}
	}
	e164 := "+86" + p.home.Area + local
	b.phones[e164] = true
	a, l1, l2 := p.home.Area, local[:4], local[4:]
	raw := pickOf(g, []string{"0" + a + "-" + l1 + " " + l2, "(0" + a + ") " + local, "0" + a + " " + l1 + " " + l2, "+86 " + a + " " + l1 + " " + l2, "0" + a + "-" + local},
		30, 20, 20, 15, 15)
	b.identity(p, customer.IdentityPhone, raw, e164)
}

// foreignPhone adds a number outside China, from the ranges set aside for
// fiction where the country has one (555-01xx, Ofcom's drama numbers).
func (b *builder) foreignPhone(p *profile) {
	g := b.g
	for k := 0; k < 10; k++ {
		var e164, raw string
		switch p.home.Country {
		case "US", "CA":
			d := fmt.Sprintf("%02d", g.IntN(100))
			a := p.home.Area
			e164 = "+1" + a + "55501" + d
			raw = pickOf(g, []string{"+1 (" + a + ") 555-01" + d, "+1 " + a + "-555-01" + d, "+1 " + a + " 555 01" + d}, 2, 1, 1)
		case "GB":
			d := fmt.Sprintf("%03d", g.IntN(1000))
			if p.home.Area == "20" {
				e164 = "+442079460" + d
				raw = pickOf(g, []string{"+44 20 7946 0" + d, "+44 (0)20 7946 0" + d, "+4420 7946 0" + d}, 3, 2, 1)
			} else {
				e164 = "+441614960" + d
				raw = pickOf(g, []string{"+44 161 496 0" + d, "+44 (0)161 496 0" + d}, 3, 2)
			}
		case "SG":
			d := one(g, sgPrefixes) + g.digits(6)
			e164 = "+65" + d
			raw = pickOf(g, []string{"+65 " + d[:4] + " " + d[4:], "+65 " + d, "+65-" + d[:4] + "-" + d[4:]}, 3, 1, 1)
		case "AU":
			d := fmt.Sprintf("%03d", g.IntN(1000))
			e164 = "+61491570" + d
			raw = pickOf(g, []string{"+61 491 570 " + d, "+61 491570" + d}, 3, 1)
		}
		if !b.phones[e164] {
			b.phones[e164] = true
			b.identity(p, customer.IdentityPhone, raw, e164)
			return
		}
	}
}

// sgPrefixes start Singapore mobile (8x, 9x) and fixed (6x) numbers in
// ranges libphonenumber accepts.
var sgPrefixes = []string{"81", "82", "83", "84", "85", "86", "87", "88", "91", "92", "93", "94", "96", "97", "98", "61", "62", "63", "65", "66", "67"}

// fullWidth writes ASCII digits as full-width ones, as some Chinese input
// methods do.
func fullWidth(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r += '０' - '0'
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

const openIDChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// openID makes a WeChat-style OpenID (28 characters starting with "o").
func (b *builder) openID() string {
	buf := make([]byte, 28)
	buf[0] = 'o'
	for i := 1; i < len(buf); i++ {
		buf[i] = openIDChars[b.g.IntN(len(openIDChars))]
	}
	return string(buf)
}
