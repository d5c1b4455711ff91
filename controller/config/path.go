package config

// PathTo is the zones a person crosses from the street (any public zone)
// to reach zone, ending with zone itself, through the doors in the way
// they are entered (from → to): the fewest doors, the first door in the
// config first. ok is false when no door leads there.
func (c *Config) PathTo(zone string) (path []string, ok bool) {
	if z, found := c.Zone(zone); !found {
		return nil, false
	} else if z.Public {
		return nil, true
	}
	came := map[string]string{} // zone → the zone it was reached from
	var queue []string
	for _, z := range c.Zones {
		if z.Public {
			came[z.ID] = ""
			queue = append(queue, z.ID)
		}
	}
	for len(queue) > 0 {
		at := queue[0]
		queue = queue[1:]
		if at == zone {
			for ; at != "" && !c.isPublic(at); at = came[at] {
				path = append([]string{at}, path...)
			}
			return path, true
		}
		for _, d := range c.Doors {
			if _, seen := came[d.To]; d.From == at && !seen {
				came[d.To] = at
				queue = append(queue, d.To)
			}
		}
	}
	return nil, false
}

func (c *Config) isPublic(zone string) bool {
	z, _ := c.Zone(zone)
	return z.Public
}
