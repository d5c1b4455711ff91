package config

import (
	"slices"
	"testing"
)

// The zones crossed from the street: a visitor for the press goes through
// the lobby and the floor; a zone no door leads to is unreachable.
func TestPathTo(t *testing.T) {
	cfg := &Config{
		Zones: []Zone{{ID: "outside", Public: true}, {ID: "lobby"}, {ID: "floor"}, {ID: "die-press"}, {ID: "vault"}},
		Doors: []Door{
			{ID: "main", From: "outside", To: "lobby"},
			{ID: "floor-door", From: "lobby", To: "floor"},
			{ID: "press-door", From: "floor", To: "die-press"},
			{ID: "vault-exit", From: "vault", To: "floor"}, // leads out of the vault only
		},
	}
	tests := []struct {
		zone string
		want []string
		ok   bool
	}{
		{"die-press", []string{"lobby", "floor", "die-press"}, true},
		{"lobby", []string{"lobby"}, true},
		{"outside", nil, true},
		{"vault", nil, false},
		{"nowhere", nil, false},
	}
	for _, tt := range tests {
		got, ok := cfg.PathTo(tt.zone)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("PathTo(%s) = %v %v, want %v %v", tt.zone, got, ok, tt.want, tt.ok)
		}
	}
}
