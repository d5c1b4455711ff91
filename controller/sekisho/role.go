package sekisho

// Roles, each allowed what the one before it is and more.
const (
	RoleGuard   = "guard"
	RoleManager = "manager"
	RoleAdmin   = "admin"
)

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return r == RoleGuard || r == RoleManager || r == RoleAdmin }

// Principal is who is making a request: a dashboard user or an API token.
type Principal struct {
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Zones []string `json:"zones,omitempty"` // a manager's zones; empty is all
}
