package forecast

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRunCSVGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "runcsv_input.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RunCSV(bytes.NewReader(in), &out, 6, 0); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "runcsv_output.golden.csv")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	compareCSV(t, want, out.Bytes())

	// Structure, independent of the numbers.
	rows := readAll(t, out.Bytes())
	if diff := cmp.Diff(csvOutputColumns(), rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	periods := map[string][]string{}
	for _, r := range rows[1:] {
		periods[r[0]] = append(periods[r[0]], r[1])
		for _, c := range r[2:7] {
			if _, err := strconv.ParseFloat(c, 64); err != nil {
				t.Errorf("row %v: %v", r, err)
			}
		}
	}
	wantPeriods := map[string][]string{
		"hero-monthly":   {"2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"},
		"villain-weekly": {"2024-05-26", "2024-06-02", "2024-06-09", "2024-06-16", "2024-06-23", "2024-06-30"},
		"pin-badge":      {"2024-07-31", "2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31"},
		"new-plush":      {"2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12"},
		"refund-heavy":   {"9", "10", "11", "12", "13", "14"},
	}
	if diff := cmp.Diff(wantPeriods, periods); diff != "" {
		t.Errorf("periods (-want +got):\n%s", diff)
	}
}

// compareCSV compares two outputs field by field, numbers within a relative
// 1e-4 so that the golden file survives floating-point differences between
// platforms (fused multiply-add).
func compareCSV(t *testing.T, want, got []byte) {
	t.Helper()
	w, g := readAll(t, want), readAll(t, got)
	if len(w) != len(g) {
		t.Fatalf("%d rows, want %d:\n%s", len(g), len(w), got)
	}
	for i := range w {
		if len(w[i]) != len(g[i]) {
			t.Fatalf("row %d: %v, want %v", i+1, g[i], w[i])
		}
		for j := range w[i] {
			if w[i][j] == g[i][j] {
				continue
			}
			a, errA := strconv.ParseFloat(w[i][j], 64)
			b, errB := strconv.ParseFloat(g[i][j], 64)
			if errA != nil || errB != nil || math.Abs(a-b) > 1e-4*math.Max(1, math.Abs(a)) {
				t.Errorf("row %d column %d: %q, want %q", i+1, j+1, g[i][j], w[i][j])
			}
		}
	}
}

func readAll(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestRunCSVModels(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "runcsv_input.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RunCSV(bytes.NewReader(in), &out, 3, 0); err != nil {
		t.Fatal(err)
	}
	models := map[string]string{}
	for _, r := range readAll(t, out.Bytes())[1:] {
		models[r[0]] = r[7]
	}
	if m := models["pin-badge"]; m != "Croston-SBA" {
		t.Errorf("intermittent series model %q, want Croston-SBA", m)
	}
	if m := models["new-plush"]; m != "Mean" {
		t.Errorf("one-month series model %q, want Mean", m)
	}
	// Three years of monthly sales with a ±25% season: seasonal ETS models
	// (the heaviest named first) combined with Theta.
	if m := models["hero-monthly"]; !regexp.MustCompile(`^ETS\([AM](N|A|Ad)[AM][/)]`).MatchString(m) || !strings.HasSuffix(m, ")+Theta") {
		t.Errorf("monthly series model %q, want a seasonal ETS model combined with Theta", m)
	}
}

