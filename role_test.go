package phantomos

import "testing"

// TestCapabilityTable is DESIGN.md §4, row by row.
func TestCapabilityTable(t *testing.T) {
	table := []struct {
		perm Permission
		want map[Role]bool
	}{
		{PermView, map[Role]bool{RoleOwner: true, RoleAdmin: true, RoleMember: true, RoleAnalyst: true}},
		{PermEdit, map[Role]bool{RoleOwner: true, RoleAdmin: true, RoleMember: true, RoleAnalyst: false}},
		{PermConnectors, map[Role]bool{RoleOwner: true, RoleAdmin: true, RoleMember: false, RoleAnalyst: false}},
		{PermTeam, map[Role]bool{RoleOwner: true, RoleAdmin: true, RoleMember: false, RoleAnalyst: false}},
		{PermOrganization, map[Role]bool{RoleOwner: true, RoleAdmin: false, RoleMember: false, RoleAnalyst: false}},
		{PermPublic, map[Role]bool{RoleOwner: true, RoleAdmin: true, RoleMember: true, RoleAnalyst: true}},
	}
	for _, row := range table {
		for _, r := range Roles {
			if got := r.Can(row.perm); got != row.want[r] {
				t.Errorf("%s.Can(%s) = %v, want %v", r, row.perm, got, row.want[r])
			}
		}
	}
	if Role("").Can(PermView) || Role("root").Can(PermView) {
		t.Error("an unknown role holds a permission")
	}
	if Permission("bogus") != "" && RoleOwner.Can("bogus") {
		t.Error("owner holds an undeclared permission")
	}
}

func TestParseRole(t *testing.T) {
	if r, err := ParseRole("admin"); err != nil || r != RoleAdmin {
		t.Errorf("ParseRole(admin) = %v, %v", r, err)
	}
	if _, err := ParseRole("Admin"); ErrorCode(err) != EINVALID {
		t.Errorf("ParseRole(Admin) err = %v, want invalid", err)
	}
}

func TestErrorCodes(t *testing.T) {
	if ErrorCode(nil) != "" || ErrorMessage(nil) != "" {
		t.Error("nil error has a code or message")
	}
	wrapped := fmtErrorf("store: x: %w", Errorf(ENOTFOUND, "Product not found."))
	if ErrorCode(wrapped) != ENOTFOUND || ErrorMessage(wrapped) != "Product not found." {
		t.Errorf("wrapped: %q %q", ErrorCode(wrapped), ErrorMessage(wrapped))
	}
	plain := fmtErrorf("disk on fire")
	if ErrorCode(plain) != EINTERNAL || ErrorMessage(plain) == "disk on fire" {
		t.Errorf("internal error leaks or is miscoded: %q %q", ErrorCode(plain), ErrorMessage(plain))
	}
}

func TestMoneyString(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		want string
	}{
		{Money{1250, "USD"}, "12.50 USD"},
		{Money{-5, "EUR"}, "-0.05 EUR"},
		{Money{1500, "JPY"}, "1500 JPY"},
		{Money{1234, "KWD"}, "1.234 KWD"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%v.String() = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestPublisherValidate(t *testing.T) {
	ok := Publisher{Name: "N", Slug: "ok-slug", ReportingCurrency: "USD", Timezone: "Europe/Paris", SubscriptionTier: "starter"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Publisher){
		"no name":       func(p *Publisher) { p.Name = "" },
		"upper slug":    func(p *Publisher) { p.Slug = "Bad" },
		"dash slug":     func(p *Publisher) { p.Slug = "-bad" },
		"currency":      func(p *Publisher) { p.ReportingCurrency = "usd" },
		"timezone":      func(p *Publisher) { p.Timezone = "Mars/Olympus" },
		"tier":          func(p *Publisher) { p.SubscriptionTier = "gold" },
		"one-char slug": func(p *Publisher) { p.Slug = "a" },
	} {
		p := ok
		mutate(&p)
		if err := p.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("%s: Validate = %v, want invalid", name, err)
		}
	}
}
