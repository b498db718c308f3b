package value

import "fmt"

// Segment is a named RFM segment. The zero value, SegmentNone, marks a
// customer that was not scored (no purchase, bad data).
type Segment uint8

// The RFM segments, in the order reports list them (best first).
const (
	SegmentNone Segment = iota
	SegmentChampions
	SegmentLoyal
	SegmentPotentialLoyalist
	SegmentNew
	SegmentPromising
	SegmentNeedAttention
	SegmentAboutToSleep
	SegmentAtRisk
	SegmentCantLose
	SegmentHibernating
	SegmentLost
	segmentCount
)

var segmentInfo = [segmentCount]struct {
	id    string
	label Label
}{
	SegmentNone:              {"none", Label{"Not scored", "未评分"}},
	SegmentChampions:         {"champions", Label{"Champions", "冠军客户"}},
	SegmentLoyal:             {"loyal", Label{"Loyal", "忠诚客户"}},
	SegmentPotentialLoyalist: {"potential_loyalist", Label{"Potential loyalist", "潜在忠诚客户"}},
	SegmentNew:               {"new", Label{"New", "新客户"}},
	SegmentPromising:         {"promising", Label{"Promising", "有潜力客户"}},
	SegmentNeedAttention:     {"need_attention", Label{"Need attention", "需要关注"}},
	SegmentAboutToSleep:      {"about_to_sleep", Label{"About to sleep", "即将沉睡"}},
	SegmentAtRisk:            {"at_risk", Label{"At risk", "有流失风险"}},
	SegmentCantLose:          {"cant_lose", Label{"Can't lose them", "不能失去"}},
	SegmentHibernating:       {"hibernating", Label{"Hibernating", "休眠客户"}},
	SegmentLost:              {"lost", Label{"Lost", "已流失"}},
}

// Segments lists the scored segments in report order (SegmentNone excluded).
func Segments() []Segment {
	out := make([]Segment, 0, segmentCount-1)
	for s := SegmentChampions; s < segmentCount; s++ {
		out = append(out, s)
	}
	return out
}

// SegmentLabels maps every segment id (e.g. "champions") to its names.
func SegmentLabels() map[string]Label {
	m := make(map[string]Label, segmentCount)
	for _, s := range segmentInfo {
		m[s.id] = s.label
	}
	return m
}

// String returns the stable segment id, e.g. "at_risk".
func (s Segment) String() string {
	if s >= segmentCount {
		return fmt.Sprintf("segment(%d)", uint8(s))
	}
	return segmentInfo[s].id
}

// Label returns the segment's English and Chinese names.
func (s Segment) Label() Label {
	if s >= segmentCount {
		return Label{EN: s.String(), ZH: s.String()}
	}
	return segmentInfo[s].label
}

// MarshalText writes the segment id, so JSON carries "champions", not 1.
func (s Segment) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a segment id.
func (s *Segment) UnmarshalText(b []byte) error {
	for i, info := range segmentInfo {
		if info.id == string(b) {
			*s = Segment(i)
			return nil
		}
	}
	return fmt.Errorf("value: unknown segment %q", b)
}

// SegmentGrid maps a recency score (row, R-1) and a combined
// frequency-monetary score (column, FM-1) to a segment. FM is the mean of
// the F and M scores rounded half up: (F+M+1)/2.
type SegmentGrid [5][5]Segment

// DefaultSegmentGrid is the widely used R × FM segment map (the "RFM
// segments" table popularised by Putler and the R rfm package), extended so
// every one of the 25 cells has exactly one segment.
//
//	R\FM  1               2                   3                   4          5
//	5     new             potential loyalist  potential loyalist  champions  champions
//	4     promising       potential loyalist  potential loyalist  loyal      loyal
//	3     about to sleep  about to sleep      need attention      loyal      loyal
//	2     hibernating     hibernating         at risk             at risk    can't lose
//	1     lost            lost                at risk             at risk    can't lose
func DefaultSegmentGrid() SegmentGrid {
	const (
		ch = SegmentChampions
		lo = SegmentLoyal
		pl = SegmentPotentialLoyalist
		nw = SegmentNew
		pr = SegmentPromising
		na = SegmentNeedAttention
		as = SegmentAboutToSleep
		ar = SegmentAtRisk
		cl = SegmentCantLose
		hi = SegmentHibernating
		ls = SegmentLost
	)
	return SegmentGrid{
		{ls, ls, ar, ar, cl}, // R=1
		{hi, hi, ar, ar, cl}, // R=2
		{as, as, na, lo, lo}, // R=3
		{pr, pl, pl, lo, lo}, // R=4
		{nw, pl, pl, ch, ch}, // R=5
	}
}

// Segment returns the segment for scores r, f, m in 1..5.
func (g *SegmentGrid) Segment(r, f, m uint8) Segment {
	if r < 1 || r > 5 || f < 1 || f > 5 || m < 1 || m > 5 {
		return SegmentNone
	}
	fm := (f + m + 1) / 2
	return g[r-1][fm-1]
}