func TestRunCSVBadInput(t *testing.T) {
	tests := []struct {
		name, in string
		horizon  int
		season   int
		want     string // substring of the error
	}{
		{"empty", "", 3, 0, "line 1: empty input"},
		{"missing column", "series_id,period,amount\na,1,2\n", 3, 0, `line 1: missing column "value"`},
		{"no rows", "series_id,period,value\n", 3, 0, "no data rows"},
		{"bad number", "series_id,period,value\na,1,2\na,2,abc\n", 3, 0, `line 3, column 3 (value): "abc" is not a finite number`},
		{"NaN", "series_id,period,value\na,1,NaN\n", 3, 0, "line 2, column 3 (value)"},
		{"reordered columns", "value,series_id,period\n1,a,1\nx,a,2\n", 3, 0, `line 3, column 1 (value): "x"`},
		{"empty id", "series_id,period,value\n,1,2\n", 3, 0, "line 2, column 1 (series_id): empty"},
		{"empty period", "series_id,period,value\na,,2\n", 3, 0, "line 2, column 2 (period): empty"},
		{"missing field", "series_id,period,value\na,1\n", 3, 0, "line 2, column 3 (value): missing field"},
		{"duplicate period", "series_id,period,value\na,2024-01,1\na,2024-01,2\n", 3, 0, `line 3, column 2 (period): series "a" repeats period "2024-01" of line 2`},
		{"bad quoting", "series_id,period,value\na,\"1,2\n", 3, 0, "line 2, column"},
		{"horizon", "series_id,period,value\na,1,2\n", 0, 0, "horizon must be positive"},
		{"season", "series_id,period,value\na,1,2\n", 3, -1, "season must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := RunCSV(strings.NewReader(tc.in), &out, tc.horizon, tc.season)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "forecast: ") {
				t.Errorf("error %q lacks the forecast: prefix", err)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %q on error, want nothing", out.String())
			}
		})
	}
	var out bytes.Buffer
	err := RunCSV(strings.NewReader("series_id,period,value\na,1,2\n"), &out, 0, 0)
	if !errors.Is(err, ErrHorizon) {
		t.Errorf("err = %v, want ErrHorizon", err)
	}
}

func TestRunCSVAcceptsBOMAndExtraColumns(t *testing.T) {
	in := "\ufeffSeries_ID,Period,Value,channel\na,2024-01,10,shop\na,2024-02,12,shop\n"
	var out bytes.Buffer
	if err := RunCSV(strings.NewReader(in), &out, 2, 0); err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, out.Bytes())
	if len(rows) != 3 || rows[1][1] != "2024-03" || rows[2][1] != "2024-04" {
		t.Errorf("output %v", rows)
	}
}

func TestContinuePeriods(t *testing.T) {
	tests := []struct {
		name       string
		periods    []string
		season     int
		want       []string
		wantSeason int
	}{
		{"months", []string{"2024-11", "2024-12"}, 0, []string{"2025-01", "2025-02", "2025-03"}, 12},
		{"first of month", []string{"2024-01-01", "2024-02-01"}, 0, []string{"2024-03-01", "2024-04-01", "2024-05-01"}, 12},
		{"month ends", []string{"2024-01-31", "2024-02-29"}, 0, []string{"2024-03-31", "2024-04-30", "2024-05-31"}, 12},
		{"weeks", []string{"2024-12-23", "2024-12-30"}, 0, []string{"2025-01-06", "2025-01-13", "2025-01-20"}, 52},
		{"days", []string{"2024-02-28", "2024-02-29"}, 0, []string{"2024-03-01", "2024-03-02", "2024-03-03"}, 1},
		{"lone date, weekly season", []string{"2024-05-06"}, 52, []string{"2024-05-13", "2024-05-20", "2024-05-27"}, 52},
		{"lone date", []string{"2024-05-31"}, 0, []string{"2024-06-30", "2024-07-31", "2024-08-31"}, 12},
		{"integers", []string{"1", "2", "3", "4"}, 0, []string{"5", "6", "7"}, 1},
		{"opaque", []string{"Q1", "Q2"}, 0, []string{"3", "4", "5"}, 1},
		{"mixed", []string{"2024-01", "2024-02-01"}, 0, []string{"3", "4", "5"}, 1},
		{"invalid month", []string{"2024-13"}, 0, []string{"2", "3", "4"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, season := continuePeriods(tc.periods, 3, tc.season)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if season != tc.wantSeason {
				t.Errorf("season %d, want %d", season, tc.wantSeason)
			}
		})
	}
}
