package analytics

import (
	"time"

	"github.com/phantomos/phantomos"
)

// Period is a range of calendar days in the publisher's time zone, both
// ends included.
type Period struct {
	From phantomos.Day `json:"from"`
	To   phantomos.Day `json:"to"`
}

// Days returns the number of days in p.
func (p Period) Days() int { return int(p.To.Time().Sub(p.From.Time()).Hours()/24) + 1 }

// Presets are the named ranges a user can pick, in menu order.
var Presets = []struct{ Key, Label string }{
	{"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"90d", "Last 90 days"}, {"12m", "Last 12 months"},
	{"qtd", "Quarter to date"}, {"ytd", "Year to date"}, {"lq", "Last quarter"},
}

// Range returns the period of a preset as of now in loc. Ranges end today
// (included), except "lq", the last whole quarter. "12m" spans twelve
// calendar months ending with the current one, so every month but the last
// is whole.
func Range(preset string, now time.Time, loc *time.Location) (Period, error) {
	today := now.In(loc)
	d := func(t time.Time) phantomos.Day { return phantomos.DayOf(t, loc) }
	y, m, _ := today.Date()
	quarterStart := time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, loc)
	switch preset {
	case "7d", "30d", "90d":
		n := map[string]int{"7d": 7, "30d": 30, "90d": 90}[preset]
		return Period{d(today.AddDate(0, 0, -(n - 1))), d(today)}, nil
	case "12m", "":
		return Period{d(time.Date(y, m, 1, 0, 0, 0, 0, loc).AddDate(0, -11, 0)), d(today)}, nil
	case "qtd":
		return Period{d(quarterStart), d(today)}, nil
	case "ytd":
		return Period{d(time.Date(y, 1, 1, 0, 0, 0, 0, loc)), d(today)}, nil
	case "lq":
		return Period{d(quarterStart.AddDate(0, -3, 0)), d(quarterStart.AddDate(0, 0, -1))}, nil
	}
	return Period{}, phantomos.Errorf(phantomos.EINVALID, "Unknown range %q: use 7d, 30d, 90d, 12m, qtd, ytd, lq or from/to dates.", preset)
}

// Custom returns the period from..to given as YYYY-MM-DD, checked.
func Custom(from, to string) (Period, error) {
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	switch {
	case err1 != nil:
		return Period{}, phantomos.Errorf(phantomos.EINVALID, "from=%q is not a date (YYYY-MM-DD).", from)
	case err2 != nil:
		return Period{}, phantomos.Errorf(phantomos.EINVALID, "to=%q is not a date (YYYY-MM-DD).", to)
	case t.Before(f):
		return Period{}, phantomos.Errorf(phantomos.EINVALID, "The range ends (%s) before it starts (%s).", to, from)
	case t.Sub(f) > 20*366*24*time.Hour:
		return Period{}, phantomos.Errorf(phantomos.EINVALID, "The range is longer than 20 years.")
	}
	return Period{phantomos.Day(from), phantomos.Day(to)}, nil
}

// Comparison modes.
const (
	ComparePrevious = "previous" // the equal period just before
	CompareYear     = "year"     // the same dates a year earlier
	CompareNone     = "none"
)

// Compare returns the period p is compared with under mode, and false for
// CompareNone.
func Compare(p Period, mode string) (Period, bool, error) {
	switch mode {
	case ComparePrevious, "":
		n := p.Days()
		from := p.From.Time()
		return Period{phantomos.DayOf(from.AddDate(0, 0, -n), time.UTC), phantomos.DayOf(from.AddDate(0, 0, -1), time.UTC)}, true, nil
	case CompareYear:
		return Period{phantomos.DayOf(p.From.Time().AddDate(-1, 0, 0), time.UTC), phantomos.DayOf(p.To.Time().AddDate(-1, 0, 0), time.UTC)}, true, nil
	case CompareNone:
		return Period{}, false, nil
	}
	return Period{}, false, phantomos.Errorf(phantomos.EINVALID, "Unknown comparison %q: use previous, year or none.", mode)
}

// Grain picks the trend chart's bucket for a period: days up to ~3
// months, weeks up to a year and a half, months beyond.
func Grain(p Period) string {
	switch n := p.Days(); {
	case n <= 92:
		return "day"
	case n <= 550:
		return "week"
	}
	return "month"
}

// Bucket returns the first day of the bucket of d at grain (weeks start on
// Monday).
func Bucket(d phantomos.Day, grain string) phantomos.Day {
	t := d.Time()
	switch grain {
	case "week":
		off := (int(t.Weekday()) + 6) % 7
		return phantomos.DayOf(t.AddDate(0, 0, -off), time.UTC)
	case "month":
		return phantomos.Day(string(d)[:8] + "01")
	}
	return d
}
