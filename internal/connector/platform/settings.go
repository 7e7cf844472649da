package platform

import (
	"fmt"
	"net/url"
)

// CheckURLSetting reports a setting (the environment variable name, and
// its value) that is set but is not an absolute http or https URL, as a
// platform's Registration.New checks its address overrides. "" is fine.
func CheckURLSetting(name, value string) error {
	if value == "" {
		return nil
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q must be an absolute http or https URL", name, value)
	}
	return nil
}

// CheckAppPair reports an app half configured: one of its client id and
// secret settings set without the other.
func CheckAppPair(idName, id, secretName, secret string) error {
	if (id == "") != (secret == "") {
		return fmt.Errorf("%s and %s must be set together", idName, secretName)
	}
	return nil
}
