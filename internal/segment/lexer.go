package segment

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Position is a place in a rule: a byte offset and the 1-based line and
// column (counted in characters, so a Chinese character is one column).
type Position struct {
	Offset int `json:"offset"`
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (p Position) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Column) }

// Error is a problem found in a rule, at a position, in English and Chinese.
type Error struct {
	Pos Position `json:"position"`
	En  string   `json:"message_en"`
	Zh  string   `json:"message_zh"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d:%d: %s / %s", e.Pos.Line, e.Pos.Column, e.En, e.Zh)
}

// Errors is every problem found in a rule, in order of position.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func errAt(p Position, en, zh string) *Error { return &Error{Pos: p, En: en, Zh: zh} }

type tokenKind int

const (
	tEOF tokenKind = iota
	tIdent
	tString
	tNumber
	tOp     // = != < <= > >=
	tLParen // (
	tRParen // )
	tComma
)

type token struct {
	kind tokenKind
	text string // identifier (lower-cased), operator, or the decoded string
	raw  string // as written
	num  float64
	pos  Position
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the rule"
	case tString:
		return strconv.Quote(t.text)
	}
	return "'" + t.raw + "'"
}

func (t token) describeZh() string {
	if t.kind == tEOF {
		return "规则结尾"
	}
	return t.describe()
}

// MaxRuleBytes bounds a rule's length.
const MaxRuleBytes = 10000

// lex splits a rule into tokens. It accepts full-width parentheses,
// commas and quotes as typed on Chinese keyboards.
func lex(src string) ([]token, error) {
	if len(src) > MaxRuleBytes {
		return nil, errAt(Position{0, 1, 1}, fmt.Sprintf("the rule is longer than %d bytes", MaxRuleBytes), fmt.Sprintf("规则超过 %d 字节", MaxRuleBytes))
	}
	if !utf8.ValidString(src) {
		return nil, errAt(Position{0, 1, 1}, "the rule is not valid UTF-8", "规则不是有效的 UTF-8 文本")
	}
	var toks []token
	line, col := 1, 1
	i := 0
	advance := func(n int) {
		for _, r := range src[i : i+n] {
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		i += n
	}
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		pos := Position{Offset: i, Line: line, Column: col}
		switch {
		case unicode.IsSpace(r):
			advance(size)
		case r == '(' || r == '（':
			toks = append(toks, token{kind: tLParen, raw: string(r), pos: pos})
			advance(size)
		case r == ')' || r == '）':
			toks = append(toks, token{kind: tRParen, raw: string(r), pos: pos})
			advance(size)
		case r == ',' || r == '，':
			toks = append(toks, token{kind: tComma, raw: string(r), pos: pos})
			advance(size)
		case r == '=' || r == '<' || r == '>' || r == '!':
			op := string(r)
			n := 1
			if i+1 < len(src) {
				two := src[i : i+2]
				switch two {
				case "==", "!=", "<=", ">=", "<>":
					op, n = two, 2
				}
			}
			switch op {
			case "==":
				op = "="
			case "<>":
				op = "!="
			case "!":
				return nil, errAt(pos, "'!' must be followed by '=' (use 'not' to negate)", "'!' 后面必须是 '='（否定请用 not）")
			}
			toks = append(toks, token{kind: tOp, text: op, raw: src[i : i+n], pos: pos})
			advance(n)
		case r == '"' || r == '\'' || r == '“' || r == '‘':
			t, n, err := lexString(src[i:], pos)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			advance(n)
		case r >= '0' && r <= '9' || r == '-' || r == '.':
			j := i
			if src[j] == '-' {
				j++
			}
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' ||
				(src[j] == '-' || src[j] == '+') && (src[j-1] == 'e' || src[j-1] == 'E')) {
				j++
			}
			raw := src[i:j]
			v, err := strconv.ParseFloat(raw, 64)
			if err != nil || raw == "-" {
				return nil, errAt(pos, fmt.Sprintf("%q is not a number", raw), fmt.Sprintf("%q 不是数字", raw))
			}
			toks = append(toks, token{kind: tNumber, raw: raw, num: v, pos: pos})
			advance(j - i)
		case r == '_' || unicode.IsLetter(r):
			j := i
			for j < len(src) {
				r2, s2 := utf8.DecodeRuneInString(src[j:])
				if r2 != '_' && !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
					break
				}
				j += s2
			}
			raw := src[i:j]
			toks = append(toks, token{kind: tIdent, text: strings.ToLower(raw), raw: raw, pos: pos})
			advance(j - i)
		default:
			return nil, errAt(pos, fmt.Sprintf("unexpected character %q", r), fmt.Sprintf("意外的字符 %q", r))
		}
	}
	toks = append(toks, token{kind: tEOF, pos: Position{Offset: i, Line: line, Column: col}})
	return toks, nil
}

// lexString reads a quoted string at the start of s; a string closes with
// the quote that opened it (“ closes with ”), and \" \\ \n \t escape.
func lexString(s string, pos Position) (token, int, error) {
	open, size := utf8.DecodeRuneInString(s)
	closer := open
	switch open {
	case '“':
		closer = '”'
	case '‘':
		closer = '’'
	}
	var b strings.Builder
	i := size
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == closer:
			return token{kind: tString, text: b.String(), raw: s[:i+n], pos: pos}, i + n, nil
		case r == '\\' && i+n < len(s):
			e, m := utf8.DecodeRuneInString(s[i+n:])
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteRune(e)
			}
			i += n + m
			continue
		case r == '\n':
			return token{}, 0, errAt(pos, "the string is not closed before the end of the line", "字符串在行尾前没有结束")
		}
		b.WriteRune(r)
		i += n
	}
	return token{}, 0, errAt(pos, "the string is not closed", "字符串没有结束引号")
}
