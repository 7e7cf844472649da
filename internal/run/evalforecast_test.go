package run

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// classicEvalData makes an eval-data folder holding only the shared
// classic series, skipping when they are absent.
func classicEvalData(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "eval-data", "forecast-classic-series"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src); err != nil {
		t.Skipf("shared evaluation data absent: %v", err)
	}
	data := t.TempDir()
	if err := os.Symlink(src, filepath.Join(data, "forecast-classic-series")); err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEvalForecastROptions(t *testing.T) {
	data := classicEvalData(t)
	out, _, err := runCLI(t, nil, "", "eval", "forecast", "--data", data, "--sets", "classic", "--r", "off")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"classic series: 8 series", "R: skipped (--r off)", "SUMMARY", "Seasonal naive"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Without Rscript on PATH, auto skips R and says why; on is an error.
	t.Setenv("PATH", t.TempDir())
	out, _, err = runCLI(t, nil, "", "eval", "forecast", "--data", data, "--sets", "classic")
	if err != nil || !strings.Contains(out, "R: skipped ets(): no Rscript on PATH") {
		t.Errorf("auto without R: err %v, output:\n%s", err, out)
	}
	if _, _, err := runCLI(t, nil, "", "eval", "forecast", "--data", data, "--sets", "classic", "--r", "on"); err == nil || !strings.Contains(err.Error(), "no Rscript on PATH") {
		t.Errorf("--r on without R: err %v", err)
	}
	for _, args := range [][]string{
		{"--r", "maybe"},
		{"--r-methods", "ets,prophet"},
		{"--r-cores", "0"},
	} {
		_, _, err := runCLI(t, nil, "", append([]string{"eval", "forecast", "--data", data, "--sets", "classic"}, args...)...)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%v: err %v, want a usage error", args, err)
		}
	}
	if _, _, err := runCLI(t, nil, "", "eval", "forecast", "--data", data, "--sets", "yearly", "--r", "off"); err == nil || !strings.Contains(err.Error(), "yearly") {
		t.Errorf("unknown set: err %v", err)
	}
}
