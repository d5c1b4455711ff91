package sekisho

// Visit is one visitor's day at the site.
type Visit struct {
	ID          string   `json:"id"`
	PersonID    string   `json:"person_id"`
	Name        string   `json:"name"`
	Company     string   `json:"company"`
	HostID      string   `json:"host_id"`
	HostName    string   `json:"host_name"`
	Purpose     string   `json:"purpose"`
	Day         string   `json:"day"`
	Zones       []string `json:"zones"`
	NDARef      string   `json:"nda_ref"`
	BriefedBy   string   `json:"briefed_by"`
	BriefedAt   string   `json:"briefed_at"`
	PhoneLocker string   `json:"phone_locker"`
	Status      string   `json:"status"`
	Card        *uint64  `json:"card,omitempty"` // the day badge's number while checked in
	CheckedIn   string   `json:"checked_in"`
	CheckedOut  string   `json:"checked_out"`
}

// A visit's states: registered at the desk, checked in with a day badge,
// checked out when the badge came back (at the desk or an inside-only door).
const (
	VisitRegistered = "registered"
	VisitCheckedIn  = "checked_in"
	VisitCheckedOut = "checked_out"
)

// Visitor is the person a visit is for, as the log names them.
func (v Visit) Visitor() Person {
	return Person{ID: v.PersonID, Name: v.Name, Kind: KindVisitor, Company: v.Company}
}

// VisitQuery searches visits; empty fields match all.
type VisitQuery struct {
	Company, Person, Host string // substrings of the company, visitor's name, host's name or id
	From, To              string // YYYY-MM-DD, inclusive
	Status                string
}
