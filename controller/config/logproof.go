package config

import (
	"strings"
	"unicode"

	tnote "github.com/transparency-dev/formats/note"
)

// logProof checks what the log's checkpoints are signed and countersigned
// under.
func (c *checker) logProof(cfg *Config) {
	st := &cfg.Storage
	if st.Origin == "" {
		st.Origin = "sekisho/" + cfg.Site
	} else if !ValidOrigin(st.Origin) {
		c.at(path{"storage", "origin"}, "%q: a log's name has no spaces, no '+' and no control characters", st.Origin)
	}
	seen := map[string]int{}
	for i, k := range st.Witnesses {
		v, err := tnote.NewVerifierForCosignatureV1(k)
		if err != nil {
			c.at(path{"storage", "witnesses", i}, "%q is not a verifier key (name+id+key, as `controller checkpoints key` or a witness prints it): %v", k, err)
			continue
		}
		if j, dup := seen[v.Name()]; dup {
			c.at(path{"storage", "witnesses", i}, "a second key named %q (the first is item %d)", v.Name(), j)
		}
		seen[v.Name()] = i
	}
}

// ValidOrigin says whether s can name a log in a signed note.
func ValidOrigin(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r == '+' || unicode.IsSpace(r) || unicode.IsControl(r)
	})
}
