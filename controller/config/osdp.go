package config

import "sort"

// OSDPReader is where an OSDP reader is wired: its RS-485 line, its address
// on that bus and the line's speed. A reader not named under osdp is
// Wiegand, on the pins its board file gives it.
type OSDPReader struct {
	Port    string `yaml:"port"`    // /dev/ttyAMA0; under hardware: sim, any name (a simulated line)
	Address *int   `yaml:"address"` // 0–126, one per reader on a line
	Baud    int    `yaml:"baud"`    // 9600 (the default), 19200, 38400, 57600 or 115200
}

// DefaultOSDPBaud is OSDP's own default speed.
const DefaultOSDPBaud = 9600

var osdpBauds = map[int]bool{9600: true, 19200: true, 38400: true, 57600: true, 115200: true}

func (c *checker) validateOSDP(cfg *Config) {
	ids := make([]string, 0, len(cfg.OSDP))
	for id := range cfg.OSDP {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	type slot struct {
		port string
		addr int
	}
	taken := map[slot]string{}
	bauds := map[string]int{}
	for _, id := range ids {
		r := cfg.OSDP[id]
		p := path{"osdp", id}
		if _, _, ok := cfg.ReaderDoor(id); !ok {
			c.at(p, "no door has a reader %q", id)
		}
		if r.Port == "" {
			c.at(p.with("port"), "port is missing: the serial line the reader is on, e.g. /dev/ttyAMA0")
		}
		if r.Baud == 0 {
			r.Baud = DefaultOSDPBaud
		} else if !osdpBauds[r.Baud] {
			c.at(p.with("baud"), "baud %d: want 9600, 19200, 38400, 57600 or 115200", r.Baud)
		}
		if b, ok := bauds[r.Port]; ok && b != r.Baud {
			c.at(p.with("baud"), "baud %d: another reader on %s runs at %d, and a line has one speed", r.Baud, r.Port, b)
		}
		bauds[r.Port] = r.Baud
		switch {
		case r.Address == nil:
			c.at(p.with("address"), "address is missing: the reader's OSDP address, 0–126")
		case *r.Address < 0 || *r.Address > 126:
			c.at(p.with("address"), "address %d: want 0–126 (127 is every reader at once)", *r.Address)
		default:
			s := slot{r.Port, *r.Address}
			if other, ok := taken[s]; ok {
				c.at(p.with("address"), "address %d on %s is reader %s's already", *r.Address, r.Port, other)
			}
			taken[s] = id
		}
		cfg.OSDP[id] = r
	}
}
