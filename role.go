package phantomos

// Role is a user's place in a publisher's team.
type Role string

// The four roles, from most to least powerful.
const (
	RoleOwner   Role = "owner"
	RoleAdmin   Role = "admin"
	RoleMember  Role = "member"
	RoleAnalyst Role = "analyst"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMember, RoleAnalyst}

// ParseRole returns the role named s or an EINVALID error.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Errorf(EINVALID, "Role %q must be one of owner, admin, member or analyst.", s)
}

// rank orders roles: a higher rank can do everything a lower one can.
func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleMember:
		return 2
	case RoleAnalyst:
		return 1
	}
	return 0
}

// AtLeast reports whether r is as powerful as other.
func (r Role) AtLeast(other Role) bool { return r.rank() >= other.rank() && r.rank() > 0 }

// Permission is a capability of DESIGN.md §4. Every route declares the one it
// needs.
type Permission string

// The capabilities, each granted from a minimum role upward.
const (
	// PermPublic needs no sign-in at all (login page, health checks).
	PermPublic Permission = "public"
	// PermView: dashboards, intelligence, products, exports. Every role.
	PermView Permission = "view"
	// PermEdit: tag products, manage game IPs and assets, run imports.
	PermEdit Permission = "edit"
	// PermConnectors: manage connectors and their credentials.
	PermConnectors Permission = "connectors"
	// PermTeam: invitations, roles, members, API keys, audit log.
	PermTeam Permission = "team"
	// PermOrganization: organization settings, billing, deletion, ownership.
	PermOrganization Permission = "organization"
)

// minRole is the least powerful role holding each permission.
var minRole = map[Permission]Role{
	PermView:         RoleAnalyst,
	PermEdit:         RoleMember,
	PermConnectors:   RoleAdmin,
	PermTeam:         RoleAdmin,
	PermOrganization: RoleOwner,
}

// Can reports whether role r holds permission p.
func (r Role) Can(p Permission) bool {
	if p == PermPublic {
		return true
	}
	min, ok := minRole[p]
	return ok && r.AtLeast(min)
}
