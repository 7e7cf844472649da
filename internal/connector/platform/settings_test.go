package platform

import "testing"

func TestSettingChecks(t *testing.T) {
	for _, ok := range []string{"", "http://127.0.0.1:9000", "https://fake.example/api"} {
		if err := CheckURLSetting("X_URL", ok); err != nil {
			t.Errorf("CheckURLSetting(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"fake.example", "ftp://fake.example", "https://", "::"} {
		if err := CheckURLSetting("X_URL", bad); err == nil {
			t.Errorf("CheckURLSetting(%q) accepted", bad)
		}
	}
	if err := CheckAppPair("ID", "a", "SECRET", "b"); err != nil {
		t.Error(err)
	}
	if err := CheckAppPair("ID", "", "SECRET", ""); err != nil {
		t.Error(err)
	}
	if err := CheckAppPair("ID", "a", "SECRET", ""); err == nil {
		t.Error("a half-configured app accepted")
	}
}
