package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// CardRange reads "1-50" or "77".
func CardRange(s string) (from, to uint64, err error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	if from, err = strconv.ParseUint(a, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("card numbers %q: want N or N-M", s)
	}
	to = from
	if isRange {
		if to, err = strconv.ParseUint(b, 10, 64); err != nil || to < from {
			return 0, 0, fmt.Errorf("card numbers %q: want N or N-M with N <= M", s)
		}
	}
	return from, to, nil
}

// CheckBrokerExposure refuses a broker that admits anyone (no users) on an
// address other machines can reach: anyone on the plant network could then
// publish to the doors' topics.
func CheckBrokerExposure(listen string, users int) error {
	if users > 0 || IsLoopback(listen) {
		return nil
	}
	return fmt.Errorf("%q is reachable from the network, and with no users anyone there could publish: "+
		"add mqtt.embedded.users (and tls), or listen on 127.0.0.1", listen)
}

// CheckHTTPExposure refuses a dashboard reachable from the network in plain
// HTTP: guards' passwords and session cookies would cross the plant LAN
// where anyone can read them.
func CheckHTTPExposure(listen string, tls *TLS) error {
	if tls != nil || IsLoopback(listen) {
		return nil
	}
	return fmt.Errorf("%q is reachable from the network in plain HTTP, where passwords and sessions can be read on the way: "+
		"add http.tls (self_signed: true for a Pi on a LAN), or listen on 127.0.0.1", listen)
}

// IsLoopback reports whether a listen address is on this machine only.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
