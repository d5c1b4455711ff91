package sekisho

// Roles, each allowed what the one before it is and more.
const (
	RoleGuard   = "guard"
	RoleManager = "manager"
	RoleAdmin   = "admin"
	// RoleAuditor is a token's alone: it reads the log's checkpoints,
	// tiles and proofs, and nothing else of the site.
	RoleAuditor = "auditor"
)

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return r == RoleGuard || r == RoleManager || r == RoleAdmin }

// ValidTokenRole reports whether an API token may have role r.
func ValidTokenRole(r string) bool { return ValidRole(r) || r == RoleAuditor }

// Principal is who is making a request: a dashboard user or an API token.
type Principal struct {
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Zones []string `json:"zones,omitempty"` // a manager's zones; empty is all
}
