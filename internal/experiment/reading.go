package experiment

import (
	"fmt"
	"math"
	"strconv"
)

// Reading says what a comparison means in plain English and Chinese, e.g.
// "+7.7 points visit rate, 95% CI 7.2–8.3; significant (p < 0.001)" and
// "visit 比率提升 7.7 个百分点，95% 置信区间 7.2–8.3；显著（p < 0.001）".
// Binary outcomes are read in percentage points, continuous ones in the
// outcome's own units; the number of decimals follows the interval's width.
func (c Comparison) Reading(confidence float64) (en, zh string) {
	scale, dec := 1.0, 0
	halfWidth := (c.CIHigh - c.CILow) / 2
	if c.Kind == Binary {
		scale = 100
		dec = decimals(halfWidth*scale, 0, 1)
	} else {
		dec = decimals(halfWidth, 1, 0)
	}
	num := func(v float64) string { return strconv.FormatFloat(v*scale, 'f', dec, 64) }
	level := strconv.FormatFloat(confidence*100, 'f', -1, 64) + "%"
	size := num(math.Abs(c.Uplift))
	sign, upZH := "+", "提升"
	if c.Uplift < 0 {
		sign, upZH = "-", "下降"
	}
	sigEN, sigZH := "not significant", "不显著"
	if c.Significant {
		sigEN, sigZH = "significant", "显著"
	}
	p := formatP(c.PValue)
	rangeEN, rangeZH := num(c.CILow)+"–"+num(c.CIHigh), num(c.CILow)+"–"+num(c.CIHigh)
	if c.CILow < 0 {
		rangeEN, rangeZH = num(c.CILow)+" to "+num(c.CIHigh), num(c.CILow)+" 至 "+num(c.CIHigh)
	}
	if c.Kind == Binary {
		en = fmt.Sprintf("%s%s points %s rate, %s CI %s; %s (%s)", sign, size, c.Outcome, level, rangeEN, sigEN, p)
		zh = fmt.Sprintf("%s 比率%s %s 个百分点，%s 置信区间 %s；%s（%s）", c.Outcome, upZH, size, level, rangeZH, sigZH, p)
		return en, zh
	}
	if c.Uplift < 0 {
		upZH = "减少"
	} else {
		upZH = "增加"
	}
	en = fmt.Sprintf("%s%s %s per customer (mean), %s CI %s; %s (%s)", sign, size, c.Outcome, level, rangeEN, sigEN, p)
	zh = fmt.Sprintf("人均 %s %s %s，%s 置信区间 %s；%s（%s）", c.Outcome, upZH, size, level, rangeZH, sigZH, p)
	return en, zh
}

// Reading says whether the arm sizes fit the planned split, in English and Chinese.
func (s SRM) Reading() (en, zh string) {
	p := formatP(s.PValue)
	if s.Mismatch {
		return "sample ratio mismatch: arm sizes differ from the planned split (" + p + "); check assignment and logging before trusting the comparisons",
			"样本比例失衡：各组人数与计划分配不符（" + p + "）；请先检查分组与数据记录，再相信比较结果"
	}
	return "arm sizes match the planned split (" + p + ")", "各组人数与计划分配一致（" + p + "）"
}

// decimals is how many decimals show a value whose uncertainty is
// halfWidth: down to its first significant digit, plus extra, at least
// least and at most 6.
func decimals(halfWidth float64, extra, least int) int {
	if !(halfWidth > 0) || math.IsInf(halfWidth, 0) {
		return max(least, 2)
	}
	d := extra - int(math.Floor(math.Log10(halfWidth)))
	return max(least, min(d, 6))
}

func formatP(p float64) string {
	switch {
	case p < 0.001:
		return "p < 0.001"
	default:
		return "p = " + strconv.FormatFloat(p, 'f', 3, 64)
	}
}
