package ask

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
)

// period returns the period of q as of now in loc.
func (q *Query) period(now time.Time, loc *time.Location) (analytics.Period, error) {
	if q.Range == "custom" {
		return analytics.Custom(q.From, q.To)
	}
	return analytics.Range(q.Range, now, loc)
}

var (
	reLastDays   = regexp.MustCompile(`\b(?:last|past|previous) (\d{1,4}) days?\b`)
	reLastMonths = regexp.MustCompile(`\b(?:last|past|previous) (\d{1,3}) months?\b`)
	reQuarter    = regexp.MustCompile(`\bq([1-4])(?: of)? (20\d\d)\b|\b(20\d\d) q([1-4])\b`)
	reMonthYear  = regexp.MustCompile(`\b(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec) (20\d\d)\b`)
	reYear       = regexp.MustCompile(`\b(?:in|during|for|of) (20\d\d)\b`)
)

var monthNames = map[string]time.Month{"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
	"june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10,
	"november": 11, "nov": 11, "december": 12, "dec": 12}

// parsePeriod finds the period a normalised question names and sets it on
// q, returning the question with the period's words removed (so "march"
// or "2025" are not read as anything else). first is the publisher's first
// sale day, for "since launch". Without a period the default is the last
// 12 months, as on the pages.
func parsePeriod(text string, q *Query, now time.Time, loc *time.Location, first phantomos.Day) string {
	today := now.In(loc)
	y, m, _ := today.Date()
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	custom := func(from, to time.Time, label string) {
		q.Range, q.From, q.To, q.RangeLabel = "custom", day(from), day(to), label
	}
	preset := func(key, label string) { q.Range, q.RangeLabel = key, label }
	cut := func(loc []int) string { return strings.TrimSpace(text[:loc[0]] + " " + text[loc[1]:]) }
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, loc) }

	if l := reQuarter.FindStringSubmatchIndex(text); l != nil {
		// "q4 2025" fills groups 1 and 2, "2025 q4" groups 3 and 4.
		var qs, ys string
		if l[2] >= 0 {
			qs, ys = text[l[2]:l[3]], text[l[4]:l[5]]
		} else {
			qs, ys = text[l[8]:l[9]], text[l[6]:l[7]]
		}
		qn, _ := strconv.Atoi(qs)
		yn, _ := strconv.Atoi(ys)
		start := date(yn, time.Month(3*qn-2), 1)
		custom(start, start.AddDate(0, 3, -1), fmt.Sprintf("Q%d %d", qn, yn))
		return cut(l)
	}
	if l := reMonthYear.FindStringSubmatchIndex(text); l != nil {
		mn := monthNames[text[l[2]:l[3]]]
		yn, _ := strconv.Atoi(text[l[4]:l[5]])
		start := date(yn, mn, 1)
		custom(start, start.AddDate(0, 1, -1), fmt.Sprintf("%s %d", mn, yn))
		return cut(l)
	}
	if l := reLastDays.FindStringSubmatchIndex(text); l != nil {
		n, _ := strconv.Atoi(text[l[2]:l[3]])
		switch {
		case n == 7 || n == 30 || n == 90:
			preset(fmt.Sprintf("%dd", n), fmt.Sprintf("the last %d days", n))
		case n >= 1 && n <= 3650:
			custom(today.AddDate(0, 0, -(n-1)), today, fmt.Sprintf("the last %d days", n))
		default:
			return text
		}
		return cut(l)
	}
	if l := reLastMonths.FindStringSubmatchIndex(text); l != nil {
		n, _ := strconv.Atoi(text[l[2]:l[3]])
		switch {
		case n == 12:
			preset("12m", "the last 12 months")
		case n >= 1 && n <= 120:
			custom(date(y, m, 1).AddDate(0, -(n-1), 0), today, fmt.Sprintf("the last %d months", n))
		default:
			return text
		}
		return cut(l)
	}
	phrases := []struct {
		words []string
		set   func()
	}{
		{[]string{"this quarter", "current quarter", "quarter to date", "qtd", "so far this quarter"}, func() { preset("qtd", "this quarter") }},
		{[]string{"last quarter", "previous quarter", "prior quarter"}, func() { preset("lq", "last quarter") }},
		{[]string{"year to date", "ytd", "this year", "so far this year", "current year"}, func() { preset("ytd", "this year to date") }},
		{[]string{"last 12 months", "past 12 months", "past year", "last twelve months", "trailing twelve months", "ttm"}, func() { preset("12m", "the last 12 months") }},
		{[]string{"last year", "previous year", "prior year"}, func() { custom(date(y-1, 1, 1), date(y-1, 12, 31), fmt.Sprintf("%d", y-1)) }},
		{[]string{"last month", "previous month", "prior month"}, func() {
			s := date(y, m, 1).AddDate(0, -1, 0)
			custom(s, s.AddDate(0, 1, -1), s.Format("January 2006"))
		}},
		{[]string{"this month", "month to date", "current month", "mtd"}, func() { custom(date(y, m, 1), today, "this month") }},
		{[]string{"last week", "previous week"}, func() {
			off := (int(today.Weekday()) + 6) % 7
			mon := date(y, m, today.Day()).AddDate(0, 0, -off-7)
			custom(mon, mon.AddDate(0, 0, 6), "last week")
		}},
		{[]string{"this week"}, func() {
			off := (int(today.Weekday()) + 6) % 7
			custom(date(y, m, today.Day()).AddDate(0, 0, -off), today, "this week")
		}},
		{[]string{"last 7 days", "past week", "past 7 days"}, func() { preset("7d", "the last 7 days") }},
		{[]string{"since launch", "all time", "ever", "since we launched", "since the start", "of all time"}, func() {
			f := first
			if f == "" {
				f = phantomos.DayOf(today, loc)
			}
			q.Range, q.From, q.To, q.RangeLabel = "custom", string(f), day(today), "since launch"
		}},
	}
	for _, p := range phrases {
		for _, w := range p.words {
			if i := indexWord(text, w); i >= 0 {
				p.set()
				return cut([]int{i, i + len(w)})
			}
		}
	}
	if l := reYear.FindStringSubmatchIndex(text); l != nil {
		yn, _ := strconv.Atoi(text[l[2]:l[3]])
		end := date(yn, 12, 31)
		if end.After(today) {
			end = today
		}
		custom(date(yn, 1, 1), end, fmt.Sprintf("%d", yn))
		return cut(l)
	}
	preset("12m", "the last 12 months")
	return text
}

// indexWord finds w in text at word boundaries, -1 when absent.
func indexWord(text, w string) int {
	from := 0
	for {
		i := strings.Index(text[from:], w)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(w)
		if (i == 0 || text[i-1] == ' ') && (end == len(text) || text[end] == ' ') {
			return i
		}
		from = i + 1
	}
}
